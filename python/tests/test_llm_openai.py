import hashlib

import pytest
from mlship_serving.llm.openai import CHAT, COMPLETIONS, ApiError, Completion, check_request, log_line, redact

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    "payload, param",
    [
        ([], None),
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": "hi"}, "messages"),
        ({"messages": ["hi"]}, "messages[0]"),
        ({"messages": [{"role": "boss", "content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": [{"text": "no type"}]}]}, "messages[0].content"),
        ({"messages": MESSAGES, "max_tokens": 0}, "max_tokens"),
        ({"messages": MESSAGES, "max_tokens": "10"}, "max_tokens"),
        ({"messages": MESSAGES, "max_tokens": True}, "max_tokens"),
        ({"messages": MESSAGES, "max_tokens": 513}, "max_tokens"),
        ({"messages": MESSAGES, "max_completion_tokens": 10_000}, "max_completion_tokens"),
        ({"messages": MESSAGES, "stream": "yes"}, "stream"),
        ({"messages": MESSAGES, "stream_options": True}, "stream_options"),
    ],
)
def test_chat_requests_a_backend_cannot_answer_are_400_naming_the_param(payload, param):
    with pytest.raises(ApiError) as e:
        check_request(CHAT, payload, 512)
    assert e.value.status == 400 and e.value.param == param
    assert e.value.body()["error"]["type"] == "invalid_request_error"


def test_max_tokens_message_says_the_context():
    with pytest.raises(ApiError, match="more than the model's context of 512 tokens; ask for at most 512"):
        check_request(CHAT, {"messages": MESSAGES, "max_tokens": 600}, 512)


def test_valid_requests_pass_with_fields_the_gateway_does_not_know():
    check_request(CHAT, {"messages": MESSAGES, "max_tokens": 512, "mirostat": 2, "stream": True, "stream_options": {"include_usage": True}}, 512)
    check_request(
        CHAT, {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}, {"role": "assistant", "content": None, "tool_calls": [{}]}]}, 512
    )
    for prompt in ("hi", ["a", "b"], [1, 2, 3]):
        check_request(COMPLETIONS, {"prompt": prompt, "max_tokens": 4}, 512)


@pytest.mark.parametrize("prompt", [None, 3, [], ["a", 1], [True]])
def test_completion_prompts_must_be_text_or_tokens(prompt):
    with pytest.raises(ApiError) as e:
        check_request(COMPLETIONS, {"prompt": prompt}, 512)
    assert e.value.param == "prompt"


def test_redaction_keeps_roles_and_structure():
    parts = [{"role": "user", "content": [{"type": "text", "text": "secret"}]}, {"role": "assistant", "content": "answer"}]
    assert redact(parts, "full") is parts
    assert redact(parts, "redacted") == [
        {"role": "user", "content": [{"type": "text", "text": "[redacted: 6 chars]"}]},
        {"role": "assistant", "content": "[redacted: 6 chars]"},
    ]
    hashed = redact(parts, "hashed")
    assert hashed[1]["content"] == "sha256:" + hashlib.sha256(b"answer").hexdigest()
    assert parts[1]["content"] == "answer"  # the request itself is untouched


def test_a_streamed_completion_measures_ttft_to_the_first_content_not_the_role_chunk():
    c = Completion(True, t0=10.0)
    c.event({"choices": [{"delta": {"role": "assistant", "content": None}}]}, 10.1)
    c.event({"choices": [{"delta": {"content": ""}}]}, 10.15)
    for i, now in enumerate((10.2, 10.3, 10.5)):
        c.event({"choices": [{"delta": {"content": f"t{i}"}, "finish_reason": "length" if i == 2 else None}]}, now)
    c.event({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 2}}}, 10.5)
    line = log_line(CHAT, {"messages": MESSAGES}, c, True, 200, 10.6, "full")
    assert line.output == "t0t1t2"
    assert line.llm["ttft_ms"] == pytest.approx(200.0) and line.llm["itl_ms"] == pytest.approx(150.0) and line.llm["e2e_ms"] == pytest.approx(600.0)
    assert (line.llm["prompt_tokens"], line.llm["completion_tokens"], line.llm["cached_tokens"]) == (5, 3, 2)
    assert line.llm["finish_reason"] == "length" and line.llm["usage_source"] == "backend"
    assert line.input == {"endpoint": "chat", "messages": MESSAGES}


def test_a_whole_answer_takes_its_latencies_from_the_backend_timings():
    c = Completion(False, t0=0.0)
    c.answer(
        {
            "choices": [{"text": "abc", "finish_reason": "stop"}],
            "timings": {"prompt_n": 4, "predicted_n": 3, "predicted_ms": 30.0, "predicted_per_token_ms": 10.0},
        },
        0.05,
    )
    line = log_line(COMPLETIONS, {"prompt": "p"}, c, False, 200, 0.1, "hashed")
    # No usage: the timings' counts; time to first token is the time before generation began.
    assert (line.llm["prompt_tokens"], line.llm["completion_tokens"]) == (4, 3) and line.llm["usage_source"] == "timings"
    assert line.llm["ttft_ms"] == pytest.approx(70.0) and line.llm["itl_ms"] == 10.0
    # Without the backend's prompt time there is no telling how long it queued.
    assert line.llm["queue_ms"] is None
    assert line.input["prompt"].startswith("sha256:") and line.output.startswith("sha256:")


def test_queue_time_is_what_the_backend_did_not_spend_on_the_request():
    c = Completion(False, t0=0.0)
    c.answer(
        {"choices": [{"text": "abc", "finish_reason": "stop"}], "timings": {"prompt_n": 4, "prompt_ms": 20.0, "predicted_n": 3, "predicted_ms": 30.0}}, 0.1
    )
    line = log_line(COMPLETIONS, {"prompt": "p"}, c, False, 200, 0.125, "full")
    # 125 ms end to end, 50 of them the backend's: 75 ms waiting (for a slot, or in transit).
    assert line.llm["queue_ms"] == pytest.approx(75.0)
