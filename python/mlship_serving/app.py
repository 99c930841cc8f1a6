"""The ASGI app of one worker: routing, request bodies and responses around handlers.py.

Why a raw ASGI app and not FastAPI: the hot path must cost less than FastAPI's request parsing and
response encoding (`npm run bench` compares it with a bare FastAPI endpoint doing only the model
call). One dict lookup routes a request, orjson parses and encodes, the schema check is a loop over a
tuple, and concurrent requests share one transform + predict call (batching.py). What each route
answers is in handlers.py, as plain methods that take the request's data and return a Response.
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson

from .handlers import Handlers, Response
from .validation import BadRequest

# ASGI, as far as this app uses it.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = Iterable[tuple[bytes, bytes]]

_ID_OK = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_perf = time.perf_counter
# A refused body is read and dropped before the answer, so the client sees the 413/415 instead of a
# connection reset (closing a socket with unread data resets it): up to this many bytes, and only
# while the client keeps sending (it may have declared a body it never sends).
DRAIN_LIMIT = 64 << 20
DRAIN_IDLE_SECONDS = 0.5


async def drain(receive: Receive, headers: Headers, received: int = 0) -> None:
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


def request_id(headers: Headers) -> str:
    """The client's X-Request-Id when it is 1-64 letters, digits, '.', '_' or '-', else a new one."""
    for k, v in headers:
        if k == b"x-request-id":
            if 0 < len(v) <= 64 and all(c in _ID_OK for c in v):
                return v.decode()
            break
    return os.urandom(12).hex()


async def read_body(receive: Receive, headers: Headers, max_body: int) -> bytes:
    """The request body; 415 when it is not JSON, 413 over `max_body` bytes (declared or sent)."""
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
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            if message.get("more_body", False):
                await drain(receive, headers, size)
            raise BadRequest(413, f"the body is larger than {max_body} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_json(receive: Receive, headers: Headers, max_body: int) -> Any:
    """The request body as JSON; 400 when it is not JSON, 413/415 from read_body."""
    body = await read_body(receive, headers, max_body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise BadRequest(400, f"malformed JSON: {e}") from None


def create_app(handlers: Handlers) -> App:
    """The ASGI callable of one worker, answering with `handlers`."""
    h = handlers
    version_b = h.version.encode()
    health_routes = h.settings.routes.health
    predict_routes = h.settings.routes.predict
    max_body = h.spec.max_body

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        t0 = _perf()
        headers = scope["headers"]
        rid = request_id(headers)
        path: str = scope["path"]
        method: str = scope["method"]
        response: Response
        shape = predict_routes.get(path)
        if shape is not None:
            if method != "POST":
                response = h.error(path, 405, f"{path} accepts POST")
            else:
                try:
                    payload = await read_json(receive, headers, max_body)
                except BadRequest as e:
                    response = h.bad_request(path, e)
                else:
                    response = await h.predict(payload, rid, path, shape, t0)
        elif path == "/feedback":
            if method != "POST":
                response = h.error(path, 405, "/feedback accepts POST")
            else:
                try:
                    payload = await read_json(receive, headers, max_body)
                except BadRequest as e:
                    response = h.bad_request(path, e)
                else:
                    response = h.feedback(payload)
        elif path in health_routes:
            response = h.health() if method in ("GET", "HEAD") else h.error(path, 405, f"{path} accepts GET")
        elif method == "GET" and path == "/metrics":
            response = h.prometheus()
        elif method == "GET" and path == "/openapi.json":
            response = h.openapi()
        else:
            response = h.error("other", 404, f"no route {path[:100]}; predictions go to POST /predict")
        out = [(b"content-type", response.content_type), (b"x-request-id", rid.encode()), (b"x-model-version", version_b)]
        out.extend(response.headers)
        await send({"type": "http.response.start", "status": response.status, "headers": out})
        await send({"type": "http.response.body", "body": response.body})

    return app
