"""Shared feature transforms of churn: imported by train.py and by the serving app.

Lifted from churn.ipynb by `mlship init`. Edit the transforms here: training and serving both run
this code, and `mlship build` checks that they agree (the feature-parity check).
"""

# mlship: features (from churn.ipynb)
import numpy as np
import pandas as pd


def transform(df: pd.DataFrame) -> pd.DataFrame:
    """Raw customer fields -> model features. Used by training and by the serving app."""
    out = pd.DataFrame(index=df.index)
    tenure = df["tenure_months"].astype(float)
    charges = df["monthly_charges"].astype(float)
    out["tenure_months"] = tenure
    out["monthly_charges"] = charges
    out["charges_per_tenure"] = charges / (tenure + 1.0)
    out["log_support_calls"] = np.log1p(df["support_calls"].astype(float))
    out["is_new_customer"] = (tenure < 6).astype(float)
    out["plan"] = df["plan"].astype(str)
    out["payment_method"] = df["payment_method"].astype(str)
    return out


#: Raw request fields, as in features.schema of mlship.yaml.
SCHEMA = {
    "tenure_months": {"type": "integer", "min": 0, "max": 72},
    "monthly_charges": {"type": "number", "min": 5, "max": 134.82},
    "support_calls": {"type": "integer", "min": 0, "max": 8},
    "plan": {"type": "category", "values": ["basic", "enterprise", "pro"]},
    "payment_method": {"type": "category", "values": ["bank_transfer", "card", "invoice"]},
}
