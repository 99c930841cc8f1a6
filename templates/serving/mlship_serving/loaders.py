"""The seam between an artifact and the app: one function per loader, registered in LOADERS.

A loader takes the artifact's path and the manifest's `model.output` and returns `run(X)`, which maps
the features package's output for a batch of records (a DataFrame, or whatever transform() returns) to
the model's raw answer with one row per record: class probabilities (n, k) when output is
"probability", else labels or values (n,) or (n, 1). The app turns that into predictions
(`predictor.post`). Heavy libraries are imported inside the loader, so a flavor costs nothing to the
others. `mlship build` picks the key (src/build/requirements.ts); a new flavor is a new function here
and a row in LOADERS.
"""
import numpy as np


def _float32(X):
    return X.to_numpy(dtype=np.float32) if hasattr(X, "to_numpy") else np.asarray(X, dtype=np.float32)


def joblib_model(path, output):
    """scikit-learn estimators and pipelines, and xgboost/lightgbm's scikit-learn wrappers."""
    import joblib

    model = joblib.load(path)
    return model.predict_proba if output == "probability" else model.predict


def onnx_model(path, output):
    """An ONNX graph with one input; skl2onnx classifiers answer (labels, probabilities)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=onnxruntime.get_available_providers())
    name = session.get_inputs()[0].name

    def run(X):
        outs = session.run(None, {name: _float32(X)})
        if output == "probability" and len(outs) > 1:
            return np.asarray(outs[-1])
        return np.asarray(outs[0])

    return run


def torchscript_model(path, output):
    """A TorchScript module taking one float32 tensor (n, features)."""
    import torch

    module = torch.jit.load(path, map_location="cpu")
    module.eval()

    def run(X):
        with torch.no_grad():
            return module(torch.from_numpy(_float32(X))).numpy()

    return run


LOADERS = {
    "joblib": joblib_model,
    "onnx": onnx_model,
    "torchscript": torchscript_model,
}


def load(loader, path, output):
    """`run(X)` for the artifact at `path` with the named loader."""
    try:
        make = LOADERS[loader]
    except KeyError:
        raise ValueError(f"no loader {loader!r}; known: {', '.join(sorted(LOADERS))}") from None
    return make(path, output)
