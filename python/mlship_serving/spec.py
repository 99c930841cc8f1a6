"""What the manifest decides, as data: the one input of the runtime that differs between projects.

The generated `serve.py` beside this package builds one `Spec` and hands it to `mlship_serving.main`.
"""

from typing import Any, NamedTuple


class Field(NamedTuple):
    """One request field of `features.schema`, in schema order."""

    name: str
    type: str  # number | integer | category | string | boolean
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None  # the allowed categories
    nullable: bool = False


class Spec(NamedTuple):
    """A project's serving decisions (all of them come from mlship.yaml and the build)."""

    name: str  # the model's name: in logs, metrics and /ping
    features_package: str  # the package whose transform() train.py applies
    model_file: str  # file name of the artifact
    flavor: str  # sklearn | xgboost | lightgbm | onnx | pytorch | transformers (in /metrics)
    loader: str  # a key of loaders.LOADERS
    output: str  # probability | label | value
    fields: tuple[Field, ...]
    warm_record: dict[str, Any]  # a valid record, predicted once before the port opens
    max_body: int = 1 << 20  # bytes of a request body
    max_request_records: int = 1000  # records of one request (a client batch)
    # Adaptive micro-batching: None turns it off (one request, one predict call).
    max_batch: int | None = 64  # records per transform + predict call
    max_wait_ms: float = 0  # extra wait for a fuller batch; 0: never wait when idle
    workers: int | None = None  # worker processes; None: the CPUs the container may use
    model_options: dict[str, Any] | None = None  # transformers: {"task": ..., "max_tokens": ...}


class LlmSpec(NamedTuple):
    """A language model's serving decisions: the OpenAI-compatible gateway in front of `llama-server`
    (mlship_serving/llm/). The same `serve.py serve` runs it."""

    name: str  # the model's name: in logs, /v1/models (llama-server's --alias) and /health
    model_file: str  # file name of the GGUF artifact
    context: int = 4096  # tokens of context per request (llama-server's -c); max_tokens is checked against it
    max_body: int = 4 << 20  # bytes of a request body
    log_content: str = "full"  # prompts and completions in the log: full | redacted | hashed
    threads: int | None = None  # llama-server's -t; None: the CPUs this container may use
    parallel: int = 1  # requests generated at once (llama-server's -np)
    load_timeout_s: float = 600.0  # how long the backend may take to load the model
    server_args: tuple[str, ...] = ()  # more llama-server arguments, as given
