"""The inference server behind the gateway: `llama-server` started here, or one already running.

Started: the binary is MLSHIP_LLAMA_SERVER, else `llama-server` on PATH; it listens on a free port
of 127.0.0.1 only (the gateway is its one client), in the gateway's process group, and dies with the
gateway (PR_SET_PDEATHSIG: even a SIGKILL of the gateway leaves no backend behind). Its output goes
to `llama-server.log` in the log folder. Attached: MLSHIP_LLM_UPSTREAM=<url> names a server that
runs already (another container of the same task, a GPU server); nothing is started or stopped.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import IO, Any

import orjson

from ..artifact import StartupError
from ..spec import LlmSpec


def find_binary(environ: Mapping[str, str] = os.environ) -> str:
    """MLSHIP_LLAMA_SERVER, else `llama-server` on PATH; a StartupError saying how to get one."""
    named = environ.get("MLSHIP_LLAMA_SERVER", "").strip()
    if named:
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            raise StartupError(f"MLSHIP_LLAMA_SERVER={named} is not an executable file; name llama.cpp's llama-server binary")
        return named
    found = shutil.which("llama-server", path=environ.get("PATH"))
    if found is None:
        raise StartupError(
            "llama-server is not on PATH: install llama.cpp (https://github.com/ggml-org/llama.cpp: `cmake -B build && cmake --build build "
            "--target llama-server`) and put its bin/ on PATH, or name the binary in MLSHIP_LLAMA_SERVER"
        )
    return found


# The backend is on 127.0.0.1 or a named host: never through a proxy of the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, timeout_s: float) -> tuple[int, bytes] | None:
    """(status, body) of a GET, or None when nothing answers."""
    try:
        with _opener.open(url, timeout=timeout_s) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""
    except (urllib.error.URLError, OSError, ValueError):
        return None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # In the child between fork and exec: the backend gets SIGTERM when the gateway dies, however it dies.
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def command(binary: str, spec: LlmSpec, model: str, port: int, threads: int) -> list[str]:
    """The llama-server command line for `spec` (its own server_args last: they win)."""
    return [
        binary,
        "--model",
        model,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--alias",
        spec.name,
        "--ctx-size",
        str(spec.context * spec.parallel),
        "--parallel",
        str(spec.parallel),
        "--threads",
        str(threads),
        "--metrics",
        *spec.server_args,
    ]


class Backend:
    """The server the gateway forwards to: its base URL, its context per request, and the process
    when this gateway started it."""

    def __init__(self, url: str, context: int, process: "subprocess.Popen[bytes] | None" = None, name: str = "llama-server") -> None:
        self.url = url.rstrip("/")
        self.context = context
        self.process = process
        self.name = name  # what /health names: llama-server, or the attached server (vllm)

    @classmethod
    def start(cls, spec: LlmSpec, model: str, log_folder: str, threads: int, environ: Mapping[str, str] = os.environ) -> "Backend":
        """Start llama-server on `model` and wait until it has loaded it (spec.load_timeout_s)."""
        binary = find_binary(environ)
        port = free_port()
        argv = command(binary, spec, model, port, threads)
        log_path = os.path.join(log_folder, "llama-server.log")
        log: IO[bytes] = open(log_path, "ab")
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        except OSError as e:
            raise StartupError(f"cannot start {binary}: {e.strerror}") from None
        finally:
            log.close()
        backend = cls(f"http://127.0.0.1:{port}", spec.context, process)
        try:
            backend.wait_ready(spec.load_timeout_s, log_path)
        except BaseException:
            backend.stop()
            raise
        return backend

    @classmethod
    def attach(cls, url: str, spec: LlmSpec, timeout_s: float, name: str = "attached") -> "Backend":
        """A server that runs already (MLSHIP_LLM_UPSTREAM, named by MLSHIP_LLM_BACKEND): wait until it answers, read its context."""
        backend = cls(url, spec.context, name=name)
        backend.wait_ready(timeout_s, None)
        return backend

    def wait_ready(self, timeout_s: float, log_path: str | None) -> None:
        """Poll /health until the model is loaded; then take the context per request from /props."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise StartupError(f"llama-server exited ({self.process.returncode}) while loading the model:\n{tail(log_path)}")
            answer = _get(f"{self.url}/health", 5.0)
            if answer is not None and answer[0] == 200:
                break
            if time.monotonic() > deadline:
                where = f"; its output:\n{tail(log_path)}" if log_path else ""
                raise StartupError(f"the LLM backend at {self.url} was not ready after {timeout_s:.0f}s{where}")
            time.sleep(0.1)
        answer = _get(f"{self.url}/props", 5.0)
        try:
            props = orjson.loads(answer[1]) if answer is not None and answer[0] == 200 else None
        except orjson.JSONDecodeError:
            props = None
        n_ctx = context_of(props)
        if n_ctx is not None:
            self.context = n_ctx

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop the backend this gateway started (SIGTERM, then SIGKILL after `grace_s`)."""
        p = self.process
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(grace_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def context_of(props: Any) -> int | None:
    """The context per request llama-server reports in /props (`default_generation_settings.n_ctx`)."""
    if not isinstance(props, dict):
        return None
    settings = props.get("default_generation_settings")
    n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
    return n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None


def tail(path: str | None, lines: int = 20) -> str:
    if path is None:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")
    except OSError:
        return ""


def upstream_error(status: int, body: bytes) -> dict[str, Any]:
    """The backend's error answer in OpenAI's shape: its own {"error": {...}} when it sent one."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return parsed
    text = body.decode("utf-8", "replace")[:500]
    return {"error": {"message": f"the model server answered {status}: {text}", "type": "server_error", "param": None, "code": None}}
