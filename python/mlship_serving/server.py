"""`serve.py serve`: check the artifact, then serve with N worker processes on one socket.

The parent checks the digest, imports the heavy libraries and the features package once, binds the
port, and forks the workers (copy-on-write: they start in milliseconds and share those pages). Each
worker loads the model, predicts the warm-up record, marks itself ready in the shared metrics map and
serves on the inherited socket; the health routes answer 200 only once every worker is ready. A
worker that dies after it was ready is restarted; one that fails before (a model that does not load)
stops the server with its error. Workers die with the parent (PR_SET_PDEATHSIG), so a SIGKILL of the
server leaves no worker answering.

Environment, read once at start-up:
    port         the first platform port variable set (platforms.py), else 8080
    host         MLSHIP_HOST (default 0.0.0.0)
    workers      MLSHIP_WORKERS, else serving.workers, else the CPUs this container may use
                 (CPU affinity, and the cgroup CPU quota rounded up)
    model folder platforms.py's folders; the first one holding the artifact wins
    logs         MLSHIP_LOG_DIR (default logs/ beside serve.py)
    version      MLSHIP_VERSION (default "dev"): in logs, metrics and the X-Model-Version header

HTTP: uvicorn with httptools and uvloop, as in the image; where they are missing (an interpreter that
predates mlship requiring them) it serves through uvicorn's h11/asyncio fallback and says so at start-up
and in the health body ("http"), which `mlship status` shows.
"""

import math
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from types import FrameType

from . import platforms
from .artifact import StartupError, checked_artifact, fail
from .metrics import SharedMetrics
from .spec import Spec

# With one worker per core, a worker's numeric libraries must not start a thread per core each.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cgroup_cpu_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """CPUs the cgroup's quota allows (a float), or None without a quota (v2 cpu.max, then v1)."""
    try:
        with open(os.path.join(root, "cpu.max")) as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as f:
            v1_quota = int(f.read())
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as f:
            v1_period = int(f.read())
        return None if v1_quota <= 0 else v1_quota / v1_period
    except (OSError, ValueError):
        return None


def available_cpus(root: str = "/sys/fs/cgroup") -> int:
    """The CPUs this process may use: its affinity, capped by the cgroup quota (rounded up)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count() or 1
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        n = min(n, max(1, math.ceil(quota)))
    return n


def worker_count(spec: Spec, environ: Mapping[str, str] = os.environ) -> int:
    """MLSHIP_WORKERS, else serving.workers, else the CPUs this container may use."""
    raw = environ.get("MLSHIP_WORKERS", "").strip()
    if raw:
        if not raw.isdigit() or not 0 < int(raw) <= 256:
            raise StartupError(f"MLSHIP_WORKERS={raw!r} is not a number of workers (1-256)")
        return int(raw)
    return spec.workers or available_cpus()


def listen_port(environ: Mapping[str, str] = os.environ) -> int:
    """The port of the first platform variable set (platforms.py), else 8080."""
    name, value = platforms.port(environ)
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StartupError(f"{name}={value!r} is not a port number")
    return int(value)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        raise StartupError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def http_stack() -> tuple[str, str]:
    """uvicorn's HTTP parser and event loop here: ("httptools", "uvloop") as in the image, else the fallbacks."""
    http = "httptools" if _importable("httptools") else "h11"
    loop = "uvloop" if sys.platform != "win32" and _importable("uvloop") else "asyncio"
    return http, loop


def serve(spec: Spec, build_dir: str) -> None:
    """Check the artifact, bind the port and serve until stopped (`serve.py serve`)."""
    environ = os.environ
    try:
        port = listen_port(environ)
        workers = worker_count(spec, environ)
        build, artifact = checked_artifact(build_dir, spec.model_file, environ)
    except StartupError as e:
        fail(str(e))
    if workers > 1:
        for name in THREAD_VARIABLES:
            environ.setdefault(name, "1")
    # torch, onnxruntime and LightGBM threads per worker (loaders.threads): the CPUs shared among them.
    environ.setdefault("MLSHIP_THREADS", str(max(1, available_cpus() // workers)))
    host = environ.get("MLSHIP_HOST") or "0.0.0.0"
    version = environ.get("MLSHIP_VERSION") or "dev"
    log_folder = environ.get("MLSHIP_LOG_DIR") or os.path.join(build_dir, "logs")
    try:
        os.makedirs(log_folder, exist_ok=True)
    except OSError as e:
        fail(f"cannot create the prediction log folder {log_folder}: {e}")

    # Imported once here: forked workers share them.
    import uvicorn

    from . import loaders
    from .app import create_app
    from .handlers import Handlers, Settings
    from .predictor import Predictor
    from .validation import Validator

    routes = platforms.routes(environ)
    shared = SharedMetrics([*routes.predict, *routes.health, "/feedback"], workers)
    http, loop = http_stack()
    settings = Settings(version, build.get("id", "unknown"), log_folder, routes, f"uvicorn+{http}+{loop}")
    validator = Validator(spec.fields, spec.max_request_records, spec.output == "value")
    predictor = Predictor(spec)
    try:
        sock = _bind(host, port)
    except StartupError as e:
        fail(str(e))

    def worker(index: int) -> None:
        predictor.run = loaders.load_for(spec, artifact)
        try:
            predictor([validator.check_record(spec.warm_record)])
        except Exception as e:  # warming is an optimisation; a real request reports real errors
            sys.stderr.write(f"mlship serve: warm-up prediction failed: {type(e).__name__}: {e}\n")
        metrics = shared.row(index)
        app = create_app(Handlers(spec, settings, predictor, validator, shared, metrics))
        config = uvicorn.Config(app, http=http, loop=loop, log_level="warning", access_log=False, lifespan="off", server_header=False, date_header=False)
        metrics.ready()
        uvicorn.Server(config).run(sockets=[sock])

    batching = f"batches of up to {spec.max_batch}" if spec.max_batch else "no batching"
    sys.stderr.write(
        f"mlship serve: {spec.name} {version} on http://{host}:{port}, {workers} worker{'s' if workers > 1 else ''}, {batching}, {settings.http} (logs in {log_folder})\n"
    )
    missing = " and ".join(m for m, ok in (("httptools", http == "httptools"), ("uvloop", loop == "uvloop" or sys.platform == "win32")) if not ok)
    if missing:
        sys.stderr.write(
            f"mlship serve: warning: {missing} cannot be imported by {sys.executable}, so this serves on uvicorn's slow fallback "
            f"({http}/{loop}, about half the image's throughput); fix: {sys.executable} -m pip install httptools uvloop, "
            "or run `mlship build` again (it makes .mlship/venv)\n"
        )
    if workers == 1:
        worker(0)
    else:
        sys.exit(_supervise(workers, worker, shared))


def _supervise(workers: int, worker: Callable[[int], None], shared: SharedMetrics) -> int:
    """Fork the workers and keep them running until SIGTERM/SIGINT; the exit code of the server."""
    parent = os.getpid()
    children: dict[int, int] = {}
    stopping: list[int] = []

    def start(index: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                _die_with_parent(parent)
                worker(index)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException as e:
                sys.stderr.write(f"mlship serve: worker {index} failed: {type(e).__name__}: {e}\n")
            finally:
                sys.stderr.flush()
                os._exit(code)
        children[pid] = index

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for i in range(workers):
        start(i)
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        index = children.pop(pid, None)
        if index is None or stopping:
            continue
        row = shared.row(index)
        exit_code = os.waitstatus_to_exitcode(status)
        if not row.is_ready():
            # It never got ready: the next one would fail the same way.
            sys.stderr.write(f"mlship serve: worker {index} failed to start (exit {exit_code}); stopping\n")
            stop(signal.SIGTERM, None)
            code = 1
            continue
        row.ready(False)
        sys.stderr.write(f"mlship serve: worker {index} exited ({exit_code}); starting another\n")
        start(index)
    return code
