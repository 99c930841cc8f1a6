"""Prometheus metrics shared by every worker process.

One anonymous shared memory map, made before the workers fork, holds a fixed array of float64 per
worker; each worker adds only to its own row (no lock: one writer per row, aligned 8-byte stores), and
`/metrics`, answered by whichever worker gets it, sums the rows. A worker restarted after a crash
takes over its row, so counters never go back. The same rows hold each worker's "model loaded" flag
for the health routes.
"""

import mmap
from collections.abc import Iterable, Sequence

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
STAGES = ("validate", "queue", "features", "model", "post", "log")
# Every status the app answers with.
STATUSES = (200, 400, 404, 405, 413, 415, 422, 500, 503)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

# Fixed slots of a row, then (route, status) request counters.
_READY, _PREDICTIONS, _FEEDBACK, _LAT_SUM, _LAT_COUNT, _BATCHES, _BATCH_RECORDS = range(7)
_STAGE0 = 7
_BUCKET0 = _STAGE0 + len(STAGES)
_BATCH_BUCKET0 = _BUCKET0 + len(BUCKETS) + 1
_REQ0 = _BATCH_BUCKET0 + len(BATCH_BUCKETS) + 1


def _bucket(value: float, edges: Sequence[float]) -> int:
    i = 0
    for edge in edges:
        if value <= edge:
            break
        i += 1
    return i


class SharedMetrics:
    """The map of every worker's row; make it before forking."""

    def __init__(self, routes: Iterable[str], workers: int) -> None:
        self.routes = tuple(sorted(set(routes) | {"other"}))
        self.route_index = {r: i for i, r in enumerate(self.routes)}
        self.status_index = {s: i for i, s in enumerate(STATUSES)}
        self.width = _REQ0 + len(self.routes) * len(STATUSES)
        self.workers = workers
        self._map = mmap.mmap(-1, 8 * self.width * workers)  # MAP_SHARED | MAP_ANONYMOUS
        self.cells = memoryview(self._map).cast("d")

    def row(self, index: int) -> "WorkerMetrics":
        """Worker `index`'s row (a worker writes only its own)."""
        return WorkerMetrics(self, index)

    def all_ready(self) -> bool:
        w = self.width
        return all(self.cells[i * w + _READY] == 1.0 for i in range(self.workers))

    def _sum(self) -> list[float]:
        w = self.width
        total = [0.0] * w
        for i in range(self.workers):
            row = self.cells[i * w : (i + 1) * w]
            for k in range(w):
                total[k] += row[k]
        return total

    def render(self, model: str, version: str, build_id: str, flavor: str) -> bytes:
        """The Prometheus text of every worker's rows summed."""
        t = self._sum()
        lines = [
            "# HELP mlship_model_info The model this server serves.",
            "# TYPE mlship_model_info gauge",
            'mlship_model_info{model="%s",version="%s",build="%s",flavor="%s"} 1' % (model, version, build_id, flavor),
            "# HELP mlship_workers Worker processes, and how many have loaded the model.",
            "# TYPE mlship_workers gauge",
            'mlship_workers{state="configured"} %d' % self.workers,
            'mlship_workers{state="ready"} %d' % sum(1 for i in range(self.workers) if self.cells[i * self.width + _READY] == 1.0),
            "# HELP mlship_requests_total HTTP requests by route and status.",
            "# TYPE mlship_requests_total counter",
        ]
        errors: dict[int, int] = {}
        for ri, route in enumerate(self.routes):
            for si, status in enumerate(STATUSES):
                n = int(t[_REQ0 + ri * len(STATUSES) + si])
                if n:
                    lines.append('mlship_requests_total{route="%s",status="%d"} %d' % (route, status, n))
                    if status >= 400:
                        errors[status] = errors.get(status, 0) + n
        lines += ["# HELP mlship_errors_total Failed requests by status.", "# TYPE mlship_errors_total counter"]
        lines += ['mlship_errors_total{status="%d"} %d' % (s, n) for s, n in sorted(errors.items())]
        lines += [
            "# HELP mlship_predictions_total Records predicted.",
            "# TYPE mlship_predictions_total counter",
            f"mlship_predictions_total {int(t[_PREDICTIONS])}",
            "# HELP mlship_feedback_labels_total Ground-truth labels received on /feedback.",
            "# TYPE mlship_feedback_labels_total counter",
            f"mlship_feedback_labels_total {int(t[_FEEDBACK])}",
            "# HELP mlship_request_duration_seconds Time from request to response of successful predictions.",
            "# TYPE mlship_request_duration_seconds histogram",
        ]
        cumulative = 0
        for k, edge in enumerate(BUCKETS):
            cumulative += int(t[_BUCKET0 + k])
            lines.append('mlship_request_duration_seconds_bucket{le="%s"} %d' % (edge, cumulative))
        lines.append('mlship_request_duration_seconds_bucket{le="+Inf"} %d' % int(t[_LAT_COUNT]))
        lines.append(f"mlship_request_duration_seconds_sum {t[_LAT_SUM]:.6f}")
        lines.append(f"mlship_request_duration_seconds_count {int(t[_LAT_COUNT])}")
        lines += ["# HELP mlship_stage_seconds_total Time spent per stage of successful predictions.", "# TYPE mlship_stage_seconds_total counter"]
        lines += ['mlship_stage_seconds_total{stage="%s"} %.6f' % (s, t[_STAGE0 + k]) for k, s in enumerate(STAGES)]
        lines += ["# HELP mlship_batch_records Records per transform + predict call (micro-batches).", "# TYPE mlship_batch_records histogram"]
        cumulative = 0
        for k, edge in enumerate(BATCH_BUCKETS):
            cumulative += int(t[_BATCH_BUCKET0 + k])
            lines.append('mlship_batch_records_bucket{le="%d"} %d' % (edge, cumulative))
        lines.append('mlship_batch_records_bucket{le="+Inf"} %d' % int(t[_BATCHES]))
        lines.append("mlship_batch_records_sum %d" % int(t[_BATCH_RECORDS]))
        lines.append("mlship_batch_records_count %d" % int(t[_BATCHES]))
        return ("\n".join(lines) + "\n").encode()


class WorkerMetrics:
    """One worker's row."""

    def __init__(self, shared: SharedMetrics, index: int) -> None:
        self.shared = shared
        base = index * shared.width
        self.cells = shared.cells[base : base + shared.width]

    def ready(self, flag: bool = True) -> None:
        self.cells[_READY] = 1.0 if flag else 0.0

    def is_ready(self) -> bool:
        return self.cells[_READY] == 1.0

    def count(self, route: str, status: int, n: int = 1) -> None:
        s = self.shared
        ri = s.route_index.get(route)
        if ri is None:
            ri = s.route_index["other"]
        self.cells[_REQ0 + ri * len(STATUSES) + s.status_index.get(status, len(STATUSES) - 1)] += n

    def observe(self, route: str, seconds: float, records: int, stages: Iterable[float]) -> None:
        """A successful prediction request: counted, its latency in the histogram, its stage times."""
        c = self.cells
        self.count(route, 200)
        c[_BUCKET0 + _bucket(seconds, BUCKETS)] += 1
        c[_LAT_SUM] += seconds
        c[_LAT_COUNT] += 1
        c[_PREDICTIONS] += records
        for k, dur in enumerate(stages):
            c[_STAGE0 + k] += dur

    def batch(self, records: int) -> None:
        c = self.cells
        c[_BATCHES] += 1
        c[_BATCH_RECORDS] += records
        c[_BATCH_BUCKET0 + _bucket(records, BATCH_BUCKETS)] += 1

    def feedback(self, labels: int) -> None:
        self.cells[_FEEDBACK] += labels
        self.count("/feedback", 200)
