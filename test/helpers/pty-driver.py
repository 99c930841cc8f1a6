"""Drive a command through a real pseudo-terminal, the way a person at a terminal would.

    python3 pty-driver.py STEPS_JSON CMD [ARG...]

STEPS_JSON is a list of [pattern, keys]: wait until the screen output since the previous step
matches the regular expression `pattern` (ANSI codes stripped), then type `keys`. Prints one JSON
object: {"code": exit code, "output": everything the program wrote, ANSI codes stripped}.
"""

import fcntl
import json
import os
import pty
import re
import select
import struct
import sys
import termios
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
TIMEOUT = 30.0


def main():
    steps = json.loads(sys.argv[1])
    cmd = sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    raw = b""
    seen = 0  # offset in the stripped text where the next step starts looking

    def pump(wait):
        nonlocal raw
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        raw += chunk
        return True

    for pattern, keys in steps:
        deadline = time.time() + TIMEOUT
        rx = re.compile(pattern)
        while True:
            text = ANSI.sub("", raw.decode("utf-8", "replace"))
            m = rx.search(text, seen)
            if m:
                seen = m.end()
                break
            if time.time() > deadline or not pump(0.2):
                os.kill(pid, 9)
                print(json.dumps({"code": -1, "output": text, "error": f"timed out waiting for {pattern!r}"}))
                return
        time.sleep(0.1)
        os.write(fd, keys.encode())
    deadline = time.time() + TIMEOUT
    while time.time() < deadline and pump(0.5):
        pass
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"code": code, "output": ANSI.sub("", raw.decode("utf-8", "replace"))}))


if __name__ == "__main__":
    main()
