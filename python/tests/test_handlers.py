"""The app's routes as plain calls, no server: handlers.py with the example's real features package
and trained model, and the ASGI layer (app.py) driven by an in-process receive/send."""

import asyncio
import glob
import os
import time

import orjson
import pytest
from conftest import GOOD
from mlship_serving import loaders, platforms
from mlship_serving.app import create_app, read_body
from mlship_serving.handlers import Handlers, Settings
from mlship_serving.metrics import SharedMetrics
from mlship_serving.predictor import Predictor
from mlship_serving.validation import BadRequest, Validator


def make(spec, model_path, log_folder, workers=1, run=None):
    routes = platforms.routes({"AIP_PREDICT_ROUTE": "/v1/p"})
    shared = SharedMetrics([*routes.predict, *routes.health, "/feedback"], workers)
    predictor = Predictor(spec, run or loaders.load_for(spec, model_path))
    validator = Validator(spec.fields, spec.max_request_records, spec.output == "value")
    return Handlers(spec, Settings("v7", "b1", str(log_folder), routes), predictor, validator, shared, shared.row(0))


@pytest.fixture
def handlers(spec, model_path, tmp_path):
    return make(spec, model_path, tmp_path / "logs")


def predict(h, payload, rid="r1", route="/predict", shape="mlship"):
    return asyncio.run(h.predict(payload, rid, route, shape, time.perf_counter()))


def lines(folder, kind):
    return [orjson.loads(line) for f in sorted(glob.glob(os.path.join(folder, f"{kind}-*.jsonl"))) for line in open(f, "rb")]


def metric(h, key):
    for line in h.prometheus().body.decode().splitlines():
        if line.startswith(key + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_one_record_is_predicted_logged_and_timed(handlers, tmp_path):
    r = predict(handlers, dict(GOOD), rid="abc")
    assert r.status == 200
    body = orjson.loads(r.body)
    assert body["id"] == "abc" and body["version"] == "v7"
    assert 0.0 <= body["prediction"] <= 1.0
    headers = dict(r.headers)
    stages = [part.split(";")[0] for part in headers[b"server-timing"].decode().split(", ")]
    assert stages == ["validate", "queue", "features", "model", "post", "log"]
    assert headers[b"x-batch-size"] == b"1"
    [logged] = lines(tmp_path / "logs", "predictions")
    assert logged["id"] == "abc" and logged["input"] == {**GOOD, "monthly_charges": 80.5} and logged["output"] == body["prediction"]
    assert metric(handlers, "mlship_predictions_total") == 1
    assert metric(handlers, 'mlship_requests_total{route="/predict",status="200"}') == 1


def test_a_client_batch_and_the_vertex_shape(handlers, tmp_path):
    batch = [GOOD, {**GOOD, "plan": "basic"}, {**GOOD, "tenure_months": 60}]
    r = predict(handlers, batch, rid="b")
    body = orjson.loads(r.body)
    assert r.status == 200 and len(body["predictions"]) == 3
    assert [x["id"] for x in lines(tmp_path / "logs", "predictions")] == ["b-0", "b-1", "b-2"]
    # The same records alone give the same predictions.
    alone = [orjson.loads(predict(handlers, rec).body)["prediction"] for rec in batch]
    assert max(abs(a - b) for a, b in zip(alone, body["predictions"])) <= 1e-12
    r = predict(handlers, {"instances": batch}, route="/v1/p", shape="predictions")
    assert orjson.loads(r.body) == {"predictions": body["predictions"]}


def test_requests_waiting_together_share_one_model_call(handlers):
    async def five():
        t0 = time.perf_counter()
        return await asyncio.gather(*(handlers.predict({**GOOD, "support_calls": i}, f"r{i}", "/predict", "mlship", t0) for i in range(5)))

    answers = asyncio.run(five())
    assert [r.status for r in answers] == [200] * 5
    assert {dict(r.headers)[b"x-batch-size"] for r in answers} == {b"5"}
    assert metric(handlers, "mlship_batch_records_count") == 1 and metric(handlers, "mlship_batch_records_sum") == 5


def test_an_invalid_record_is_a_422_listing_every_field_and_counted(handlers, tmp_path):
    r = predict(handlers, {**GOOD, "plan": "gold", "tenure_months": -1})
    assert r.status == 422
    err = orjson.loads(r.body)["error"]
    assert [e["field"] for e in err["errors"]] == ["tenure_months", "plan"]
    assert lines(tmp_path / "logs", "predictions") == []
    assert metric(handlers, 'mlship_requests_total{route="/predict",status="422"}') == 1


def test_a_failing_model_is_a_500_naming_the_error_not_the_client(spec, model_path, tmp_path):
    def broken(X):
        raise ValueError("boom")

    h = make(spec, model_path, tmp_path / "logs", run=broken)
    r = predict(h, dict(GOOD))
    assert r.status == 500
    assert orjson.loads(r.body)["error"]["message"] == "prediction failed: ValueError"


def test_an_unwritable_log_returns_no_prediction(spec, model_path, tmp_path):
    h = make(spec, model_path, tmp_path / "logs")
    os.rmdir(tmp_path / "logs")  # the folder is gone before the first write: opening the day's file fails
    r = predict(h, dict(GOOD))
    assert r.status == 503
    assert "prediction log is not writable" in orjson.loads(r.body)["error"]["message"]
    assert metric(h, "mlship_predictions_total") == 0


def test_feedback_is_logged_before_the_answer(handlers, tmp_path):
    r = handlers.feedback([{"id": "abc-0", "label": 1}, {"id": "abc-1", "label": 0}])
    assert (r.status, orjson.loads(r.body)) == (200, {"accepted": 2})
    assert [(x["id"], x["label"]) for x in lines(tmp_path / "logs", "feedback")] == [("abc-0", 1), ("abc-1", 0)]
    assert metric(handlers, "mlship_feedback_labels_total") == 2
    bad = handlers.feedback({"id": "a b", "label": 1})
    assert bad.status == 422 and orjson.loads(bad.body)["error"]["field"] == "id"


def test_health_waits_for_every_worker(spec, model_path, tmp_path):
    h = make(spec, model_path, tmp_path / "logs", workers=2)
    h.shared.row(0).ready()
    loading = h.health()
    assert loading.status == 503 and orjson.loads(loading.body)["status"] == "loading"
    h.shared.row(1).ready()
    ok = h.health()
    assert ok.status == 200 and orjson.loads(ok.body) == {"status": "ok", "model": "churn", "version": "v7", "build": "b1", "http": "uvicorn+httptools+uvloop"}


def test_metrics_openapi_and_errors(handlers):
    m = handlers.prometheus()
    assert m.content_type == b"text/plain; version=0.0.4"
    assert b'mlship_model_info{model="churn",version="v7",build="b1",flavor="sklearn"} 1' in m.body
    doc = orjson.loads(handlers.openapi().body)
    assert doc["openapi"] == "3.1.0" and "/v1/p" in doc["paths"]
    r = handlers.error("other", 404, "no route /x")
    assert (r.status, orjson.loads(r.body)) == (404, {"error": {"status": 404, "message": "no route /x"}})
    assert metric(handlers, 'mlship_requests_total{route="other",status="404"}') == 1


# -- the ASGI layer, in process ---------------------------------------------------------------------


def call(app, method, path, body=b"", headers=()):
    """One request through the ASGI callable: (status, headers, body)."""
    sent = []
    chunks = [body]

    async def receive():
        return {"type": "http.request", "body": chunks.pop(0) if chunks else b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": list(headers)}
    asyncio.run(app(scope, receive, send))
    start, body_message = sent
    return start["status"], dict(start["headers"]), body_message["body"]


def test_the_asgi_layer_routes_and_sets_the_common_headers(handlers):
    app = create_app(handlers)
    status, headers, body = call(app, "POST", "/predict", orjson.dumps(GOOD), [(b"content-type", b"application/json"), (b"x-request-id", b"mine-1")])
    assert status == 200 and orjson.loads(body)["id"] == "mine-1"
    assert headers[b"x-request-id"] == b"mine-1" and headers[b"x-model-version"] == b"v7"
    assert call(app, "GET", "/predict")[0] == 405
    assert call(app, "GET", "/nowhere")[0] == 404
    assert call(app, "POST", "/predict", b"{nope")[0] == 400
    assert call(app, "POST", "/predict", b"{}", [(b"content-type", b"text/plain")])[0] == 415
    status, headers, _ = call(app, "GET", "/metrics")
    assert status == 200 and headers[b"content-type"].startswith(b"text/plain")


def test_read_body_bounds_the_declared_and_the_sent_size():
    async def receive_from(parts):
        queue = list(parts)

        async def receive():
            body, more = queue.pop(0) if queue else (b"", False)
            return {"type": "http.request", "body": body, "more_body": more}

        return receive

    async def run(parts, headers, limit):
        return await read_body(await receive_from(parts), headers, limit)

    assert asyncio.run(run([(b"ab", True), (b"cd", False)], [], 10)) == b"abcd"
    with pytest.raises(BadRequest) as e:
        asyncio.run(run([(b"x" * 6, True), (b"x" * 6, False)], [], 10))
    assert e.value.status == 413
    with pytest.raises(BadRequest) as e:
        asyncio.run(run([], [(b"content-length", b"11"), (b"expect", b"100-continue")], 10))
    assert e.value.status == 413
