"""A scripted OpenAI-style backend for the gateway's tests of what llama-server never does (a stream
without `[DONE]` or usage, an error before the first byte, a connection that breaks mid-stream) and of
what needs a backend that waits on the test (no buffering, a disconnect reaching the backend).

Raw HTTP/1.1 over asyncio in a thread of the test process, bound to 127.0.0.1. A request that is not
streamed gets one whole chat answer ("Hello there!"); a streamed one's `model` picks the script:
    plain      three content events, usage, [DONE] (llama-server's shape)
    no-done    three content events, no usage, no [DONE]
    error      HTTP 503 with an OpenAI error body, before any byte of a stream
    break      one content event, then the connection closes mid-stream
    hold       one content event, then waits until GET /release before the rest
    endless    a content event every 20 ms until the client goes away (recorded in `closed`)
Every request's parsed body is kept in `requests`.
"""

import asyncio
import json
import os
import threading
from typing import Any


def _event(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _chunk(i: int, text: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-double",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "double",
        "choices": [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}],
    }


class Double:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.closed: list[int] = []  # events sent to an `endless` client before it went away
        self.connections: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.release = asyncio.Event()
        self.server: asyncio.base_events.Server | None = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        ready.set()
        self.loop.run_forever()

    def close(self) -> None:
        async def stop() -> None:
            assert self.server is not None
            self.server.close()
            for w in list(self.connections):
                w.transport.abort()
            await asyncio.sleep(0.05)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if not await self._answer(method, path, body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.connections.discard(writer)
            writer.close()

    async def _json(self, writer: asyncio.StreamWriter, status: int, obj: Any) -> bool:
        data = json.dumps(obj).encode()
        writer.write(f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n\r\n".encode() + data)
        await writer.drain()
        return True

    async def _answer(self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if path == "/health":
            return await self._json(writer, 200, {"status": "ok"})
        if path == "/props":
            return await self._json(writer, 200, {"default_generation_settings": {"n_ctx": 256}})
        if path == "/v1/models":
            return await self._json(writer, 200, {"object": "list", "data": [{"id": "double", "object": "model"}]})
        if path == "/metrics":
            # What vLLM 0.10 exposes (a recorded sample of its metric families): the double stands in for vLLM here.
            with open(os.path.join(os.path.dirname(__file__), "fixtures", "vllm-0.10-metrics.txt"), "rb") as f:
                data = f.read()
            writer.write(f"HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {len(data)}\r\n\r\n".encode() + data)
            await writer.drain()
            return True
        if path == "/release":
            self.release.set()
            return await self._json(writer, 200, {})
        request = json.loads(body)
        self.requests.append(request)
        script = request.get("model")
        if script == "error":
            return await self._json(writer, 503, {"error": {"message": "loading", "type": "unavailable_error", "code": 503}})
        if request.get("stream") is not True:
            message = {"role": "assistant", "content": "Hello there!"}
            return await self._json(
                writer,
                200,
                {
                    "id": "chatcmpl-double",
                    "object": "chat.completion",
                    "model": "double",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
                },
            )
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")

        async def send(data: bytes) -> None:
            if writer.transport.is_closing():
                raise ConnectionResetError("the client went away")
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()

        if script == "endless":
            sent = 0
            try:
                while True:
                    await send(_event(_chunk(sent, "x")))
                    sent += 1
                    await asyncio.sleep(0.02)
            except ConnectionError:
                self.closed.append(sent)
                return False
        await send(_event({**_chunk(0, "", None), "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}, "finish_reason": None}]}))
        await send(_event(_chunk(1, "Hello")))
        if script == "break":
            writer.transport.abort()
            return False
        if script == "hold":
            await self.release.wait()
        await send(_event(_chunk(2, " there")))
        await send(_event(_chunk(3, "!", "stop")))
        if script == "plain":
            await send(_event({**_chunk(4, ""), "choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}))
            await send(b"data: [DONE]\n\n")
        await send(b"")
        return script == "plain"
