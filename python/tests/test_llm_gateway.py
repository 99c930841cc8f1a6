"""The gateway in front of a real llama-server (MLSHIP_LLAMA_SERVER: test/global-setup.ts builds it
once per machine) on the tiny random-weight model: one gateway and one backend (one thread) for the
module. The model never emits its end token (make_tiny_gguf.py), so every answer has exactly
max_tokens tokens and finish_reason "length". That events are forwarded as they come (no buffering)
is shown against a backend that waits on the test: test_llm_gateway_double.py."""

import json
import os
import re
import signal
import time

import httpx
import pytest
from llm_support import Gateway, make_build, make_model, sse_events

BINARY = os.environ.get("MLSHIP_LLAMA_SERVER")
if not BINARY:
    # Never skipped: a skipped test proves nothing, and `npm test` always provides one.
    raise RuntimeError("MLSHIP_LLAMA_SERVER is not set: `npm test` builds llama-server and sets it (test/helpers/llama-server.ts)")

CONTEXT = 2048
MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello.\nThen stop."}]
ENV = {"MLSHIP_LLAMA_SERVER": BINARY or "", "MLSHIP_LLAMA_THREADS": "1"}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return make_model(str(tmp_path_factory.mktemp("llm-model")))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, model):
    build = make_build(str(tmp_path_factory.mktemp("llm") / "build"), model, context=CONTEXT)
    g = Gateway(build, ENV)
    yield g
    g.stop()


def backend_url(g: Gateway) -> str:
    found = re.search(r"llama-server on (http://127\.0\.0\.1:\d+)", g.stderr())
    assert found, g.stderr()
    return found.group(1)


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its parent does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def post(g: Gateway, path: str, body, **kw) -> httpx.Response:
    return httpx.post(f"{g.url}{path}", json=body, timeout=60, **kw)


def test_chat_not_streamed(gateway):
    r = post(gateway, "/v1/chat/completions", {"messages": MESSAGES, "max_tokens": 8, "temperature": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "tiny"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"] and choice["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 8 and body["usage"]["prompt_tokens"] > 10
    line = gateway.log_of(r.headers["x-request-id"])
    assert line["model"] == "tiny" and line["version"] == "v1" and line["input"] == {"endpoint": "chat", "messages": MESSAGES}
    assert line["output"] == choice["message"]["content"]
    llm = line["llm"]
    assert (llm["prompt_tokens"], llm["completion_tokens"], llm["finish_reason"], llm["stream"], llm["status"]) == (
        body["usage"]["prompt_tokens"],
        8,
        "length",
        False,
        200,
    )
    assert 0 <= llm["ttft_ms"] <= llm["e2e_ms"] and llm["itl_ms"] > 0 and line["latency_ms"] == llm["e2e_ms"]


def test_chat_streamed_event_by_event_with_usage_and_done(gateway):
    body = {"messages": MESSAGES, "max_tokens": 12, "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}
    with httpx.stream("POST", f"{gateway.url}/v1/chat/completions", json=body, headers={"x-request-id": "stream-1"}, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
        events = sse_events(list(r.iter_lines()))
    assert events[-1] == "[DONE]" and events.count("[DONE]") == 1
    chunks = [json.loads(e) for e in events[:-1]]
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 12
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "length"
    line = gateway.log_of("stream-1")
    assert line["output"] == text
    llm = line["llm"]
    assert (
        llm["stream"] is True
        and llm["completion_tokens"] == 12
        and llm["prompt_tokens"] == usage["usage"]["prompt_tokens"]
        and llm["usage_source"] == "backend"
    )
    assert 0 < llm["ttft_ms"] <= llm["e2e_ms"] and llm["itl_ms"] > 0 and llm["finish_reason"] == "length"
    assert 0 <= llm["queue_ms"] < llm["e2e_ms"]


def test_completions_streamed_and_not(gateway):
    r = post(gateway, "/v1/completions", {"prompt": "The river", "max_tokens": 5, "temperature": 0})
    assert r.status_code == 200, r.text
    whole = r.json()
    assert whole["object"] == "text_completion" and whole["usage"]["completion_tokens"] == 5
    assert gateway.log_of(r.headers["x-request-id"])["input"] == {"endpoint": "completions", "prompt": "The river"}
    with httpx.stream(
        "POST", f"{gateway.url}/v1/completions", json={"prompt": "The river", "max_tokens": 5, "temperature": 0, "stream": True}, timeout=60
    ) as s:
        events = sse_events(list(s.iter_lines()))
        rid = s.headers["x-request-id"]
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(e)["choices"][0]["text"] for e in events[:-1] if json.loads(e)["choices"])
    # Greedy decoding: the same text streamed as answered whole; the client did not ask for usage, so none came.
    assert text == whole["choices"][0]["text"] and all("usage" not in json.loads(e) for e in events[:-1])
    assert gateway.log_of(rid)["llm"]["completion_tokens"] == 5


def test_models_and_metrics(gateway):
    r = httpx.get(f"{gateway.url}/v1/models", timeout=10)
    assert r.status_code == 200 and [m["id"] for m in r.json()["data"]] == ["tiny"]
    assert httpx.get(f"{gateway.url}/health", timeout=10).json()["backend"] == "llama-server"
    text = httpx.get(f"{gateway.url}/metrics", timeout=10).text
    # The gateway's own, then llama-server's (--metrics) as it exposes them.
    assert "mlship_llm_time_to_first_token_seconds_bucket" in text and "llamacpp:tokens_predicted_total" in text


def test_bad_requests_are_4xx_and_not_logged(gateway):
    before = len(gateway.log_lines())
    cases = [
        (post(gateway, "/v1/chat/completions", {"messages": MESSAGES, "max_tokens": CONTEXT + 1}), 400, "max_tokens"),
        (post(gateway, "/v1/chat/completions", {"messages": [{"role": "user"}]}), 400, "messages[0].content"),
        (post(gateway, "/v1/completions", {"max_tokens": 3}), 400, "prompt"),
        (httpx.post(f"{gateway.url}/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}, timeout=10), 400, None),
        (httpx.post(f"{gateway.url}/v1/chat/completions", content=b"x" * (5 << 20), headers={"content-type": "application/json"}, timeout=30), 413, None),
        (httpx.post(f"{gateway.url}/v1/chat/completions", content=b"hi", headers={"content-type": "text/plain"}, timeout=10), 415, None),
        (httpx.get(f"{gateway.url}/v1/chat/completions", timeout=10), 405, None),
        (httpx.get(f"{gateway.url}/v2/nothing", timeout=10), 404, None),
    ]
    for r, status, param in cases:
        assert r.status_code == status, (status, r.text)
        error = r.json()["error"]
        assert error["message"] and error["param"] == param
    assert f"context of {CONTEXT} tokens" in cases[0][0].json()["error"]["message"]
    assert len(gateway.log_lines()) == before


def backend_metric(g: Gateway, name: str) -> float:
    text = httpx.get(f"{backend_url(g)}/metrics", timeout=10).text
    return float(next(line.split()[1] for line in text.splitlines() if line.startswith(name + " ")))


def test_a_client_that_disconnects_stops_the_generation(gateway):
    decoded_before = backend_metric(gateway, "llamacpp:n_decode_total")
    body = {"messages": MESSAGES, "max_tokens": CONTEXT - 64, "temperature": 0, "stream": True}
    with httpx.stream("POST", f"{gateway.url}/v1/chat/completions", json=body, headers={"x-request-id": "gone-1"}, timeout=60) as r:
        seen = 0
        for line in r.iter_lines():
            seen += line.startswith("data: ")
            if seen == 3:
                break
    line = gateway.log_of("gone-1")
    assert line["llm"]["status"] == 499 and line["llm"]["finish_reason"] == "cancelled"
    # The backend stopped before max_tokens: it was cancelled, not left to finish (every generated
    # token is one decode in llama-server's counter, a cancelled generation's too).
    deadline = time.monotonic() + 60
    while backend_metric(gateway, "llamacpp:requests_processing") > 0:
        assert time.monotonic() < deadline, "the backend is still generating"
        time.sleep(0.05)
    assert backend_metric(gateway, "llamacpp:n_decode_total") - decoded_before < body["max_tokens"]


def test_the_backend_ends_with_the_gateway(tmp_path, model):
    build = make_build(str(tmp_path / "build"), model, context=256)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        g = Gateway(build, ENV)
        backends = children(g.process.pid)
        assert len(backends) == 1 and os.path.basename(os.readlink(f"/proc/{backends[0]}/exe")) == "llama-server"
        g.stop(sig)
        deadline = time.monotonic() + 20
        while alive(backends[0]):
            assert time.monotonic() < deadline, f"llama-server {backends[0]} outlived the gateway ({sig.name})"
            time.sleep(0.05)
