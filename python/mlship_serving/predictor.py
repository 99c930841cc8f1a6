"""Records -> features -> model -> predictions: the one code path of every prediction (HTTP, batched
or not, and the parity check `mlship build` runs)."""

import importlib

import numpy as np
import pandas as pd


def post(raw, output):
    """The model's raw answer -> one JSON-ready prediction per record."""
    raw = np.asarray(raw)
    if output == "probability":
        if raw.ndim == 2 and raw.shape[1] == 2:
            return raw[:, 1].tolist()  # the positive class
        return raw.tolist()
    return raw.reshape(len(raw), -1)[:, 0].tolist() if raw.ndim > 1 and raw.shape[1] == 1 else raw.tolist()


class Predictor:
    """The features package's transform and the model, for one project."""

    def __init__(self, spec, run=None):
        self.spec = spec
        self.columns = [f.name for f in spec.fields]
        # number fields are float64 whatever the other records of a batch hold: a missing value is NaN,
        # never None in an object column, so a record gives the same features alone or in any batch.
        self.floats = frozenset(f.name for f in spec.fields if f.type == "number")
        self.transform = importlib.import_module(spec.features_package).transform
        self.run = run

    def frame(self, records):
        """Validated records -> the frame train.py's transform expects (schema columns, schema order)."""
        data = {}
        for c in self.columns:
            values = [r[c] for r in records]
            data[c] = np.array([np.nan if v is None else v for v in values], dtype=np.float64) if c in self.floats else values
        return pd.DataFrame(data, columns=self.columns)

    def features(self, records):
        return self.transform(self.frame(records))

    def predict(self, X):
        return self.run(X)

    def post(self, raw):
        return post(raw, self.spec.output)

    def __call__(self, records):
        """Predictions of a list of records, in one transform and one model call."""
        return self.post(self.run(self.features(records)))
