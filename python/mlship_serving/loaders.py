"""The seam between an artifact and the app: one function per loader, registered in LOADERS.

A loader takes the artifact's path, the manifest's `model.output` and the model options (the features
package's name, and `model.task`/`model.max_tokens` for transformers) and returns `run(X)`, which maps
the features package's output for a batch of records (a DataFrame, or whatever transform() returns) to
the model's raw answer with one row per record: class probabilities (n, k) when output is
"probability", else labels or values (n,) or (n, 1). The app turns that into predictions
(`predictor.post`). Heavy libraries are imported inside the loader, so a flavor costs nothing to the
others. `mlship build` picks the key (src/packaging/requirements.ts); a new flavor is a new function here
and a row in LOADERS.
"""

import importlib
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from .spec import Spec

# The model as the app calls it: the features of a batch -> its raw answer (an array-like).
Run = Callable[[Any], Any]
# Model options: the features package's name and the flavor's own settings (task, max_tokens).
Options = dict[str, Any]


class LoadError(Exception):
    """The artifact cannot be loaded as its flavor says; the message says how to fix it."""


def _float32(X: Any) -> np.ndarray:
    return X.to_numpy(dtype=np.float32) if hasattr(X, "to_numpy") else np.asarray(X, dtype=np.float32)


def joblib_model(path: str, output: str, options: Options | None = None) -> Run:
    """scikit-learn estimators and pipelines, and xgboost/lightgbm's scikit-learn wrappers."""
    import joblib

    model = joblib.load(path)
    run: Run = model.predict_proba if output == "probability" else model.predict
    return run


def threads() -> int:
    """Threads a numeric library may use in this worker: MLSHIP_THREADS (the server sets it to the
    container's CPUs divided among its workers; the build's calibration sets 1), else every CPU."""
    raw = os.environ.get("MLSHIP_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def lightgbm_model(path: str, output: str, options: Options) -> Run:
    """LightGBM: a Booster saved with `booster.save_model("model.txt")` (LightGBM's own text format,
    readable by any later LightGBM), or a joblib-pickled LGBMClassifier/LGBMRegressor."""
    if not path.endswith((".txt", ".lgb", ".model")):
        return joblib_model(path, output, options)
    import lightgbm

    booster = lightgbm.Booster(model_file=path)
    n = threads()
    binary = booster.params.get("objective", "").startswith(("binary", "cross_entropy", "xentropy"))

    def run(X: Any) -> Any:
        raw = np.asarray(booster.predict(X, num_threads=n))
        if output == "probability" and binary and raw.ndim == 1:
            return np.column_stack([1.0 - raw, raw])  # (n, 2): the app answers the positive class
        if output == "label" and raw.ndim == 2:
            return raw.argmax(axis=1)
        if output == "label" and binary:
            return (raw > 0.5).astype(np.int64)
        return raw

    return run


def onnx_model(path: str, output: str, options: Options) -> Run:
    """An ONNX graph with one float32 input (n, features); skl2onnx classifiers answer (labels,
    probabilities). Runs on CPU with the worker's threads (CUDA when onnxruntime-gpu has a GPU)."""
    import onnxruntime

    so = onnxruntime.SessionOptions()
    so.intra_op_num_threads = threads()
    so.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, sess_options=so, providers=onnxruntime.get_available_providers())
    name = session.get_inputs()[0].name

    def run(X: Any) -> Any:
        outs = session.run(None, {name: _float32(X)})
        if output == "probability" and len(outs) > 1:
            return np.asarray(outs[-1])
        out = np.asarray(outs[0])
        return out.argmax(axis=1) if output == "label" and out.ndim == 2 and out.shape[1] > 1 else out

    return run


def _torch(options: Options) -> Any:
    import torch

    torch.set_num_threads(threads())
    return torch


def _is_torchscript(path: str) -> bool:
    """torch.jit.save archives hold code/ (the compiled module); torch.save state dicts do not."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return any("/code/" in n for n in z.namelist())
    except zipfile.BadZipFile:
        return False


def pytorch_model(path: str, output: str, options: Options) -> Run:
    """PyTorch, in the form users ship: `torch.save(model.state_dict(), "model.pt")` with the module
    built by `build_model()` in the features package (the code train.py built it with), loaded with
    weights_only=True (no pickled code runs). A TorchScript file (torch.jit.save) loads as it is."""
    torch = _torch(options)
    if _is_torchscript(path):
        module = torch.jit.load(path, map_location="cpu")
    else:
        package = importlib.import_module(options["features_package"])
        build = getattr(package, "build_model", None)
        if build is None:
            raise LoadError(
                f"{path} is a state dict, and the features package {options['features_package']!r} has no build_model(): "
                "add `def build_model(): return YourModule(...)` to it (the module train.py fits), or save the model with torch.jit.save"
            )
        module = build()
        module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    module.eval()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    module.to(device)

    def run(X: Any) -> Any:
        with torch.inference_mode():
            out = module(torch.from_numpy(_float32(X)).to(device)).float().cpu().numpy()
        return out.argmax(axis=1) if output == "label" and out.ndim == 2 and out.shape[1] > 1 else out

    return run


def transformers_model(path: str, output: str, options: Options) -> Run:
    """A Hugging Face folder as `save_pretrained` writes it (config.json, model.safetensors, the
    tokenizer's files), read locally only. Texts are the first column transform() returns, tokenized
    with padding to the longest text of the batch and truncation at max_tokens. classification: class
    probabilities (softmax) or the config's label; embedding: the attention-masked mean of the last
    hidden states."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    torch = _torch(options)
    import transformers

    transformers.utils.logging.disable_progress_bar()
    task = options.get("task", "classification")
    max_tokens = int(options.get("max_tokens", 128))
    tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    cls = transformers.AutoModelForSequenceClassification if task == "classification" else transformers.AutoModel
    model = cls.from_pretrained(path, local_files_only=True).eval()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    id2label = getattr(model.config, "id2label", None) or {}

    def texts_of(X: Any) -> list[str]:
        if hasattr(X, "iloc"):
            col = X.iloc[:, 0] if getattr(X, "ndim", 1) == 2 else X
            return [str(t) for t in col.tolist()]
        return [str(t[0] if isinstance(t, (list, tuple)) else t) for t in X]

    def run(X: Any) -> Any:
        batch = tokenizer(texts_of(X), padding="longest", truncation=True, max_length=max_tokens, return_tensors="pt").to(device)
        with torch.inference_mode():
            out = model(**batch)
        if task == "classification":
            probs = torch.softmax(out.logits.float(), dim=-1).cpu().numpy()
            if output == "label":
                return np.array([id2label.get(int(i), int(i)) for i in probs.argmax(axis=1)], dtype=object)
            return probs
        mask = batch["attention_mask"].unsqueeze(-1).to(out.last_hidden_state.dtype)
        pooled = (out.last_hidden_state * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
        return pooled.float().cpu().numpy()

    return run


LOADERS: dict[str, Callable[[str, str, Options], Run]] = {
    "joblib": joblib_model,
    "lightgbm": lightgbm_model,
    "onnx": onnx_model,
    "pytorch": pytorch_model,
    "transformers": transformers_model,
}


def load(loader: str, path: str, output: str, options: Options | None = None) -> Run:
    """`run(X)` for the artifact at `path` with the named loader."""
    try:
        make = LOADERS[loader]
    except KeyError:
        raise ValueError(f"no loader {loader!r}; known: {', '.join(sorted(LOADERS))}") from None
    return make(path, output, options or {})


def load_for(spec: Spec, path: str) -> Run:
    """`run(X)` for a project's artifact: its loader, output and model options from the Spec."""
    return load(spec.loader, path, spec.output, {"features_package": spec.features_package, **(spec.model_options or {})})
