"""Real LLM traffic for drift-check's tests: the gateway (python/mlship_serving/llm/) in front of a
real llama-server on the tiny model, as python/tests/llm_support.py runs it, answering the requests
given, so the prediction log holds lines the gateway itself wrote.

    python llm_traffic.py WORK_DIR LOG_CONTENT < requests.json

`requests.json` is a list of {"id": request id (sent as X-Request-Id), "body": an OpenAI chat or
completion body (streamed when it says "stream": true)}. The log lands in WORK_DIR/logs; one line
per request, in the order sent (written before each answer's last byte). Exits non-zero when a request is not answered with 200.
"""

import json
import os
import sys

import httpx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "python", "tests"))
from llm_support import Gateway, make_build, make_model  # noqa: E402


def main() -> None:
    work, log_content = sys.argv[1], sys.argv[2]
    requests = json.load(sys.stdin)
    model = make_model(work)
    build = make_build(os.path.join(work, "build"), model, context=2048, log_content=log_content)
    env = {
        "MLSHIP_LLAMA_SERVER": os.environ["MLSHIP_LLAMA_SERVER"],
        "MLSHIP_LLAMA_THREADS": "1",
        "MLSHIP_LOG_DIR": os.path.join(work, "logs"),
    }
    gateway = Gateway(build, env)
    try:
        with httpx.Client(base_url=gateway.url, timeout=60) as client:
            for r in requests:
                body = r["body"]
                route = "/v1/chat/completions" if "messages" in body else "/v1/completions"
                answer = client.post(route, json=body, headers={"X-Request-Id": r["id"]})
                if answer.status_code != 200:
                    raise SystemExit(f"{r['id']}: {answer.status_code} {answer.text[:300]}")
    finally:
        gateway.stop()


if __name__ == "__main__":
    main()
