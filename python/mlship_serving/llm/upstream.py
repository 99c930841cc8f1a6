"""The gateway's HTTP/1.1 client of its backend: asyncio streams, a pool of kept-alive connections,
bodies read as they arrive (chunked, sized or to the close).

Why not httpx: it adds about 3 ms to the first token of every stream (measured against this client
on the tiny model), more than the whole gateway may cost (`npm run bench -- llm`), and it would be
one more dependency of every LLM image. The backend is one known server on 127.0.0.1 speaking plain
HTTP/1.1, so a small client does.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from urllib.parse import urlsplit

CONNECT_TIMEOUT_S = 10.0
MAX_IDLE = 64
# llama-server closes a kept-alive connection after 5 s idle: one idle this long is not tried.
IDLE_TTL_S = 4.0


class UpstreamError(Exception):
    """The backend cannot be reached, or broke the connection."""


class Response:
    """A response whose head has been read; its body is read with `read` or `chunks`, then it must be
    closed (`close`): a completely read body gives its connection back to the pool, else it is closed
    (which is how a generation is cancelled: the backend sees its client gone)."""

    def __init__(self, pool: "Upstream", reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int, headers: dict[bytes, bytes]) -> None:
        self.pool = pool
        self.reader = reader
        self.writer = writer
        self.status = status
        self.headers = headers
        self.complete = False
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives: whatever each read brings (of a chunked body, the data of every
        complete chunk it holds, joined: events that arrived together are forwarded together)."""
        r = self.reader
        try:
            if self.headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                buffer = b""
                while True:
                    data = await r.read(65536)
                    if not data:
                        raise UpstreamError("the model server closed the connection before the end of its answer")
                    buffer += data
                    parts: list[bytes] = []
                    done = False
                    while (i := buffer.find(b"\r\n")) >= 0:
                        size = int(buffer[:i].split(b";", 1)[0].strip(), 16)
                        end = i + 2 + size + 2
                        if size == 0:
                            done = len(buffer) >= i + 4  # the last chunk, then the final CRLF (no trailers)
                            break
                        if len(buffer) < end:
                            break
                        parts.append(buffer[i + 2 : end - 2])
                        buffer = buffer[end:]
                    if parts:
                        yield parts[0] if len(parts) == 1 else b"".join(parts)
                    if done:
                        break
            elif b"content-length" in self.headers:
                left = int(self.headers[b"content-length"])
                while left > 0:
                    data = await r.read(min(left, 65536))
                    if not data:
                        raise UpstreamError("the model server closed the connection before the end of its answer")
                    left -= len(data)
                    yield data
            else:
                while data := await r.read(65536):
                    yield data
                self.headers[b"connection"] = b"close"
        except (ConnectionError, OSError, ValueError) as e:
            raise UpstreamError(f"the model server broke its answer: {type(e).__name__}: {e}") from None
        self.complete = True

    async def read(self) -> bytes:
        parts = [c async for c in self.chunks()]
        return b"".join(parts)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        # llama-server closes a connection after a stream whatever its Keep-Alive header says: a
        # stream's connection is not kept (reusing it would cost a failed attempt on the next request).
        reusable = self.headers.get(b"connection", b"").lower() != b"close" and not self.headers.get(b"content-type", b"").startswith(b"text/event-stream")
        if self.complete and reusable and len(self.pool.idle) < MAX_IDLE:
            self.pool.idle.append((self.reader, self.writer, time.monotonic()))
        else:
            self.writer.close()


class Upstream:
    """The backend at `url` (http://host:port). One spare connection is kept open ahead of need
    (a stream's connection is not reused, so a new stream would otherwise wait for a connect)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the model server's URL must be http://host:port, got {url}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.spare: asyncio.Task[None] | None = None
        self.host_header = f"{self.host}:{self.port}".encode()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port, limit=1 << 20), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as e:
            raise UpstreamError(f"cannot connect: {type(e).__name__}: {e}") from None

    async def request(self, method: str, path: str, body: bytes = b"", headers: Iterable[tuple[bytes, bytes]] = ()) -> Response:
        """Send a request and read the response's head. A kept-alive connection the backend closed
        meanwhile is retried once on a new one (nothing of the answer had come)."""
        head = [f"{method} {path} HTTP/1.1".encode(), b"host: " + self.host_header, b"content-length: " + str(len(body)).encode()]
        head += [k + b": " + v for k, v in headers]
        message = b"\r\n".join(head) + b"\r\n\r\n" + body
        while self.idle:
            reader, writer, since = self.idle.pop()
            if writer.is_closing() or reader.at_eof() or time.monotonic() - since > IDLE_TTL_S:
                writer.close()
                continue
            self._keep_spare()
            try:
                return await self._exchange(reader, writer, message)
            except UpstreamError:
                continue  # a stale kept-alive connection: try the next, then a new one
        self._keep_spare()
        reader, writer = await self._connect()
        return await self._exchange(reader, writer, message)

    def _keep_spare(self) -> None:
        """Open a connection for the next request in the background when none is idle."""
        if self.idle or (self.spare is not None and not self.spare.done()):
            return

        async def connect() -> None:
            try:
                reader, writer = await self._connect()
            except UpstreamError:
                return
            self.idle.append((reader, writer, time.monotonic()))

        self.spare = asyncio.ensure_future(connect())

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: bytes) -> Response:
        try:
            writer.write(message)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError) as e:
            writer.close()
            raise UpstreamError(f"no answer: {type(e).__name__}: {e}") from None
        except BaseException:
            writer.close()
            raise
        lines = head[:-4].split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError):
            writer.close()
            raise UpstreamError(f"not an HTTP answer: {lines[0][:80]!r}") from None
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower()] = v.strip()
        return Response(self, reader, writer, status, headers)

    async def get(self, path: str, timeout_s: float) -> tuple[int, bytes]:
        """A whole GET answer within `timeout_s`: (status, body)."""

        async def run() -> tuple[int, bytes]:
            r = await self.request("GET", path)
            try:
                return r.status, await r.read()
            finally:
                r.close()

        try:
            return await asyncio.wait_for(run(), timeout_s)
        except TimeoutError:
            raise UpstreamError(f"no answer to GET {path} within {timeout_s:.0f}s") from None

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()
        self.idle.clear()
