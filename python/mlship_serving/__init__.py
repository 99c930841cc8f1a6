"""mlship's serving runtime: the same tested code for every project, driven by a `Spec`.

`mlship build` copies this package into the build beside a generated `serve.py` that holds only what
the manifest decides (the fields, the loader, the output, batching and workers) and calls `main`.

    python serve.py serve        run the HTTP server (what `docker run IMAGE serve` runs)
    python serve.py parity ...   the feature-parity check `mlship build` runs (not for humans)
    python serve.py calibrate .. the CPU cost calibration `mlship build` runs (not for humans)

Modules: spec (the decisions as data) · platforms (each cloud's ports, routes, model folders and
payload shapes: one table) · artifact (build.json, the model's folder and sha256) · loaders (one
function per model format) · predictor (records -> features -> model -> predictions) · validation
(the request schema; 422 lists every bad field) · batching (adaptive micro-batches) · logs (the daily
prediction log) · metrics (Prometheus, summed over workers) · openapi (/openapi.json) · handlers
(what each route answers, without HTTP) · app (the ASGI layer of one worker) · server (workers,
start-up). Build-time tools live in `tools/` (parity, calibrate): a serving process never imports
them, and the image leaves them out.

Routes (every platform's at once):
    GET  /ping /health /live /ready /  (and AIP_HEALTH_ROUTE)     200 once every worker has loaded
    POST /predict /invocations /score  (and AIP_PREDICT_ROUTE)    predictions
    POST /feedback                                                 ground truth for earlier predictions
    GET  /metrics                                                  Prometheus text, all workers
    GET  /openapi.json                                             the request and response schema

Prediction requests (application/json; a missing Content-Type is taken as JSON):
    {"field": value, ...}            one record -> {"id": ID, "version": V, "prediction": P}
    [{...}, {...}]                   a batch    -> {"id": ID, "version": V, "predictions": [P, ...]}
    {"instances": [{...}, ...]}      a batch (Vertex's shape, accepted on every route)
On AIP_PREDICT_ROUTE the answer is exactly {"predictions": [...]}, as Vertex AI requires. Every
response carries X-Request-Id (a client's own X-Request-Id is kept when it is 1-64 letters, digits,
'.', '_' or '-'), X-Model-Version and, for predictions, Server-Timing with the stages validate,
queue, features, model, post and log (milliseconds) and X-Batch-Size (records predicted together).
The log line of record i of a batch has the id "ID-i". Errors: {"error": {"status", "message",
"field", "errors": [{"field", "message", "record"}]}} with 400 (malformed JSON), 404, 405, 413 (body
or batch too large), 415 (not JSON), 422 (fields missing, unknown, of the wrong type or out of range:
every one listed).

Feedback: {"id": ID, "label": L} or a list of them -> {"accepted": N}, appended to
feedback-YYYY-MM-DD.jsonl beside the prediction log as {"ts", "id", "label"} before the answer. Ids
are not looked up (labels may come from another replica or after a restart). L is a number when the
model outputs a value (regression), else the class (a string, integer or boolean).
"""

import importlib
import sys

from .spec import Field, LlmSpec, Spec

__all__ = ["Field", "LlmSpec", "Spec", "main"]

# `serve.py <command>` for these runs the function of that name in mlship_serving/tools/<command>.py,
# imported only then: serving never loads a build-time tool.
TOOLS = ("parity", "calibrate")


def main(spec: Spec | LlmSpec, build_dir: str, argv: list[str]) -> None:
    """`serve.py [serve | parity ... | calibrate ...]`; an LlmSpec serves the LLM gateway (llm/)."""
    command = argv[0] if argv else "serve"
    if isinstance(spec, LlmSpec):
        if command != "serve":
            sys.stderr.write(f"usage: serve.py serve  (a language model has no {command!r} tool)\n")
            sys.exit(2)
        from .llm.server import serve_llm

        serve_llm(spec, build_dir)
    elif command == "serve":
        from .server import serve

        serve(spec, build_dir)
    elif command in TOOLS:
        try:
            tool = importlib.import_module(f"{__name__}.tools.{command}")
        except ModuleNotFoundError as e:
            if not (e.name or "").startswith(f"{__name__}.tools"):
                raise
            sys.stderr.write(f"serve.py {command}: a build-time tool, not part of the image; run it in the build folder mlship made\n")
            sys.exit(2)
        getattr(tool, command)(spec, argv[1:])
    else:
        sys.stderr.write(f"usage: serve.py serve | parity ... | calibrate ...  (got {command!r})\n")
        sys.exit(2)
