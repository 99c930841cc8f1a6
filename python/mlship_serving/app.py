"""The ASGI app of one worker.

Why a raw ASGI app and not FastAPI: the hot path must cost less than FastAPI's request parsing and
response encoding (`npm run bench` compares it with a bare FastAPI endpoint doing only the model
call). One dict lookup routes a request, orjson parses and encodes, the schema check is a loop over a
tuple, and concurrent requests share one transform + predict call (batching.py).
"""

import asyncio
import os
import sys
import time

import orjson

from . import logs, openapi
from .batching import Batcher, Job
from .validation import BadRequest

_JSON_HEADER = (b"content-type", b"application/json")
_ID_OK = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_perf = time.perf_counter
# A refused body is read and dropped before the answer, so the client sees the 413/415 instead of a
# connection reset (closing a socket with unread data resets it): up to this many bytes, and only
# while the client keeps sending (it may have declared a body it never sends).
DRAIN_LIMIT = 64 << 20
DRAIN_IDLE_SECONDS = 0.5


async def drain(receive, headers, received=0):
    """Read and drop the rest of a refused request body (bounded in bytes and idle time)."""
    for k, v in headers:
        if k == b"expect" and v.lower() == b"100-continue":
            return  # the client waits for our answer before sending the body
    while received < DRAIN_LIMIT:
        try:
            message = await asyncio.wait_for(receive(), DRAIN_IDLE_SECONDS)
        except TimeoutError:
            return
        if message["type"] != "http.request":
            return
        received += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def request_id(headers):
    """The client's X-Request-Id when it is 1-64 letters, digits, '.', '_' or '-', else a new one."""
    for k, v in headers:
        if k == b"x-request-id":
            if 0 < len(v) <= 64 and all(c in _ID_OK for c in v):
                return v.decode()
            break
    return os.urandom(12).hex()


class Settings:
    """What the environment decides at start-up (see server.py)."""

    def __init__(self, version, build_id, log_folder, routes, http="uvicorn+httptools+uvloop"):
        self.version = version
        self.http = http
        self.build_id = build_id
        self.log_folder = log_folder
        self.routes = routes


def create_app(spec, settings, predictor, validator, shared, metrics):
    """The ASGI callable of one worker; `metrics` is its row of `shared` (the map every worker sees)."""
    version = settings.version
    version_b = version.encode()
    name = spec.name
    plog = logs.DailyLog(settings.log_folder)
    flog = logs.DailyLog(settings.log_folder, "feedback")
    health_routes = settings.routes.health
    predict_routes = settings.routes.predict
    health_body = orjson.dumps({"status": "ok", "model": name, "version": version, "build": settings.build_id, "http": settings.http})
    loading_body = orjson.dumps({"status": "loading", "model": name, "version": version, "build": settings.build_id})
    openapi_body = orjson.dumps(openapi.document(spec, version, settings.routes))
    max_body = spec.max_body
    dumps = orjson.dumps
    newline = orjson.OPT_APPEND_NEWLINE

    def run_batch(jobs):
        """One transform + one predict for every record of `jobs`, one log write, then each job's result."""
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
                    run_batch([j])
                return
            sys.stderr.write(f"mlship serve: prediction {jobs[0].rid} failed: {type(e).__name__}: {e}\n")
            jobs[0].error = (500, f"prediction failed: {type(e).__name__}")
            return
        t4 = _perf()
        now = time.time()
        ts = logs.iso(now)
        lines = []
        at = 0
        for j in jobs:
            n = len(j.records)
            mine = predictions[at : at + n]
            at += n
            j.result = mine
            latency = round((t4 - j.t0) * 1000, 3)
            if not j.batch:
                lines.append(
                    dumps(
                        {"ts": ts, "id": j.rid, "model": name, "version": version, "input": j.records[0], "output": mine[0], "latency_ms": latency},
                        option=newline,
                    )
                )
            else:
                rid = j.rid
                lines += [
                    dumps({"ts": ts, "id": f"{rid}-{i}", "model": name, "version": version, "input": r, "output": p, "latency_ms": latency}, option=newline)
                    for i, (r, p) in enumerate(zip(j.records, mine))
                ]
        try:
            plog.write(now, b"".join(lines))
        except OSError as e:
            sys.stderr.write(f"mlship serve: cannot write the prediction log in {settings.log_folder}: {e}\n")
            for j in jobs:
                j.result = None
                j.error = (503, "the prediction log is not writable; no prediction was returned")
            return
        t5 = _perf()
        metrics.batch(len(records))
        for j in jobs:
            j.stages = (start - j.queued, t2 - start, t3 - t2, t4 - t3, t5 - t4)
            j.size = len(records)

    batcher = Batcher(run_batch, spec.max_batch, spec.max_wait_ms)

    async def respond(send, status, body, rid, extra=()):
        headers = [_JSON_HEADER, (b"x-request-id", rid.encode()), (b"x-model-version", version_b)]
        headers.extend(extra)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def error(send, route, status, message, rid, field=None):
        metrics.count(route, status)
        await respond(send, status, dumps(BadRequest(status, message, field).body()), rid)

    async def bad_request(send, route, e, rid):
        metrics.count(route, e.status)
        await respond(send, e.status, dumps(e.body()), rid)

    async def read_body(receive, headers):
        declared = None
        content_type = None
        for k, v in headers:
            if k == b"content-length":
                declared = v
            elif k == b"content-type":
                content_type = v
        if content_type is not None:
            mime = content_type.split(b";", 1)[0].strip().lower()
            if mime != b"application/json" and not mime.endswith(b"+json"):
                await drain(receive, headers)
                raise BadRequest(
                    415, f"Content-Type must be application/json, got {content_type.decode('latin-1')[:60]} (curl: add -H 'Content-Type: application/json')"
                )
        if declared is not None and (not declared.isdigit() or int(declared) > max_body):
            await drain(receive, headers)
            raise BadRequest(413, f"the body is larger than {max_body} bytes")
        chunks = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_body:
                if message.get("more_body", False):
                    await drain(receive, headers, size)
                raise BadRequest(413, f"the body is larger than {max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def read_json(receive, headers):
        """The request body as JSON; 400 when it is not JSON, 413/415 from read_body."""
        body = await read_body(receive, headers)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise BadRequest(400, f"malformed JSON: {e}") from None

    async def predict(scope, receive, send, shape):
        t0 = _perf()
        rid = request_id(scope["headers"])
        route = scope["path"]
        try:
            payload = await read_json(receive, scope["headers"])
            records, batch = validator.check_payload(payload)
        except BadRequest as e:
            return await bad_request(send, route, e, rid)
        job = Job(records, batch, t0, _perf(), rid)
        await batcher.submit(job)
        if job.result is None:
            status, message = job.error or (500, "prediction failed")
            return await error(send, route, status, message, rid)
        queue, features, model, post, log = job.stages
        predictions = job.result
        if shape == "predictions":
            out = {"predictions": predictions}
        elif batch:
            out = {"id": rid, "version": version, "predictions": predictions}
        else:
            out = {"id": rid, "version": version, "prediction": predictions[0]}
        validate = job.queued - t0
        timing = (
            f"validate;dur={validate * 1000:.3f}, queue;dur={queue * 1000:.3f}, features;dur={features * 1000:.3f}, "
            f"model;dur={model * 1000:.3f}, post;dur={post * 1000:.3f}, log;dur={log * 1000:.3f}"
        )
        metrics.observe(route, _perf() - t0, len(records), (validate, queue, features, model, post, log))
        await respond(send, 200, dumps(out), rid, ((b"server-timing", timing.encode()), (b"x-batch-size", str(job.size).encode())))

    async def feedback(scope, receive, send):
        rid = request_id(scope["headers"])
        try:
            payload = await read_json(receive, scope["headers"])
            labels = validator.check_feedback(payload)
        except BadRequest as e:
            return await bad_request(send, "/feedback", e, rid)
        now = time.time()
        ts = logs.iso(now)
        data = b"".join(dumps({"ts": ts, "id": i, "label": label}, option=newline) for i, label in labels)
        try:
            flog.write(now, data)
        except OSError as e:
            sys.stderr.write(f"mlship serve: cannot write the feedback log in {settings.log_folder}: {e}\n")
            return await error(send, "/feedback", 503, "the feedback log is not writable; no label was recorded", rid)
        metrics.feedback(len(labels))
        await respond(send, 200, dumps({"accepted": len(labels)}), rid)

    async def text(send, rid, body, content_type):
        headers = [(b"content-type", content_type), (b"x-request-id", rid.encode()), (b"x-model-version", version_b)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        path = scope["path"]
        method = scope["method"]
        shape = predict_routes.get(path)
        if shape is not None:
            if method == "POST":
                return await predict(scope, receive, send, shape)
            return await error(send, path, 405, f"{path} accepts POST", request_id(scope["headers"]))
        if path == "/feedback":
            if method == "POST":
                return await feedback(scope, receive, send)
            return await error(send, path, 405, "/feedback accepts POST", request_id(scope["headers"]))
        if path in health_routes:
            if method in ("GET", "HEAD"):
                if shared.all_ready():
                    return await respond(send, 200, health_body, request_id(scope["headers"]))
                # Another worker is still loading the model: not ready to take traffic yet.
                return await respond(send, 503, loading_body, request_id(scope["headers"]))
            return await error(send, path, 405, f"{path} accepts GET", request_id(scope["headers"]))
        if method == "GET" and path == "/metrics":
            body = shared.render(name, version, settings.build_id, spec.flavor)
            return await text(send, request_id(scope["headers"]), body, b"text/plain; version=0.0.4")
        if method == "GET" and path == "/openapi.json":
            return await text(send, request_id(scope["headers"]), openapi_body, b"application/json")
        return await error(send, "other", 404, f"no route {path[:100]}; predictions go to POST /predict", request_id(scope["headers"]))

    return app
