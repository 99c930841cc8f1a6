"""`serve.py parity`: the feature-parity check `mlship build` runs (not for humans).

Training path (transform on the whole baseline frame, as train.py) vs serving path (this app's own
per-request code, one record at a time, from JSON bytes through the schema check); writes a JSON
report to --out, with the model's outputs on every baseline row for the baseline profile.
"""

import argparse
import os
import sys
from typing import Any

import numpy as np
import orjson
import pandas as pd

from .. import loaders
from ..predictor import Predictor
from ..spec import Spec
from ..validation import BadRequest, Validator


def _native(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


def _equal_cells(a: Any, b: Any, tolerance: float) -> bool:
    """Numbers within the tolerance (NaN equals NaN); anything else compares equal as values."""
    try:
        fa, fb = float(a), float(b)
        numeric = not isinstance(a, (str, bytes)) and not isinstance(b, (str, bytes))
    except (TypeError, ValueError):
        numeric = False
    if numeric:
        if fa != fa or fb != fb:
            return fa != fa and fb != fb
        return abs(fa - fb) <= tolerance
    return bool(a == b)


def _cell(v: Any) -> Any:
    v = _native(v)
    return v if isinstance(v, (int, float, str, bool)) or v is None else str(v)


def parity(spec: Spec, args: list[str]) -> None:
    """Run the check and write the JSON report to --out (mlship reads it: src/packaging/parity.ts)."""
    parser = argparse.ArgumentParser(prog="serve.py parity")
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--label")
    parser.add_argument("--tolerance", type=float, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-rows", type=int, default=0, help="compare at most N evenly spaced rows (0: all)")
    opts = parser.parse_args(args)
    predictor = Predictor(spec, loaders.load_for(spec, opts.model))
    validator = Validator(spec.fields, spec.max_request_records)

    df = pd.read_csv(opts.baseline)
    if opts.label and opts.label in df.columns:
        df = df.drop(columns=[opts.label])
    expected = predictor.transform(df)
    if not isinstance(expected, pd.DataFrame):
        expected = pd.DataFrame(np.asarray(expected))
    kinds = {f.name: f.type for f in spec.fields}
    present = [f.name for f in spec.fields if f.name in df.columns]
    rows = df[present].to_dict("records")
    # mlship types the rows as a JSON client sends them (numbers as numbers, blanks as null) and
    # passes them as JSON lines, one per row, null for a row it rejected (and reported) already.
    typed = None
    if os.environ.get("MLSHIP_PARITY_RECORDS"):
        with open(os.environ["MLSHIP_PARITY_RECORDS"], "rb") as f:
            typed = f.read().splitlines()
        if len(typed) != len(rows):
            sys.stderr.write(f"parity: {len(typed)} typed records for the {len(rows)} rows pandas reads in {opts.baseline}\n")
            sys.exit(2)
    # The whole frame always goes through the training path (batch statistics need all of it); the
    # per-record serving path, ~1 ms a row, runs on an even sample of a large baseline.
    picked: range | list[int] = range(len(rows))
    if opts.max_rows and len(rows) > opts.max_rows:
        step = len(rows) / opts.max_rows
        picked = sorted({int(k * step) for k in range(opts.max_rows)})

    rejected: list[dict[str, Any]] = []
    got_rows: dict[int, Any] = {}
    errors: list[dict[str, Any]] = []
    for i in picked:
        if typed is not None:
            body = typed[i]
            if body == b"null":
                continue
        else:
            record = {}
            for c, v in rows[i].items():
                v = _native(v)
                if v is not None and kinds[c] == "category":
                    v = str(v)
                if v is not None:
                    record[c] = v
            body = orjson.dumps(record)
        try:
            records, _ = validator.check_payload(orjson.loads(body))
        except BadRequest as e:
            rejected.append({"row": i, "field": e.field, "message": e.message})
            continue
        try:
            X = predictor.features(records)
            if not isinstance(X, pd.DataFrame):
                X = pd.DataFrame(np.asarray(X))
            got_rows[i] = X
        except Exception as e:
            errors.append({"row": i, "message": f"{type(e).__name__}: {e}"})
            if len(errors) >= 20:
                break
    # The model's answers on every baseline row, from the training path's features in one call (the
    # same as the serving path's wherever parity holds): the output part of the baseline profile.
    outputs: list[Any] = [None] * len(rows)
    try:
        outputs = predictor.post(predictor.predict(expected))
    except Exception as e:
        errors.append({"row": -1, "message": f"the model failed on the training features: {type(e).__name__}: {e}"})

    mismatches: list[dict[str, Any]] = []
    for col in expected.columns:
        bad: list[int] = []
        first: tuple[int, Any, Any] | None = None
        for i, X in got_rows.items():
            want = expected[col].iloc[i]
            if col not in X.columns:
                bad.append(i)
                if first is None:
                    first = (i, _cell(want), "(missing)")
                continue
            got = X[col].iloc[0]
            if not _equal_cells(_native(want), _native(got), opts.tolerance):
                bad.append(i)
                if first is None:
                    first = (i, _cell(want), _cell(got))
        if bad and first is not None:
            i, want, got = first
            mismatches.append(
                {"feature": str(col), "rows": len(bad), "example": {"row": i, "input": {k: _cell(v) for k, v in rows[i].items()}, "expected": want, "got": got}}
            )
    extra = sorted({str(c) for X in got_rows.values() for c in X.columns} - {str(c) for c in expected.columns})
    for col in extra:
        mismatches.append(
            {"feature": col, "rows": len(got_rows), "example": {"row": 0, "input": {}, "expected": "(absent in training)", "got": "(present in serving)"}}
        )

    report = {
        # Nothing compared is no evidence of parity: every row failed the request schema.
        "ok": not mismatches and not errors and (bool(got_rows) or not rows),
        "rows": len(rows),
        "compared": len(got_rows),
        "features": [str(c) for c in expected.columns],
        "tolerance": opts.tolerance,
        "mismatches": mismatches,
        "rejected": rejected[:20],
        "rejectedRows": len(rejected),
        "errors": errors,
        "outputs": outputs,
    }
    with open(opts.out, "wb") as out:
        out.write(orjson.dumps(report, option=orjson.OPT_SERIALIZE_NUMPY))
