"""Records -> features -> model -> predictions: the one code path of every prediction (HTTP, batched
or not, and the build-time tools `mlship build` runs: tools/parity.py, tools/calibrate.py)."""

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .loaders import Run
from .spec import Spec

# A validated request record: field name -> JSON value (numbers normalised by validation.py).
Record = dict[str, Any]


def post(raw: Any, output: str) -> list[Any]:
    """The model's raw answer -> one JSON-ready prediction per record."""
    raw = np.asarray(raw)
    out: list[Any]
    if output == "probability":
        if raw.ndim == 2 and raw.shape[1] == 2:
            out = raw[:, 1].tolist()  # the positive class
        else:
            out = raw.tolist()
    else:
        out = raw.reshape(len(raw), -1)[:, 0].tolist() if raw.ndim > 1 and raw.shape[1] == 1 else raw.tolist()
    return out


class Predictor:
    """The features package's transform and the model, for one project."""

    def __init__(self, spec: Spec, run: Run | None = None) -> None:
        self.spec = spec
        self.columns = [f.name for f in spec.fields]
        # number fields are float64 whatever the other records of a batch hold: a missing value is NaN,
        # never None in an object column, so a record gives the same features alone or in any batch.
        self.floats = frozenset(f.name for f in spec.fields if f.type == "number")
        self.transform: Callable[[Any], Any] = importlib.import_module(spec.features_package).transform
        self.run = run

    def frame(self, records: list[Record]) -> Any:
        """Validated records -> the frame train.py's transform expects (schema columns, schema order)."""
        data: dict[str, Any] = {}
        for c in self.columns:
            values = [r[c] for r in records]
            data[c] = np.array([np.nan if v is None else v for v in values], dtype=np.float64) if c in self.floats else values
        return pd.DataFrame(data, columns=self.columns)

    def features(self, records: list[Record]) -> Any:
        return self.transform(self.frame(records))

    def predict(self, X: Any) -> Any:
        if self.run is None:
            raise RuntimeError("the model is not loaded: set Predictor.run (loaders.load_for) first")
        return self.run(X)

    def post(self, raw: Any) -> list[Any]:
        return post(raw, self.spec.output)

    def __call__(self, records: list[Record]) -> list[Any]:
        """Predictions of a list of records, in one transform and one model call."""
        return self.post(self.predict(self.features(records)))
