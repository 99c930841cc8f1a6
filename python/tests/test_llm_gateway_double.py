"""The gateway against a scripted backend (llm_double.py): what it normalises (a stream without
[DONE] or usage), errors before and after the first byte, no buffering, a disconnect reaching the
backend. The same gateway against a real llama-server: test_llm_gateway.py."""

import json
import os
import re
import time

import httpx
import pytest
from llm_double import Double
from llm_support import Gateway, make_build, make_model, sse_events

VERTEX_PREDICT = "/v1/endpoints/42/deployedModels/7:predict"


@pytest.fixture(scope="module")
def double():
    d = Double()
    yield d
    d.close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, double):
    folder = tmp_path_factory.mktemp("llm-double")
    build = make_build(str(folder / "build"), make_model(str(folder)))
    g = Gateway(
        build, {"MLSHIP_LLM_UPSTREAM": double.url, "MLSHIP_LLM_BACKEND": "vllm", "AIP_PREDICT_ROUTE": VERTEX_PREDICT, "AIP_HEALTH_ROUTE": "/vertex/health"}
    )
    yield g
    g.stop()


def chat(model: str, **extra):
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": True, **extra}


def stream_lines(gateway, body, rid):
    with httpx.stream("POST", f"{gateway.url}/v1/chat/completions", json=body, headers={"x-request-id": rid}, timeout=30) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"] == "text/event-stream"
        return list(r.iter_lines())


def test_a_stream_without_done_or_usage_is_completed(gateway, double):
    events = sse_events(stream_lines(gateway, chat("no-done", stream_options={"include_usage": True}), "nodone-1"))
    assert events[-1] == "[DONE]"
    usage = json.loads(events[-2])
    # The usage event the client asked for, built from the counted content events.
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 3 and usage["id"] == "chatcmpl-double"
    line = gateway.log_of("nodone-1")
    assert line["output"] == "Hello there!" and line["llm"]["completion_tokens"] == 3 and line["llm"]["usage_source"] == "counted"
    assert line["llm"]["finish_reason"] == "stop"


def test_usage_reaches_only_a_client_that_asked_for_it(gateway, double):
    events = sse_events(stream_lines(gateway, chat("plain"), "plain-1"))
    assert all("usage" not in json.loads(e) for e in events[:-1]) and events[-1] == "[DONE]"
    # The backend was asked for usage anyway: the log has the token counts.
    assert double.requests[-1]["stream_options"] == {"include_usage": True}
    assert gateway.log_of("plain-1")["llm"]["prompt_tokens"] == 7
    events = sse_events(stream_lines(gateway, chat("plain", stream_options={"include_usage": True}), "plain-2"))
    assert json.loads(events[-2])["usage"]["total_tokens"] == 10 and events.count("[DONE]") == 1


def test_unknown_fields_are_passed_through(gateway, double):
    stream_lines(gateway, chat("plain", mirostat=2, custom={"a": [1, 2]}), "fields-1")
    assert double.requests[-1]["mirostat"] == 2 and double.requests[-1]["custom"] == {"a": [1, 2]}


def test_an_error_before_the_first_byte_keeps_its_status_and_body(gateway):
    r = httpx.post(f"{gateway.url}/v1/chat/completions", json=chat("error"), timeout=30)
    assert r.status_code == 503
    assert r.json()["error"]["message"] == "loading"
    assert gateway.log_of(r.headers["x-request-id"])["llm"]["status"] == 503


def test_an_error_after_the_first_byte_travels_in_the_stream(gateway):
    events = sse_events(stream_lines(gateway, chat("break"), "break-1"))
    assert json.loads(events[1])["choices"][0]["delta"]["content"] == "Hello"
    assert "error" in json.loads(events[-2]) and events[-1] == "[DONE]"
    assert gateway.log_of("break-1")["llm"]["error"]["type"] == "server_error"


def test_events_are_forwarded_as_they_come(gateway, double):
    double.release.clear()
    with httpx.stream("POST", f"{gateway.url}/v1/chat/completions", json=chat("hold"), headers={"x-request-id": "hold-1"}, timeout=30) as r:
        lines = r.iter_lines()
        # The backend holds the rest of its answer until /release: this event cannot be a buffered one.
        while not (line := next(lines)).startswith("data: ") or "Hello" not in line:
            pass
        assert [x for x in gateway.log_lines() if x["id"] == "hold-1"] == []
        httpx.get(f"{double.url}/release", timeout=5)
        rest = sse_events(list(lines))
    assert rest[-1] == "[DONE]" and gateway.log_of("hold-1")["output"] == "Hello there!"


def test_a_client_that_disconnects_cancels_the_backend(gateway, double):
    with httpx.stream("POST", f"{gateway.url}/v1/chat/completions", json=chat("endless"), headers={"x-request-id": "gone-1"}, timeout=30) as r:
        seen = 0
        for line in r.iter_lines():
            seen += line.startswith("data: ")
            if seen == 3:
                break
    deadline = time.monotonic() + 10
    while not double.closed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert double.closed, "the backend kept generating after the client left"
    line = gateway.log_of("gone-1")
    assert line["llm"]["status"] == 499 and line["llm"]["finish_reason"] == "cancelled" and line["llm"]["completion_tokens"] >= 3


def test_the_backend_unreachable_is_a_502_in_the_openai_shape(tmp_path):
    build = make_build(str(tmp_path / "build"), make_model(str(tmp_path)))
    dead = Double()
    g = Gateway(build, {"MLSHIP_LLM_UPSTREAM": dead.url})
    try:
        dead.close()
        r = httpx.post(f"{g.url}/v1/chat/completions", json=chat("plain", stream=False), timeout=30)
        assert r.status_code == 502 and r.json()["error"]["type"] == "server_error"
        assert httpx.get(f"{g.url}/health", timeout=10).status_code == 503
    finally:
        g.stop()


def metric(text: str, name: str) -> float:
    found = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(name + " ")]
    return float(found[0]) if found else 0.0


def test_metrics_count_requests_tokens_and_latencies(gateway):
    def scrape() -> str:
        r = httpx.get(f"{gateway.url}/metrics", timeout=10)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        return r.text

    before = scrape()
    stream_lines(gateway, chat("plain"), "metrics-1")
    after = scrape()
    ok = 'mlship_requests_total{route="/v1/chat/completions",status="200"}'
    assert metric(after, ok) == metric(before, ok) + 1
    for name, step in (
        ("mlship_llm_time_to_first_token_seconds_count", 1),
        ("mlship_llm_inter_token_latency_seconds_count", 1),
        ("mlship_llm_request_duration_seconds_count", 1),
        ("mlship_llm_completion_tokens_total", 3),
        ("mlship_llm_prompt_tokens_total", 7),
    ):
        assert metric(after, name) == metric(before, name) + step, name
    assert 'mlship_model_info{model="tiny",version="v1",build="llm-test-build",flavor="gguf"} 1' in after


def test_a_vllm_backends_metrics_pass_through_as_one_valid_page(gateway):
    """Behind vLLM (the double serves a recorded vLLM 0.10 /metrics): every vllm:* family once, as
    vLLM wrote it, and the queue time the gateway cannot see per request relayed under its own name."""
    assert httpx.get(f"{gateway.url}/health", timeout=10).json()["backend"] == "vllm"
    text = httpx.get(f"{gateway.url}/metrics", timeout=10).text
    with open(os.path.join(os.path.dirname(__file__), "fixtures", "vllm-0.10-metrics.txt")) as f:
        recorded = [line for line in f.read().splitlines() if line]
    lines = text.splitlines()
    assert all(line in lines for line in recorded)
    types = [line.split()[2] for line in lines if line.startswith("# TYPE ")]
    assert len(types) == len(set(types)) and "vllm:request_queue_time_seconds" in types
    for name in ("vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds", "vllm:e2e_request_latency_seconds"):
        assert f"# TYPE {name} histogram" in lines
    # vLLM's answers carry no timings: mlship's queue-time histogram is vLLM's, its label sets added up.
    assert 'mlship_llm_queue_time_seconds_bucket{le="0.5"} 7' in lines
    assert metric(text, "mlship_llm_queue_time_seconds_count") == 10 and metric(text, "mlship_llm_queue_time_seconds_sum") == 4.5
    # One valid exposition: every line a comment or a sample of a declared family.
    samples = [line for line in lines if line and not line.startswith("#")]
    assert all(re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+$", line) for line in samples)


def test_each_platform_predict_route_answers_openai_bodies(gateway, double):
    for route in ("/invocations", "/score", "/predict"):
        r = httpx.post(f"{gateway.url}{route}", json={"messages": [{"role": "user", "content": "hi"}], "model": "plain"}, timeout=30)
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "Hello there!", (route, r.text)
        assert gateway.log_of(r.headers["x-request-id"])["input"]["endpoint"] == "chat"
    # Streamed through SageMaker's route (InvokeEndpointWithResponseStream) as through the OpenAI one.
    with httpx.stream("POST", f"{gateway.url}/invocations", json=chat("plain"), timeout=30) as s:
        assert s.headers["content-type"] == "text/event-stream" and sse_events(list(s.iter_lines()))[-1] == "[DONE]"
    r = httpx.post(f"{gateway.url}/invocations", json={"inputs": "hi"}, timeout=30)
    assert r.status_code == 400 and "messages" in r.json()["error"]["message"]


def test_vertex_instances_answer_exactly_predictions(gateway):
    body = {"instances": [{"messages": [{"role": "user", "content": "a"}]}, {"messages": [{"role": "user", "content": "b"}], "max_tokens": 4}]}
    r = httpx.post(f"{gateway.url}{VERTEX_PREDICT}", json=body, headers={"x-request-id": "vertex-1"}, timeout=30)
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["predictions"] and [p["choices"][0]["message"]["content"] for p in r.json()["predictions"]] == ["Hello there!"] * 2
    assert gateway.log_of("vertex-1-1")["input"]["messages"] == body["instances"][1]["messages"]
    bad = httpx.post(f"{gateway.url}{VERTEX_PREDICT}", json={"instances": [body["instances"][0], {"messages": []}]}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "instances[1].messages"
    assert httpx.get(f"{gateway.url}/vertex/health", timeout=10).status_code == 200


def test_vertex_raw_predict_bodies_are_answered_as_openai(gateway):
    # rawPredict / streamRawPredict hand the container the caller's body as it is, on the same route.
    r = httpx.post(f"{gateway.url}{VERTEX_PREDICT}", json={"messages": [{"role": "user", "content": "hi"}]}, headers={"x-request-id": "raw-1"}, timeout=30)
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "Hello there!", r.text
    assert gateway.log_of("raw-1")["input"]["endpoint"] == "chat"
    with httpx.stream("POST", f"{gateway.url}{VERTEX_PREDICT}", json=chat("plain"), timeout=30) as s:
        assert s.headers["content-type"] == "text/event-stream" and sse_events(list(s.iter_lines()))[-1] == "[DONE]"
    bad = httpx.post(f"{gateway.url}{VERTEX_PREDICT}", json={"inputs": "hi"}, timeout=30)
    assert bad.status_code == 400 and "instances" in bad.json()["error"]["message"]


def test_prompts_and_completions_can_be_logged_hashed(tmp_path, double):
    import hashlib

    build = make_build(str(tmp_path / "build"), make_model(str(tmp_path)), log_content="hashed")
    g = Gateway(build, {"MLSHIP_LLM_UPSTREAM": double.url})
    try:
        r = httpx.post(f"{g.url}/v1/chat/completions", json={"messages": [{"role": "user", "content": "my secret"}]}, timeout=30)
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "Hello there!"
        line = g.log_of(r.headers["x-request-id"])
        digest = lambda text: "sha256:" + hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
        assert line["input"]["messages"] == [{"role": "user", "content": digest("my secret")}]
        assert line["output"] == digest("Hello there!") and line["llm"]["completion_tokens"] == 3
    finally:
        g.stop()


def test_an_unknown_log_content_setting_stops_the_start(tmp_path, double):
    build = make_build(str(tmp_path / "build"), make_model(str(tmp_path)))
    with pytest.raises(AssertionError, match=r"exited \(1\):\nmlship serve: MLSHIP_LLM_LOG_CONTENT='plain' is not one of full, redacted, hashed"):
        Gateway(build, {"MLSHIP_LLM_UPSTREAM": double.url, "MLSHIP_LLM_LOG_CONTENT": "plain"})


def test_platform_routes_carry_the_log_lines_facts_and_v1_stays_exact(gateway, double):
    body = {"messages": [{"role": "user", "content": "hi"}], "model": "plain"}
    plain = httpx.post(f"{gateway.url}/v1/chat/completions", json=body, timeout=30)
    assert plain.status_code == 200 and "mlship" not in plain.json()
    for route in ("/invocations", "/score", "/predict"):
        r = httpx.post(f"{gateway.url}{route}", json=body, headers={"x-request-id": f"facts-{route[1:]}"}, timeout=30)
        assert r.status_code == 200, r.text
        answer = r.json()
        line = gateway.log_of(f"facts-{route[1:]}")
        assert answer["mlship"] == {"id": f"facts-{route[1:]}", "version": "v1", "llm": line["llm"]}
        assert set(answer) - {"mlship"} == set(plain.json()) and answer["choices"] == plain.json()["choices"]
    # Streamed: the facts ride in an SSE comment before [DONE]; the OpenAI route has none.
    with httpx.stream("POST", f"{gateway.url}/invocations", json=chat("plain"), headers={"x-request-id": "facts-stream"}, timeout=30) as s:
        lines = list(s.iter_lines())
    comments = [line for line in lines if line.startswith(": mlship ")]
    assert len(comments) == 1 and sse_events(lines)[-1] == "[DONE]"
    assert json.loads(comments[0][len(": mlship ") :]) == {"id": "facts-stream", "version": "v1", "llm": gateway.log_of("facts-stream")["llm"]}
    assert not any(line.startswith(":") for line in stream_lines(gateway, chat("plain"), "facts-v1"))
    vertex = httpx.post(f"{gateway.url}{VERTEX_PREDICT}", json={"instances": [body]}, headers={"x-request-id": "facts-vertex"}, timeout=30)
    assert vertex.json()["predictions"][0]["mlship"] == {"id": "facts-vertex-0", "version": "v1", "llm": gateway.log_of("facts-vertex-0")["llm"]}
