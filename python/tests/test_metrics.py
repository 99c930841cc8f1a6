import os

from mlship_serving.metrics import SharedMetrics


def parse(text):
    out = {}
    for line in text.decode().splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def test_rows_of_forked_workers_sum():
    shared = SharedMetrics(["/predict", "/ping"], 3)
    pids = []
    for i in range(3):
        pid = os.fork()
        if pid == 0:
            row = shared.row(i)
            for k in range(10 * (i + 1)):
                row.observe("/predict", 0.002 * (k % 3 + 1), 2, (0.001, 0, 0.002, 0.003, 0, 0.0005))
                row.batch(2)
            row.count("/predict", 422, 5)
            row.count("/nowhere", 404)
            row.ready()
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    m = parse(shared.render("churn", "v1", "b1", "sklearn"))
    assert m['mlship_requests_total{route="/predict",status="200"}'] == 60
    assert m['mlship_requests_total{route="/predict",status="422"}'] == 15
    assert m['mlship_requests_total{route="other",status="404"}'] == 3
    assert m['mlship_errors_total{status="422"}'] == 15
    assert m["mlship_predictions_total"] == 120
    assert m['mlship_request_duration_seconds_bucket{le="+Inf"}'] == 60
    assert m["mlship_request_duration_seconds_count"] == 60
    # k % 3 over 10, 20 and 30 requests: 21 at 2 ms, 20 at 4 ms, 19 at 6 ms.
    assert m['mlship_request_duration_seconds_bucket{le="0.0025"}'] == 21
    assert m['mlship_request_duration_seconds_bucket{le="0.005"}'] == 41
    assert m['mlship_request_duration_seconds_bucket{le="0.01"}'] == 60
    assert abs(m["mlship_request_duration_seconds_sum"] - 0.236) < 1e-6
    assert abs(m['mlship_stage_seconds_total{stage="model"}'] - 0.06 * 3) < 1e-6
    assert m["mlship_batch_records_count"] == 60 and m["mlship_batch_records_sum"] == 120
    assert m['mlship_workers{state="ready"}'] == 3
    assert shared.all_ready()


def test_not_ready_until_every_worker_is():
    shared = SharedMetrics(["/predict"], 2)
    shared.row(0).ready()
    assert not shared.all_ready()
    shared.row(1).ready()
    assert shared.all_ready()
