from mlship_serving import platforms


def test_port_follows_the_table():
    assert platforms.port({}) == (None, "8080")
    assert platforms.port({"PORT": "9000"}) == ("PORT", "9000")
    assert platforms.port({"AIP_HTTP_PORT": "7000", "PORT": "9000"}) == ("AIP_HTTP_PORT", "7000")
    assert platforms.port({"SAGEMAKER_BIND_TO_PORT": "8081", "PORT": "9000"}) == ("SAGEMAKER_BIND_TO_PORT", "8081")


def test_routes_of_every_platform_and_the_configurable_ones():
    r = platforms.routes({"AIP_HEALTH_ROUTE": "/v1/h", "AIP_PREDICT_ROUTE": "/v1/p"})
    assert {"/ping", "/health", "/live", "/ready", "/", "/v1/h"} == set(r.health)
    assert r.predict == {"/invocations": "mlship", "/score": "mlship", "/predict": "mlship", "/v1/p": "predictions"}


def test_a_new_platform_is_a_row():
    row = platforms.Platform(
        "other", port_env="OTHER_PORT", health_routes=("/healthz",), predict_routes=("/v2/predict",), payload="predictions", model_dir_env="OTHER_MODEL"
    )
    table = platforms.PLATFORMS + (row,)
    assert platforms.port({"OTHER_PORT": "1234"}, table) == ("OTHER_PORT", "1234")
    assert platforms.routes({}, table).predict["/v2/predict"] == "predictions"
    assert ("OTHER_MODEL", "/m") in platforms.model_dirs("/b", {"OTHER_MODEL": "/m"}, table)


def test_model_dirs_env_first_then_fixed_then_the_build():
    dirs = platforms.model_dirs("/b", {"AZUREML_MODEL_DIR": "/az", "AIP_STORAGE_URI": "gs://bucket/m", "MLSHIP_MODEL_DIR": "/local"})
    assert dirs == [("AZUREML_MODEL_DIR", "/az"), ("MLSHIP_MODEL_DIR", "/local"), ("/opt/ml/model", "/opt/ml/model"), ("the build", "/b/model")]
