"""The OpenAI-compatible gateway: one ASGI app in front of the backend (backend.py), which it
forwards to over HTTP and whose answers it passes on as they are, logging every request.

Routes:
    POST /v1/chat/completions, /v1/completions   forwarded; streamed when the body says "stream": true
    GET  /v1/models                              the backend's answer
    POST every platform's predict route (platforms.py: /invocations, /score, /predict, AIP_PREDICT_ROUTE)
         a chat body ({"messages"}) answered as /v1/chat/completions, a completion body ({"prompt"}) as
         /v1/completions, streamed or not; on Vertex's route {"instances": [body, ...]} answered exactly
         {"predictions": [answer, ...]} (not streamed; instance i logged as "ID-i"), and an OpenAI body
         as on the other routes (Vertex's rawPredict / streamRawPredict pass the body on as it is)
    GET  /health and every platform's health route (platforms.py)   200 once the backend answers its /health
    GET  /metrics                                Prometheus: the gateway's (llm/metrics.py), then the backend's

What it adds to the backend's answers, and nothing else:
- checks first (openai.check_request): a clear 400/413/415 in OpenAI's error shape, never a 5xx
  for bad input; fields it does not know are passed through untouched;
- streams (`text/event-stream`) forwarded event by event, each sent as it arrives (no buffering);
  the stream always ends with `data: [DONE]` (added when the backend ends without it), and a
  client that asked for `stream_options.include_usage` always gets the usage event (built from the
  backend's timings or the counted content events when the backend sent none). The backend is always
  asked for usage, so the log has token counts; a client that did not ask does not see it;
- errors: before the first byte, the backend's status with its `{"error": {...}}` (502 when it
  cannot be reached); after it, an error event in the stream, then `data: [DONE]`;
- a client that disconnects cancels the backend's generation (its connection is closed);
- one line per request in the prediction log (`predictions-YYYY-MM-DD.jsonl`, as tabular
  predictions): {"ts", "id", "model", "version", "input": {"endpoint", "messages" | "prompt"},
  "output": completion text, "latency_ms", "llm": {"stream", "status", "prompt_tokens",
  "completion_tokens", "cached_tokens", "finish_reason", "ttft_ms", "itl_ms", "e2e_ms", "queue_ms",
  "usage_source"}} — written before the answer's last byte, so a client never holds a whole
  completion the log does not. Prompts and completions are kept as `log_content` says (full,
  redacted: their length only, hashed: their sha256). A cancelled request has status 499 and
  finish_reason "cancelled";
- on a platform's predict route only (never on /v1/*, which stay exactly the backend's), the log
  line's facts travel with the answer, for the platform's own capture of it (SageMaker Data Capture,
  Vertex request-response logging, Azure's data collector) that mlship reads for drift:
  `"mlship": {"id", "version", "llm": {...}}` added to a whole answer (to each of Vertex's
  predictions), and a stream's last event before `data: [DONE]` is the SSE comment
  `: mlship {"id", "version", "llm"}`, which every SSE client skips.
"""

import asyncio
import sys
import time
from collections.abc import Awaitable
from typing import Any, NamedTuple

import orjson

from .. import logs
from ..app import App, Message, Receive, Scope, Send, read_json, request_id
from ..validation import BadRequest
from .backend import Backend, upstream_error
from .metrics import GatewayMetrics
from .openai import CHAT, COMPLETIONS, ApiError, Completion, check_instances, check_request, is_openai_body, log_line, route_of, wants_usage
from .upstream import Upstream, UpstreamError

_perf = time.perf_counter
_dumps = orjson.dumps
JSON = b"application/json"
DONE = b"data: [DONE]\n\n"
ROUTES = frozenset((CHAT, COMPLETIONS, "/v1/models", "/metrics"))
CANCELLED = 499  # nginx's "client closed request": the log's status of a request whose client went away


class GatewaySettings(NamedTuple):
    name: str
    version: str
    build_id: str
    log_folder: str
    health_routes: frozenset[str]
    predict_routes: dict[str, str]  # each platform's predict route -> its shape (platforms.py): mlship | predictions
    max_body: int
    log_content: str


class _Cancelled(Exception):
    """The client disconnected before the answer was complete."""


async def _until_disconnect(work: Awaitable[int], receive: Receive) -> int:
    """Run `work`; when the client disconnects first, cancel it (closing the backend's connection
    stops its generation) and raise _Cancelled."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        watcher.cancel()
        raise
    if task.done():
        watcher.cancel()
        return task.result()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    raise _Cancelled()


class Gateway:
    """The ASGI app (`__call__`) forwarding to `backend`."""

    def __init__(self, settings: GatewaySettings, backend: Backend) -> None:
        self.s = settings
        self.backend = backend
        # A generation may take minutes between bytes of a long prompt: no read timeout.
        self.client = Upstream(backend.url)
        self.log = logs.DailyLog(settings.log_folder)
        self.version_b = settings.version.encode()
        self.metrics = GatewayMetrics()

    # -- HTTP plumbing --------------------------------------------------------------------------

    def _headers(self, rid: str, content_type: bytes = JSON) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", content_type), (b"x-request-id", rid.encode()), (b"x-model-version", self.version_b)]

    async def _reply(self, send: Send, rid: str, status: int, body: bytes, content_type: bytes = JSON) -> None:
        await send({"type": "http.response.start", "status": status, "headers": self._headers(rid, content_type)})
        await send({"type": "http.response.body", "body": body})

    async def _error(self, send: Send, rid: str, e: ApiError) -> None:
        await self._reply(send, rid, e.status, _dumps(e.body()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        t0 = _perf()
        headers = scope["headers"]
        rid = request_id(headers)
        path: str = scope["path"]
        method: str = scope["method"]
        statuses: list[int] = []

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        final: int | None = None
        try:
            final = await self.route(path, method, headers, rid, t0, receive, counted)
        except ApiError as e:
            await self._error(counted, rid, e)
        finally:
            route = path if path in ROUTES or path in self.s.health_routes else "other"
            self.metrics.count(route, final or (statuses[0] if statuses else CANCELLED))

    async def route(self, path: str, method: str, headers: Any, rid: str, t0: float, receive: Receive, send: Send) -> int | None:
        """Answer one request (an ApiError raised here is answered by the caller); the status to count
        when it is not the one sent (a cancelled generation)."""
        shape = self.s.predict_routes.get(path)
        if path in (CHAT, COMPLETIONS) or shape is not None:
            if method != "POST":
                raise ApiError(405, f"{path} accepts POST")
            try:
                payload = await read_json(receive, headers, self.s.max_body)
            except BadRequest as e:
                raise ApiError(e.status, e.message) from None
            if shape == "predictions" and not is_openai_body(payload):
                return await self.instances(check_instances(payload, self.backend.context), headers, rid, t0, receive, send)
            target = path if shape is None else route_of(payload)
            check_request(target, payload, self.backend.context)
            return await self.generate(target, payload, headers, rid, t0, receive, send, platform=shape is not None)
        if path == "/v1/models" or path == "/metrics":
            if method != "GET":
                raise ApiError(405, f"{path} accepts GET")
            await (self.models(rid, send) if path == "/v1/models" else self.prometheus(rid, send))
        elif path in self.s.health_routes:
            if method not in ("GET", "HEAD"):
                raise ApiError(405, f"{path} accepts GET")
            await self.health(rid, send)
        else:
            raise ApiError(404, f"no route {path[:100]}; this server answers POST /v1/chat/completions, POST /v1/completions and GET /v1/models")
        return None

    # -- the routes -----------------------------------------------------------------------------

    async def health(self, rid: str, send: Send) -> None:
        try:
            ok = (await self.client.get("/health", 5.0))[0] == 200
        except UpstreamError:
            ok = False
        body = {
            "status": "ok" if ok else "unavailable",
            "model": self.s.name,
            "version": self.s.version,
            "build": self.s.build_id,
            "backend": self.backend.name,
        }
        await self._reply(send, rid, 200 if ok else 503, _dumps(body))

    async def prometheus(self, rid: str, send: Send) -> None:
        """GET /metrics: the gateway's metrics, then the backend's (when it answers its /metrics)."""
        try:
            status, text = await self.client.get("/metrics", 5.0)
            backend = text if status == 200 else None
        except UpstreamError:
            backend = None
        body = self.metrics.render(self.s.name, self.s.version, self.s.build_id, backend)
        await self._reply(send, rid, 200, body, b"text/plain; version=0.0.4")

    async def models(self, rid: str, send: Send) -> None:
        try:
            status, body = await self.client.get("/v1/models", 10.0)
        except UpstreamError as e:
            return await self._error(send, rid, unreachable(self.backend.url, e))
        await self._reply(send, rid, status, body if status == 200 else _dumps(upstream_error(status, body)))

    async def generate(
        self, route: str, payload: dict[str, Any], headers: Any, rid: str, t0: float, receive: Receive, send: Send, platform: bool = False
    ) -> int | None:
        """Forward a (checked) generation request, answer, and log it. On a platform's predict route
        (`platform`) the answer also carries the log line's facts (`facts_block`)."""
        streamed = payload.get("stream") is True
        c = Completion(route == CHAT, t0)
        forward = [(k, v) for k, v in headers if k == b"authorization"]
        forward.append((b"content-type", JSON))
        work = self._stream(route, payload, forward, rid, c, send, platform) if streamed else self._once(route, payload, forward, rid, c, send, platform)
        try:
            await _until_disconnect(work, receive)
        except _Cancelled:
            if not c.logged:
                c.finish_reason = c.finish_reason or "cancelled"
                self._write_log(rid, route, payload, c, streamed, CANCELLED)
            return CANCELLED
        return None

    async def instances(self, bodies: list[tuple[str, dict[str, Any]]], headers: Any, rid: str, t0: float, receive: Receive, send: Send) -> int | None:
        """Vertex's predict route: each instance answered whole and logged as "ID-i", then exactly
        {"predictions": [answer, ...]}; the first instance that fails answers for the request."""
        forward = [(k, v) for k, v in headers if k == b"authorization"]
        forward.append((b"content-type", JSON))
        current: list[tuple[str, str, dict[str, Any], Completion]] = []

        async def work() -> int:
            predictions = []
            for i, (route, body) in enumerate(bodies):
                c = Completion(route == CHAT, t0 if i == 0 else _perf())
                current[:] = [(f"{rid}-{i}", route, body, c)]
                status, answer, _ = await self._whole(route, body, forward, f"{rid}-{i}", c)
                if status != 200:
                    await self._reply(send, rid, status, answer)
                    return status
                prediction = orjson.loads(answer)
                if isinstance(prediction, dict) and c.facts is not None:
                    prediction["mlship"] = self.facts_block(f"{rid}-{i}", c.facts)
                predictions.append(prediction)
            await self._reply(send, rid, 200, _dumps({"predictions": predictions}))
            return 200

        try:
            await _until_disconnect(work(), receive)
        except _Cancelled:
            for instance_id, route, body, c in current:
                if not c.logged:
                    c.finish_reason = c.finish_reason or "cancelled"
                    self._write_log(instance_id, route, body, c, False, CANCELLED)
            return CANCELLED
        return None

    def facts_block(self, rid: str, facts: dict[str, Any]) -> dict[str, Any]:
        """What a platform's predict route adds to an answer: the request's id, the version and the
        log line's `llm` facts, so a platform's own capture of the answer (SageMaker Data Capture,
        Vertex request-response logging, Azure's data collector) holds the facts the gateway measured."""
        return {"id": rid, "version": self.s.version, "llm": facts}

    async def _once(
        self, route: str, payload: dict[str, Any], forward: list[tuple[bytes, bytes]], rid: str, c: Completion, send: Send, platform: bool = False
    ) -> int:
        status, body, content_type = await self._whole(route, payload, forward, rid, c)
        if platform and status == 200 and c.facts is not None:
            try:
                answer = orjson.loads(body)
            except orjson.JSONDecodeError:
                answer = None
            if isinstance(answer, dict):
                answer["mlship"] = self.facts_block(rid, c.facts)
                body, content_type = _dumps(answer), JSON
        await self._reply(send, rid, status, body, content_type)
        return status

    async def _whole(self, route: str, payload: dict[str, Any], forward: list[tuple[bytes, bytes]], rid: str, c: Completion) -> tuple[int, bytes, bytes]:
        """A non-streamed answer, logged: (status, body, content type)."""
        try:
            r = await self.client.request("POST", route, _dumps(payload), forward)
            try:
                content = await r.read()
            finally:
                r.close()
        except UpstreamError as e:
            err = unreachable(self.backend.url, e)
            c.error = err.body()["error"]
            self._write_log(rid, route, payload, c, False, err.status)
            return err.status, _dumps(err.body()), JSON
        status = r.status
        if status != 200:
            body = upstream_error(status, content)
            c.error = body["error"]
            self._write_log(rid, route, payload, c, False, status)
            return status, _dumps(body), JSON
        try:
            c.answer(orjson.loads(content), _perf())
        except orjson.JSONDecodeError:
            pass
        if not self._write_log(rid, route, payload, c, False, 200):
            err = ApiError(503, "the prediction log is not writable; no completion was returned", kind="server_error")
            return 503, _dumps(err.body()), JSON
        return 200, content, r.headers.get(b"content-type", JSON)

    async def _stream(
        self, route: str, payload: dict[str, Any], forward: list[tuple[bytes, bytes]], rid: str, c: Completion, send: Send, platform: bool = False
    ) -> int:
        want_usage = wants_usage(payload)
        options = payload.get("stream_options")
        body = dict(payload, stream_options={**(options if isinstance(options, dict) else {}), "include_usage": True})
        try:
            r = await self.client.request("POST", route, _dumps(body), forward)
        except UpstreamError as e:
            err = unreachable(self.backend.url, e)
            c.error = err.body()["error"]
            self._write_log(rid, route, payload, c, True, err.status)
            await self._error(send, rid, err)
            return err.status
        try:
            if r.status != 200:
                try:
                    content = await r.read()
                except UpstreamError:
                    content = b""
                error = upstream_error(r.status, content)
                c.error = error["error"]
                self._write_log(rid, route, payload, c, True, r.status)
                await self._reply(send, rid, r.status, _dumps(error))
                return r.status
            h = self._headers(rid, b"text/event-stream")
            h += [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
            await send({"type": "http.response.start", "status": 200, "headers": h})
            events = EventReader(c, want_usage)
            try:
                async for chunk in r.chunks():
                    outs = events.feed(chunk, _perf())
                    if outs:
                        await send({"type": "http.response.body", "body": outs[0] if len(outs) == 1 else b"".join(outs), "more_body": True})
            except UpstreamError as e:
                # After the first byte an error can only travel in the stream.
                c.error = {"message": str(e), "type": "server_error", "param": None, "code": None}
                await send({"type": "http.response.body", "body": b"data: " + _dumps({"error": c.error}) + b"\n\n", "more_body": True})
            for out in events.finish(_perf()):
                await send({"type": "http.response.body", "body": out, "more_body": True})
            if not self._write_log(rid, route, payload, c, True, 200):
                error = {"message": "the prediction log is not writable", "type": "server_error", "param": None, "code": None}
                await send({"type": "http.response.body", "body": b"data: " + _dumps({"error": error}) + b"\n\n", "more_body": True})
            elif platform and c.facts is not None:
                # An SSE comment: every client skips it; a platform's capture of the stream keeps it.
                await send({"type": "http.response.body", "body": b": mlship " + _dumps(self.facts_block(rid, c.facts)) + b"\n\n", "more_body": True})
            await send({"type": "http.response.body", "body": DONE})
            return 200
        finally:
            r.close()

    # -- the log --------------------------------------------------------------------------------

    def _write_log(self, rid: str, route: str, payload: dict[str, Any], c: Completion, streamed: bool, status: int) -> bool:
        end = _perf()
        now = time.time()
        line = log_line(route, payload, c, streamed, status, end, self.s.log_content)
        record = {
            "ts": logs.iso(now),
            "id": rid,
            "model": self.s.name,
            "version": self.s.version,
            "input": line.input,
            "output": line.output,
            "latency_ms": line.latency_ms,
            "llm": line.llm,
        }
        c.logged = True
        c.facts = line.llm
        if status == 200:
            llm = line.llm
            self.metrics.generation(llm["ttft_ms"], llm["itl_ms"], llm["e2e_ms"], llm["queue_ms"], llm["prompt_tokens"], llm["completion_tokens"])
        try:
            self.log.write(now, _dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        except OSError as e:
            sys.stderr.write(f"mlship serve: cannot write the prediction log in {self.s.log_folder}: {e}\n")
            return False
        return True


def unreachable(url: str, e: Exception) -> ApiError:
    return ApiError(502, f"the model server at {url} cannot be reached: {type(e).__name__}: {e}", kind="server_error")


class EventReader:
    """The backend's event stream cut into events (`feed`), each read into the Completion and
    forwarded as it came (the usage event dropped when the client did not ask for it), and what the
    stream lacked (`finish`): the usage event the client asked for. `[DONE]` is held back: the
    gateway sends its own once the log line is written."""

    def __init__(self, c: Completion, want_usage: bool) -> None:
        self.c = c
        self.want_usage = want_usage
        self.buffer = b""
        self.done = False
        self.last: dict[str, Any] = {}  # id, object, created, model of the last chunk (for a synthetic usage event)

    def feed(self, chunk: bytes, now: float) -> list[bytes]:
        self.buffer += chunk
        if b"\r" in self.buffer:
            self.buffer = self.buffer.replace(b"\r\n", b"\n")
        out: list[bytes] = []
        while True:
            i = self.buffer.find(b"\n\n")
            if i < 0:
                return out
            event, self.buffer = self.buffer[:i], self.buffer[i + 2 :]
            forwarded = self._event(event, now)
            if forwarded is not None:
                out.append(forwarded)

    def _event(self, event: bytes, now: float) -> bytes | None:
        data = b"\n".join(line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:"))
        if not data:
            return event + b"\n\n" if event.strip() else None  # a comment (keep-alive) passes through
        if data.strip() == b"[DONE]":
            self.done = True
            return None
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            return event + b"\n\n"
        self.c.event(obj, now)
        if isinstance(obj, dict):
            for key in ("id", "object", "created", "model", "system_fingerprint"):
                if key in obj:
                    self.last[key] = obj[key]
            if "usage" in obj and not self.want_usage:
                if not obj.get("choices"):
                    return None
                obj = {k: v for k, v in obj.items() if k != "usage"}
                return b"data: " + _dumps(obj) + b"\n\n"
        return event + b"\n\n"

    def finish(self, now: float) -> list[bytes]:
        out: list[bytes] = []
        if self.buffer.strip():
            forwarded = self._event(self.buffer, now)
            self.buffer = b""
            if forwarded is not None:
                out.append(forwarded)
        if self.want_usage and self.c.usage_source != "backend" and self.c.error is None:
            usage = self.c.synthetic_usage()
            obj = {**self.last, "choices": [], "usage": usage}
            out.append(b"data: " + _dumps(obj) + b"\n\n")
        return out


def create_gateway(settings: GatewaySettings, backend: Backend) -> App:
    """The gateway's ASGI callable."""
    gateway = Gateway(settings, backend)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await gateway(scope, receive, send)

    return app
