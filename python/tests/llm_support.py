"""What the LLM gateway's tests share: a build folder as `mlship build` lays it out (serve.py with an
LlmSpec, build.json, the model), the tiny GGUF model (test/fixtures/llm/make_tiny_gguf.py), and the
gateway run for real as `python serve.py serve` on 127.0.0.1, stopped by its pid."""

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAKER = os.path.join(REPO, "test", "fixtures", "llm", "make_tiny_gguf.py")

SERVE_PY = """import os, sys
sys.path.insert(0, {python_dir!r})
from mlship_serving import LlmSpec, main

SPEC = LlmSpec(**{spec!r})

if __name__ == "__main__":
    main(SPEC, os.path.dirname(os.path.abspath(__file__)), sys.argv[1:])
"""


def make_model(folder: str) -> str:
    """The tiny model, made in `folder` (about 0.6 MB, a fraction of a second)."""
    path = os.path.join(folder, "tiny.gguf")
    subprocess.run([sys.executable, MAKER, path], check=True)
    return path


def make_build(folder: str, model: str, **spec: Any) -> str:
    """A build folder serving `model` with an LlmSpec of `spec` (name "tiny", the model's file name)."""
    os.makedirs(os.path.join(folder, "model"), exist_ok=True)
    name = os.path.basename(model)
    target = os.path.join(folder, "model", name)
    with open(model, "rb") as src, open(target, "wb") as dst:
        data = src.read()
        dst.write(data)
    with open(os.path.join(folder, "build.json"), "w") as f:
        json.dump({"id": "llm-test-build", "model": {"sha256": hashlib.sha256(data).hexdigest()}}, f)
    fields = {"name": "tiny", "model_file": name, **spec}
    with open(os.path.join(folder, "serve.py"), "w") as f:
        f.write(SERVE_PY.format(python_dir=os.path.join(REPO, "python"), spec=fields))
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Gateway:
    """`python serve.py serve` in `build`, with `env` added; `url`, `logs` (the log folder)."""

    def __init__(self, build: str, env: dict[str, str], timeout_s: float = 120.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs = os.path.join(build, "logs")
        self.stderr_path = os.path.join(build, "gateway.stderr")
        full = {**os.environ, "PORT": str(self.port), "MLSHIP_HOST": "127.0.0.1", "MLSHIP_VERSION": "v1", "MLSHIP_LOG_DIR": self.logs, **env}
        with open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen([sys.executable, os.path.join(build, "serve.py"), "serve"], env=full, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"the gateway exited ({self.process.returncode}):\n{self.stderr()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the gateway was not healthy after {timeout_s}s:\n{self.stderr()}")
            time.sleep(0.1)

    def stderr(self) -> str:
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_lines(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not os.path.isdir(self.logs):
            return out
        for name in sorted(os.listdir(self.logs)):
            if name.startswith("predictions-"):
                with open(os.path.join(self.logs, name)) as f:
                    out += [json.loads(line) for line in f if line.strip()]
        return out

    def log_of(self, rid: str, timeout_s: float = 10.0) -> dict[str, Any]:
        """The log line of request `rid` (waiting for it: a cancelled request is logged after the client left)."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [line for line in self.log_lines() if line["id"] == rid]
            if found:
                assert len(found) == 1, found
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no log line for {rid} in {self.logs}")
            time.sleep(0.05)


def sse_events(lines: list[str]) -> list[str]:
    """The data of each event of a text/event-stream body given as its lines."""
    return [line[len("data: ") :] for line in lines if line.startswith("data: ")]
