"""pytest plugin of test/serving/runtime.test.ts: one JSON line per test, written to the file named
by MLSHIP_PYTEST_REPORT when the session ends, so vitest reports each Python test on its own.

    {"nodeid": "tests/test_x.py::test_y", "outcome": "passed|failed|skipped", "duration": s, "message": text}

Loaded with `-p pytest_report` (this folder on PYTHONPATH); without the variable it does nothing.
"""

import json
import os
from typing import Any

_results: dict[str, dict[str, Any]] = {}


def pytest_runtest_logreport(report: Any) -> None:
    """Fold the setup, call and teardown reports of a test into one result (any failure fails it)."""
    r = _results.setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "passed", "duration": 0.0, "message": ""})
    r["duration"] += report.duration
    if report.failed:
        r["outcome"] = "failed"
        r["message"] += f"--- {report.when} ---\n{report.longreprtext}\n"
    elif report.skipped and r["outcome"] == "passed":
        r["outcome"] = "skipped"
        longrepr = report.longrepr
        r["message"] = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get("MLSHIP_PYTEST_REPORT")
    if path:
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in _results.values())
