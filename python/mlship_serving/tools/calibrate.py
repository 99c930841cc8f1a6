"""`serve.py calibrate`: the CPU cost calibration `mlship build` runs (not for humans):

    python serve.py calibrate --model PATH [--baseline CSV] [--label COL] --out JSON

Loads the model the way the serving app does and times the app's own per-request path (schema check,
features, model, output) on records from the baseline: first one record per call, then batches. It
runs with one thread (mlship sets MLSHIP_THREADS=1, OMP_NUM_THREADS=1 before Python starts), so the
figure is what one request costs one vCPU, the unit instance selection sizes with.

Time is the process's CPU time (time.process_time), not the wall clock: on a busy build machine the
wall clock counts other processes' turns too. The wall-clock p50/p95 are recorded beside it.
"""

import argparse
import os
import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from .. import loaders
from ..predictor import Predictor
from ..spec import Spec
from ..validation import Validator

# Each phase runs for about this long (CPU seconds), within these counts.
PHASE_SECONDS = 0.5
SINGLE_CALLS = (5, 400)
BATCH_CALLS = (3, 40)
BATCH_SIZE = 16
WARM_CALLS = 3


def _records(spec: Spec, validator: Validator, baseline: str | None, label: str | None) -> list[bytes]:
    """Request bodies of baseline records the schema accepts (the warm-up record when there are none)."""
    import pandas as pd

    records: list[bytes] = []
    if baseline:
        df = pd.read_csv(baseline, nrows=200)
        if label and label in df.columns:
            df = df.drop(columns=[label])
        kinds = {f.name: f.type for f in spec.fields}
        for row in df.to_dict("records"):
            rec = {}
            for c, v in row.items():
                if c not in kinds or v is None or (isinstance(v, float) and v != v):
                    continue
                rec[c] = str(v) if kinds[c] in ("category", "string") else (v.item() if hasattr(v, "item") else v)
            try:
                records.append(orjson.dumps(rec))
                validator.check_payload(orjson.loads(records[-1]))
            except Exception:
                records.pop()
    if not records:
        records.append(orjson.dumps(spec.warm_record))
    return records


def _percentile(values: Sequence[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _phase(call: Callable[[bytes], Any], bodies: Sequence[bytes], limits: tuple[int, int]) -> tuple[float, list[float]]:
    """Call with each body in turn until PHASE_SECONDS of CPU time or the most calls; (cpu ms mean, wall ms list)."""
    low, high = limits
    walls: list[float] = []
    cpu_start = time.process_time()
    i = 0
    while i < high and (i < low or time.process_time() - cpu_start < PHASE_SECONDS):
        t0 = time.perf_counter()
        call(bodies[i % len(bodies)])
        walls.append((time.perf_counter() - t0) * 1000)
        i += 1
    return (time.process_time() - cpu_start) * 1000 / i, walls


def calibrate(spec: Spec, argv: list[str]) -> None:
    """Time the per-request path and write the JSON report to --out (src/packaging/calibrate.ts reads it)."""
    parser = argparse.ArgumentParser(prog="serve.py calibrate")
    parser.add_argument("--model", required=True)
    parser.add_argument("--baseline")
    parser.add_argument("--label")
    parser.add_argument("--out", required=True)
    opts = parser.parse_args(argv)

    validator = Validator(spec.fields, max(spec.max_request_records, BATCH_SIZE), spec.output == "value")
    t0 = time.perf_counter()
    predictor = Predictor(spec, loaders.load_for(spec, opts.model))
    load_ms = (time.perf_counter() - t0) * 1000
    bodies = _records(spec, validator, opts.baseline, opts.label)

    def one(body: bytes) -> list[Any]:
        records, _ = validator.check_payload(orjson.loads(body))
        return predictor(records)

    batches: list[bytes] = []
    for start in range(0, max(len(bodies), BATCH_SIZE), BATCH_SIZE):
        chunk = [bodies[(start + k) % len(bodies)] for k in range(BATCH_SIZE)]
        batches.append(b"[" + b",".join(chunk) + b"]")

    for body in bodies[:WARM_CALLS]:
        one(body)
    one(batches[0])
    single_cpu, single_wall = _phase(one, bodies, SINGLE_CALLS)
    batch_cpu, batch_wall = _phase(one, batches, BATCH_CALLS)

    report = {
        "method": "calibration at build: the app's validate+features+model+output path in-process, one thread, CPU time",
        "threads": 1,
        "machine": {"cpu": _cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()},
        "loadMs": round(load_ms, 1),
        "perRequest": {
            "cpuMs": round(single_cpu, 3),
            "wallP50Ms": round(_percentile(single_wall, 0.5), 3),
            "wallP95Ms": round(_percentile(single_wall, 0.95), 3),
            "calls": len(single_wall),
        },
        "perBatch": {
            "size": BATCH_SIZE,
            "cpuMs": round(batch_cpu, 3),
            "cpuMsPerRecord": round(batch_cpu / BATCH_SIZE, 3),
            "wallP50Ms": round(_percentile(batch_wall, 0.5), 3),
            "calls": len(batch_wall),
        },
    }
    with open(opts.out, "wb") as f:
        f.write(orjson.dumps(report))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
