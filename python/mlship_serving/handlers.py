"""What the app answers, without HTTP: one method per route, taking the request's data (its parsed
JSON body, its id, the route it came on) and returning a `Response` (status, body, extra headers).

app.py is the ASGI layer around this: it routes a request to a method, reads and bounds the body,
and sends the `Response` with the headers every answer carries (X-Request-Id, X-Model-Version).
Unit tests call these methods directly (python/tests/test_handlers.py); the HTTP tests
(test/serving/) run the whole app.
"""

import sys
import time
from typing import Any, NamedTuple

import orjson

from . import logs
from .batching import Batcher, Job
from .metrics import SharedMetrics, WorkerMetrics
from .openapi import document as openapi_document
from .platforms import Routes
from .predictor import Predictor
from .spec import Spec
from .validation import BadRequest, Validator

JSON = b"application/json"
_perf = time.perf_counter
_dumps = orjson.dumps
_NEWLINE = orjson.OPT_APPEND_NEWLINE


class Response(NamedTuple):
    """An answer: the app adds Content-Type (`content_type`), X-Request-Id and X-Model-Version."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()
    content_type: bytes = JSON


class Settings(NamedTuple):
    """What the environment decides at start-up (see server.py)."""

    version: str
    build_id: str
    log_folder: str
    routes: Routes
    #: uvicorn's HTTP parser and event loop (`uvicorn+httptools+uvloop` as in the image): in /health, for `mlship status`.
    http: str = "uvicorn+httptools+uvloop"


class Handlers:
    """The routes of one worker: predictions (micro-batched), feedback, health, metrics, OpenAPI.

    `metrics` is this worker's row of `shared` (the map every worker sees).
    """

    def __init__(self, spec: Spec, settings: Settings, predictor: Predictor, validator: Validator, shared: SharedMetrics, metrics: WorkerMetrics) -> None:
        self.spec = spec
        self.settings = settings
        self.predictor = predictor
        self.validator = validator
        self.shared = shared
        self.metrics = metrics
        self.version = settings.version
        self.predictions_log = logs.DailyLog(settings.log_folder)
        self.feedback_log = logs.DailyLog(settings.log_folder, "feedback")
        build = settings.build_id
        self.health_body = _dumps({"status": "ok", "model": spec.name, "version": self.version, "build": build, "http": settings.http})
        self.loading_body = _dumps({"status": "loading", "model": spec.name, "version": self.version, "build": build})
        self.openapi_body = _dumps(openapi_document(spec, self.version, settings.routes))
        self.batcher = Batcher(self.run_batch, spec.max_batch, spec.max_wait_ms)

    # -- predictions ---------------------------------------------------------------------------

    async def predict(self, payload: Any, rid: str, route: str, shape: str, t0: float) -> Response:
        """POST on a predict route: `payload` is the parsed body, `shape` the route's answer shape
        (mlship | predictions), `t0` when the request arrived (perf_counter)."""
        try:
            records, batch = self.validator.check_payload(payload)
        except BadRequest as e:
            return self.bad_request(route, e)
        job = Job(records, batch, t0, _perf(), rid)
        await self.batcher.submit(job)
        if job.result is None or job.stages is None:
            status, message = job.error or (500, "prediction failed")
            return self.error(route, status, message)
        queue, features, model, post, log = job.stages
        predictions = job.result
        out: dict[str, Any]
        if shape == "predictions":
            out = {"predictions": predictions}
        elif batch:
            out = {"id": rid, "version": self.version, "predictions": predictions}
        else:
            out = {"id": rid, "version": self.version, "prediction": predictions[0]}
        validate = job.queued - t0
        timing = (
            f"validate;dur={validate * 1000:.3f}, queue;dur={queue * 1000:.3f}, features;dur={features * 1000:.3f}, "
            f"model;dur={model * 1000:.3f}, post;dur={post * 1000:.3f}, log;dur={log * 1000:.3f}"
        )
        self.metrics.observe(route, _perf() - t0, len(records), (validate, queue, features, model, post, log))
        return Response(200, _dumps(out), ((b"server-timing", timing.encode()), (b"x-batch-size", str(job.size).encode())))

    def run_batch(self, jobs: list[Job]) -> None:
        """One transform + one predict for every record of `jobs`, one log write, then each job's result."""
        predictor = self.predictor
        start = _perf()
        records = jobs[0].records if len(jobs) == 1 else [r for j in jobs for r in j.records]
        try:
            X = predictor.features(records)
            t2 = _perf()
            raw = predictor.predict(X)
            t3 = _perf()
            predictions = predictor.post(raw)
        except Exception as e:  # a bug in the features package or the model, not the client's fault
            if len(jobs) > 1:
                # Run each request alone: one that breaks the transform fails only itself.
                for j in jobs:
                    self.run_batch([j])
                return
            sys.stderr.write(f"mlship serve: prediction {jobs[0].rid} failed: {type(e).__name__}: {e}\n")
            jobs[0].error = (500, f"prediction failed: {type(e).__name__}")
            return
        t4 = _perf()
        now = time.time()
        ts = logs.iso(now)
        name = self.spec.name
        version = self.version
        lines: list[bytes] = []
        at = 0
        for j in jobs:
            n = len(j.records)
            mine = predictions[at : at + n]
            at += n
            j.result = mine
            latency = round((t4 - j.t0) * 1000, 3)
            if not j.batch:
                lines.append(
                    _dumps(
                        {"ts": ts, "id": j.rid, "model": name, "version": version, "input": j.records[0], "output": mine[0], "latency_ms": latency},
                        option=_NEWLINE,
                    )
                )
            else:
                rid = j.rid
                lines += [
                    _dumps({"ts": ts, "id": f"{rid}-{i}", "model": name, "version": version, "input": r, "output": p, "latency_ms": latency}, option=_NEWLINE)
                    for i, (r, p) in enumerate(zip(j.records, mine))
                ]
        try:
            self.predictions_log.write(now, b"".join(lines))
        except OSError as e:
            sys.stderr.write(f"mlship serve: cannot write the prediction log in {self.settings.log_folder}: {e}\n")
            for j in jobs:
                j.result = None
                j.error = (503, "the prediction log is not writable; no prediction was returned")
            return
        t5 = _perf()
        self.metrics.batch(len(records))
        for j in jobs:
            j.stages = (start - j.queued, t2 - start, t3 - t2, t4 - t3, t5 - t4)
            j.size = len(records)

    # -- the other routes ----------------------------------------------------------------------

    def feedback(self, payload: Any) -> Response:
        """POST /feedback: labels appended to the day's feedback log before the answer."""
        try:
            labels = self.validator.check_feedback(payload)
        except BadRequest as e:
            return self.bad_request("/feedback", e)
        now = time.time()
        ts = logs.iso(now)
        data = b"".join(_dumps({"ts": ts, "id": i, "label": label}, option=_NEWLINE) for i, label in labels)
        try:
            self.feedback_log.write(now, data)
        except OSError as e:
            sys.stderr.write(f"mlship serve: cannot write the feedback log in {self.settings.log_folder}: {e}\n")
            return self.error("/feedback", 503, "the feedback log is not writable; no label was recorded")
        self.metrics.feedback(len(labels))
        return Response(200, _dumps({"accepted": len(labels)}))

    def health(self) -> Response:
        """GET on a health route: 200 once every worker has loaded the model, else 503 (loading)."""
        if self.shared.all_ready():
            return Response(200, self.health_body)
        # Another worker is still loading the model: not ready to take traffic yet.
        return Response(503, self.loading_body)

    def prometheus(self) -> Response:
        """GET /metrics: every worker's counters, summed."""
        body = self.shared.render(self.spec.name, self.version, self.settings.build_id, self.spec.flavor)
        return Response(200, body, content_type=b"text/plain; version=0.0.4")

    def openapi(self) -> Response:
        """GET /openapi.json."""
        return Response(200, self.openapi_body)

    # -- errors --------------------------------------------------------------------------------

    def error(self, route: str, status: int, message: str, field: str | None = None) -> Response:
        """An error answer, counted on `route` (404s on "other")."""
        return self.bad_request(route, BadRequest(status, message, field))

    def bad_request(self, route: str, e: BadRequest) -> Response:
        """A client error (or a 500/503 of ours) as its JSON body, counted on `route`."""
        self.metrics.count(route, e.status)
        return Response(e.status, _dumps(e.body()))
