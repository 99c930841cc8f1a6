"""Each platform's serving conventions, as rows of one table.

A platform is recognised by the environment it sets; the app answers every platform's routes at once,
so one image serves them all. A new platform is a new row here, not a branch in the app.

Lookups read the table in order: the first row whose port variable is set gives the port (8080 when
none is); model folders named by environment come first (a platform mounts the model where it says),
then fixed folders, then the build's own `model/`.
"""

import os
from collections.abc import Mapping
from typing import NamedTuple


class Platform(NamedTuple):
    name: str
    port_env: str | None = None  # variable holding the port to listen on
    health_routes: tuple[str, ...] = ()  # GET routes answering 200 once every worker has loaded the model
    health_route_env: str | None = None  # variable naming one more health route
    predict_routes: tuple[str, ...] = ()  # POST routes answering predictions
    predict_route_env: str | None = None  # variable naming one more predict route
    payload: str = "mlship"  # answer shape on this row's predict routes: mlship | predictions
    model_dir_env: str | None = None  # variable naming the model folder (a local path)
    model_dir: str | None = None  # fixed model folder


PLATFORMS = (
    Platform("sagemaker", port_env="SAGEMAKER_BIND_TO_PORT", health_routes=("/ping",), predict_routes=("/invocations",), model_dir="/opt/ml/model"),
    # Vertex AI answers exactly {"predictions": [...]} on its own predict route.
    Platform(
        "vertex",
        port_env="AIP_HTTP_PORT",
        health_route_env="AIP_HEALTH_ROUTE",
        predict_route_env="AIP_PREDICT_ROUTE",
        payload="predictions",
        model_dir_env="AIP_STORAGE_URI",
    ),
    Platform("azure", health_routes=("/live", "/ready", "/"), predict_routes=("/score",), model_dir_env="AZUREML_MODEL_DIR"),
    Platform("mlship", port_env="PORT", health_routes=("/health",), predict_routes=("/predict",), model_dir_env="MLSHIP_MODEL_DIR"),
)

DEFAULT_PORT = 8080


class Routes(NamedTuple):
    health: frozenset[str]
    predict: dict[str, str]  # path -> payload shape


def port(environ: Mapping[str, str] = os.environ, platforms: tuple[Platform, ...] = PLATFORMS) -> tuple[str | None, str]:
    """(variable, value) of the port to listen on; value is the raw text (checked by the caller)."""
    for p in platforms:
        if p.port_env and environ.get(p.port_env):
            return p.port_env, environ[p.port_env]
    return None, str(DEFAULT_PORT)


def routes(environ: Mapping[str, str] = os.environ, platforms: tuple[Platform, ...] = PLATFORMS) -> Routes:
    """Every platform's routes (a platform's own variables add its configurable ones)."""
    health: set[str] = set()
    predict: dict[str, str] = {}
    for p in platforms:
        health.update(p.health_routes)
        for r in p.predict_routes:
            predict[r] = p.payload
    for p in platforms:
        if p.health_route_env and environ.get(p.health_route_env):
            health.add(environ[p.health_route_env])
        if p.predict_route_env and environ.get(p.predict_route_env):
            predict[environ[p.predict_route_env]] = p.payload
    return Routes(frozenset(health), predict)


def model_dirs(build_dir: str, environ: Mapping[str, str] = os.environ, platforms: tuple[Platform, ...] = PLATFORMS) -> list[tuple[str, str]]:
    """[(source, folder)] to look for the artifact in, most specific first."""
    out: list[tuple[str, str]] = []
    for p in platforms:
        value = environ.get(p.model_dir_env) if p.model_dir_env else None
        # A URI (gs://...) is the platform's copy source, not a folder this process can read.
        if p.model_dir_env and value and "://" not in value:
            out.append((p.model_dir_env, value))
    out += [(p.model_dir, p.model_dir) for p in platforms if p.model_dir]
    out.append(("the build", os.path.join(build_dir, "model")))
    return out
