"""mlship's LLM mode: an OpenAI-compatible gateway in front of llama.cpp's `llama-server`.

`serve.py serve` with an `LlmSpec` (spec.py) runs it (server.py): the gateway checks each request,
forwards it to the backend it started (or attached to), streams the answer back event by event and
logs every request in the prediction log with its tokens and latencies. Modules: openai (the API's
checks, the answer as the gateway reads it, the log line) · backend (start/attach llama-server) ·
gateway (the ASGI app) · server (start-up).
"""
