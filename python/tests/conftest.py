"""pytest setup for the serving runtime: import mlship_serving from python/ (what the npm
package ships) and give tests the example project's spec (from the golden generated serve.py),
features package and trained model."""

import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(REPO, "examples", "churn")
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, EXAMPLE)  # the example's features package

import importlib.util  # noqa: E402

# The example's spec is the one `mlship build` generates: load it from the golden serve.py.
_golden = importlib.util.spec_from_file_location("golden_serve", os.path.join(REPO, "test", "packaging", "golden", "serve.py"))
_module = importlib.util.module_from_spec(_golden)
_golden.loader.exec_module(_module)
EXAMPLE_SPEC = _module.SPEC
EXAMPLE_FIELDS = EXAMPLE_SPEC.fields

GOOD = {"tenure_months": 3, "monthly_charges": 80.5, "support_calls": 2, "plan": "pro", "payment_method": "card"}


@pytest.fixture
def spec():
    return EXAMPLE_SPEC


@pytest.fixture
def model_path():
    return os.path.join(EXAMPLE, "model", "model.joblib")


@pytest.fixture
def baseline_path():
    return os.path.join(EXAMPLE, "data", "train.csv")
