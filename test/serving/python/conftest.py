"""pytest setup for the serving runtime: import mlship_serving from the templates folder (what the npm
package ships) and give tests the example project's spec, features package and trained model."""
import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
EXAMPLE = os.path.join(REPO, "examples", "churn")
sys.path.insert(0, os.path.join(REPO, "templates", "serving"))
sys.path.insert(0, EXAMPLE)  # the example's features package

from mlship_serving import Field, Spec  # noqa: E402

EXAMPLE_FIELDS = (
    Field("tenure_months", "integer", 0, 72, None, False),
    Field("monthly_charges", "number", 5, 134.82, None, False),
    Field("support_calls", "integer", 0, 8, None, False),
    Field("plan", "category", None, None, ("basic", "enterprise", "pro"), False),
    Field("payment_method", "category", None, None, ("bank_transfer", "card", "invoice"), False),
)

GOOD = {"tenure_months": 3, "monthly_charges": 80.5, "support_calls": 2, "plan": "pro", "payment_method": "card"}


@pytest.fixture
def spec():
    return Spec(
        name="churn",
        features_package="features",
        model_file="model.joblib",
        flavor="sklearn",
        loader="joblib",
        output="probability",
        fields=EXAMPLE_FIELDS,
        warm_record=dict(GOOD),
    )


@pytest.fixture
def model_path():
    return os.path.join(EXAMPLE, "model", "model.joblib")


@pytest.fixture
def baseline_path():
    return os.path.join(EXAMPLE, "data", "train.csv")
