"""`serve.py serve` for an LlmSpec: check the artifact, start (or attach to) the backend, then serve
the gateway on one process (it only forwards bytes: one event loop keeps up with the backend).

Environment, read once at start-up (besides server.py's port, host, version, log and model folders):
    MLSHIP_LLAMA_SERVER      the llama-server binary (default: `llama-server` on PATH)
    MLSHIP_LLM_UPSTREAM      a backend that runs already (http://host:port): nothing is started
    MLSHIP_LLM_BACKEND       what that backend is, named in /health (the vLLM image's entrypoint: vllm)
    MLSHIP_LLAMA_THREADS     llama-server's threads (default: spec.threads, else the CPUs available)
    MLSHIP_LLM_LOG_CONTENT   full | redacted | hashed (default: spec.log_content)

The backend ends with the gateway: stopped when the gateway stops, and killed by the kernel when
the gateway dies (backend.py).
"""

import os
import sys

from .. import platforms
from ..artifact import StartupError, checked_artifact, fail
from ..server import _bind, available_cpus, http_stack, listen_port
from ..spec import LlmSpec
from .backend import Backend
from .gateway import GatewaySettings, create_gateway
from .openai import LOG_CONTENT


def threads(spec: LlmSpec, environ: dict[str, str] | os._Environ[str]) -> int:
    raw = environ.get("MLSHIP_LLAMA_THREADS", "").strip()
    if raw:
        if not raw.isdigit() or not 0 < int(raw) <= 1024:
            raise StartupError(f"MLSHIP_LLAMA_THREADS={raw!r} is not a number of threads (1-1024)")
        return int(raw)
    return spec.threads or available_cpus()


def serve_llm(spec: LlmSpec, build_dir: str) -> None:
    environ = os.environ
    host = environ.get("MLSHIP_HOST") or "0.0.0.0"
    version = environ.get("MLSHIP_VERSION") or "dev"
    log_folder = environ.get("MLSHIP_LOG_DIR") or os.path.join(build_dir, "logs")
    log_content = environ.get("MLSHIP_LLM_LOG_CONTENT") or spec.log_content
    try:
        if log_content not in LOG_CONTENT:
            raise StartupError(f"MLSHIP_LLM_LOG_CONTENT={log_content!r} is not one of {', '.join(LOG_CONTENT)}")
        port = listen_port(environ)
        build, artifact = checked_artifact(build_dir, spec.model_file, environ)
        n_threads = threads(spec, environ)
        os.makedirs(log_folder, exist_ok=True)
    except StartupError as e:
        fail(str(e))
    except OSError as e:
        fail(f"cannot create the prediction log folder {log_folder}: {e}")

    import uvicorn

    upstream = environ.get("MLSHIP_LLM_UPSTREAM", "").strip()
    try:
        backend = (
            Backend.attach(upstream, spec, spec.load_timeout_s, environ.get("MLSHIP_LLM_BACKEND") or "attached")
            if upstream
            else Backend.start(spec, artifact, log_folder, n_threads, environ)
        )
    except StartupError as e:
        fail(str(e))
    try:
        sock = _bind(host, port)
        routes = platforms.routes(environ)
        settings = GatewaySettings(spec.name, version, build.get("id", "unknown"), log_folder, routes.health, routes.predict, spec.max_body, log_content)
        http, loop = http_stack()
        config = uvicorn.Config(
            create_gateway(settings, backend),
            http=http,
            loop=loop,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
            date_header=False,
            timeout_graceful_shutdown=10,
        )
        where = f"attached to {backend.url}" if upstream else f"llama-server on {backend.url}, {n_threads} thread{'s' if n_threads > 1 else ''}"
        sys.stderr.write(f"mlship serve: {spec.name} {version} (LLM, {where}, context {backend.context}) on http://{host}:{port} (logs in {log_folder})\n")
        uvicorn.Server(config).run(sockets=[sock])
    except StartupError as e:
        fail(str(e))
    finally:
        backend.stop()
