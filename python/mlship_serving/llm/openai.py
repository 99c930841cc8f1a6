"""The OpenAI-compatible API as the gateway checks and reads it, without HTTP.

- `check_request`: a request body's checks before it reaches the backend (400 with OpenAI's error
  body naming the `param`); fields it does not know are left alone and passed through.
- `Completion`: what one answer said (text, finish reason, token counts, token times), fed by the
  backend's JSON answer or by the events of its stream; what the log line is made of.
- `redact`: the prompt and completion as the log keeps them (full, redacted or hashed).
"""

import hashlib
from typing import Any, NamedTuple

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
ROLES = frozenset(("system", "developer", "user", "assistant", "tool", "function"))
LOG_CONTENT = ("full", "redacted", "hashed")


class ApiError(Exception):
    """An answer in OpenAI's error shape: {"error": {"message", "type", "param", "code"}}."""

    def __init__(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error", code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.kind = kind
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


def _content_ok(content: Any) -> bool:
    """A message's content: a string, null, or a list of parts that are objects with a string `type`."""
    if content is None or isinstance(content, str):
        return True
    return isinstance(content, list) and all(isinstance(p, dict) and isinstance(p.get("type"), str) for p in content)


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "`messages` must be a non-empty array of {role, content} objects", "messages")
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise ApiError(400, f"{where} must be an object with `role` and `content`", where)
        role = m.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise ApiError(400, f"{where}.role must be one of {', '.join(sorted(ROLES))}, got {str(role)[:40]!r}", f"{where}.role")
        if "content" not in m and not m.get("tool_calls"):
            raise ApiError(400, f"{where} has no `content`", f"{where}.content")
        if not _content_ok(m.get("content")):
            raise ApiError(400, f"{where}.content must be a string or an array of content parts", f"{where}.content")


def _check_prompt(prompt: Any) -> None:
    ok = isinstance(prompt, str) or (
        isinstance(prompt, list)
        and bool(prompt)
        and (all(isinstance(p, str) for p in prompt) or all(isinstance(p, int) and not isinstance(p, bool) for p in prompt))
    )
    if not ok:
        raise ApiError(400, "`prompt` must be a string, an array of strings or an array of token ids", "prompt")


def check_request(route: str, payload: Any, context: int) -> None:
    """Raise ApiError (400) when `payload` is not a request `route` can answer within `context` tokens."""
    if not isinstance(payload, dict):
        raise ApiError(400, "the body must be a JSON object")
    if route == CHAT:
        _check_messages(payload.get("messages"))
    else:
        if "prompt" not in payload:
            raise ApiError(400, "`prompt` is required", "prompt")
        _check_prompt(payload["prompt"])
    for name in ("max_tokens", "max_completion_tokens"):
        value = payload.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ApiError(400, f"`{name}` must be a positive integer, got {str(value)[:40]}", name)
        if value > context:
            raise ApiError(400, f"`{name}` is {value}, more than the model's context of {context} tokens; ask for at most {context}", name)
    stream = payload.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise ApiError(400, "`stream` must be true or false", "stream")
    options = payload.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise ApiError(400, "`stream_options` must be an object", "stream_options")


def route_of(payload: Any) -> str:
    """The OpenAI route a platform's predict route answers a body as: chat with `messages`, else
    completions with `prompt`."""
    if isinstance(payload, dict):
        if "messages" in payload:
            return CHAT
        if "prompt" in payload:
            return COMPLETIONS
    raise ApiError(400, 'send an OpenAI chat body ({"messages": [...]}) or completion body ({"prompt": "..."})')


def is_openai_body(payload: Any) -> bool:
    """A chat or completion body itself (not Vertex's {"instances": [...]} around them)."""
    return isinstance(payload, dict) and "instances" not in payload and ("messages" in payload or "prompt" in payload)


def check_instances(payload: Any, context: int) -> list[tuple[str, dict[str, Any]]]:
    """Vertex's {"instances": [body, ...]}: each a whole (not streamed) chat or completion body; its
    (route, body) pairs. A problem names its instance (`instances[1].messages`)."""
    instances = payload.get("instances") if isinstance(payload, dict) else None
    if not isinstance(instances, list) or not instances:
        raise ApiError(400, 'the body must be {"instances": [...]}: one OpenAI chat or completion body per instance', "instances")
    out: list[tuple[str, dict[str, Any]]] = []
    for i, body in enumerate(instances):
        try:
            route = route_of(body)
            check_request(route, body, context)
            if body.get("stream") is True:
                raise ApiError(400, "streaming is not available in the instances shape: send the body to /v1/chat/completions or /v1/completions", "stream")
        except ApiError as e:
            e.param = f"instances[{i}]" + (f".{e.param}" if e.param else "")
            raise
        out.append((route, body))
    return out


def wants_usage(payload: dict[str, Any]) -> bool:
    options = payload.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _text(value: Any, mode: str) -> Any:
    if not isinstance(value, str) or mode == "full":
        return value
    if mode == "hashed":
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    return f"[redacted: {len(value)} chars]"


def redact(value: Any, mode: str) -> Any:
    """A prompt, a messages array or a completion as the log keeps it: the text of every message (and
    content part) kept, replaced by its sha256, or replaced by its length; roles and structure stay."""
    if mode == "full":
        return value
    if isinstance(value, list):
        return [redact(v, mode) for v in value]
    if isinstance(value, dict):
        out = dict(value)
        for key in ("content", "text"):
            if key in out:
                out[key] = redact(out[key], mode)
        return out
    return _text(value, mode)


class Completion:
    """One answer as the gateway saw it: fed its JSON body (`answer`) or each streamed event (`event`)."""

    def __init__(self, chat: bool, t0: float) -> None:
        self.chat = chat
        self.t0 = t0
        self.parts: list[str] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.usage_source = "none"
        self.timings: dict[str, Any] | None = None
        self.first: float | None = None  # perf_counter of the first non-empty content
        self.last: float | None = None
        self.chunks = 0  # events holding content
        self.error: Any = None  # an error event of the stream
        self.logged = False  # its log line is written
        self.facts: dict[str, Any] | None = None  # its log line's `llm` block, once written

    def _choice_text(self, choice: dict[str, Any], streamed: bool) -> str | None:
        if not self.chat:
            text = choice.get("text")
        else:
            holder = choice.get("delta" if streamed else "message")
            text = holder.get("content") if isinstance(holder, dict) else None
        return text if isinstance(text, str) else None

    def _read(self, obj: dict[str, Any], streamed: bool, now: float) -> None:
        choices = obj.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if not isinstance(choice, dict):
                    continue
                text = self._choice_text(choice, streamed)
                if text:
                    self.parts.append(text)
                    self.chunks += 1
                    if self.first is None:
                        self.first = now
                    self.last = now
                reason = choice.get("finish_reason")
                if isinstance(reason, str):
                    self.finish_reason = reason
        usage = obj.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
            self.usage_source = "backend"
        timings = obj.get("timings")
        if isinstance(timings, dict):
            self.timings = timings

    def answer(self, obj: Any, now: float) -> None:
        """The backend's whole (non-streamed) answer."""
        if isinstance(obj, dict):
            self._read(obj, False, now)

    def event(self, obj: Any, now: float) -> None:
        """One streamed event's JSON."""
        if not isinstance(obj, dict):
            return
        if "error" in obj:
            self.error = obj["error"]
            return
        self._read(obj, True, now)

    def tokens(self) -> tuple[int | None, int | None, int | None]:
        """(prompt, completion, cached) tokens: the backend's usage, else its timings."""
        u = self.usage
        if u is not None:
            details = u.get("prompt_tokens_details")
            cached = details.get("cached_tokens") if isinstance(details, dict) else None
            return u.get("prompt_tokens"), u.get("completion_tokens"), cached
        t = self.timings
        if t is not None:
            return t.get("prompt_n"), t.get("predicted_n"), t.get("cache_n")
        return None, (self.chunks or None), None

    def synthetic_usage(self) -> dict[str, Any]:
        """Usage for a stream whose backend sent none although the client asked: from the backend's
        timings when it sent them, else the content events counted (one token each)."""
        prompt, completion, cached = self.tokens()
        self.usage_source = "timings" if prompt is not None else "counted"
        if completion is None:
            completion = self.chunks
        usage: dict[str, Any] = {"prompt_tokens": prompt or 0, "completion_tokens": completion, "total_tokens": (prompt or 0) + completion}
        if cached is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        self.usage = usage
        return usage

    def queue_ms(self, e2e_ms: float) -> float | None:
        """Time the request waited before the backend began on it: the end-to-end time less the
        backend's own prompt and generation time (its timings); None when it sent no timings."""
        t = self.timings
        if t is None:
            return None
        prompt_ms, predicted_ms = t.get("prompt_ms"), t.get("predicted_ms")
        if not isinstance(prompt_ms, int | float) or not isinstance(predicted_ms, int | float):
            return None
        return round(max(0.0, e2e_ms - prompt_ms - predicted_ms), 3)

    def latencies(self, streamed: bool, end: float) -> tuple[float | None, float | None]:
        """(time to first token, mean inter-token latency) in ms. Streamed: measured here, to the first
        non-empty content and between content events. Not streamed: from the backend's timings (its
        prompt time, and its time per generated token), when it sent them."""
        if streamed:
            if self.first is None:
                return None, None
            itl = (self.last - self.first) * 1000 / (self.chunks - 1) if self.last is not None and self.chunks > 1 else None
            return (self.first - self.t0) * 1000, itl
        t = self.timings
        if t is None:
            return None, None
        predicted_ms, per_token = t.get("predicted_ms"), t.get("predicted_per_token_ms")
        prompt_done = (end - self.t0) * 1000 - predicted_ms if isinstance(predicted_ms, int | float) else None
        return prompt_done, per_token if isinstance(per_token, int | float) else None


class LogLine(NamedTuple):
    """The fields of one LLM request's prediction-log line besides ts, id, model and version."""

    input: dict[str, Any]
    output: Any
    latency_ms: float
    llm: dict[str, Any]


def log_line(route: str, payload: dict[str, Any], c: Completion, streamed: bool, status: int, end: float, mode: str) -> LogLine:
    """The log line of a request: its prompt or messages and the completion (as `mode` keeps them),
    token counts, finish reason and latencies."""
    if route == CHAT:
        source: dict[str, Any] = {"endpoint": "chat", "messages": redact(payload.get("messages"), mode)}
    else:
        source = {"endpoint": "completions", "prompt": redact(payload.get("prompt"), mode)}
    prompt, completion, cached = c.tokens()
    if c.usage is None:
        c.usage_source = "timings" if c.timings is not None else "counted" if completion is not None else "none"
    ttft, itl = c.latencies(streamed, end)
    e2e = (end - c.t0) * 1000
    llm: dict[str, Any] = {
        "stream": streamed,
        "status": status,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cached_tokens": cached,
        "finish_reason": c.finish_reason,
        "ttft_ms": None if ttft is None else round(ttft, 3),
        "itl_ms": None if itl is None else round(itl, 3),
        "e2e_ms": round(e2e, 3),
        "queue_ms": c.queue_ms(e2e),
        "usage_source": c.usage_source,
    }
    if c.error is not None:
        llm["error"] = c.error
    return LogLine(source, redact("".join(c.parts), mode), round(e2e, 3), llm)
