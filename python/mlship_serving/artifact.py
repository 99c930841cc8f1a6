"""Start-up checks: build.json, where the platform put the artifact, and its sha256."""

import hashlib
import os
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

import orjson

from . import platforms


class StartupError(Exception):
    """The app cannot start; the message says what and how to fix it."""


def fail(message: str) -> NoReturn:
    """Print why the app cannot start and exit 1."""
    sys.stderr.write(f"mlship serve: {message}\n")
    sys.exit(1)


def read_build(build_dir: str) -> dict[str, Any]:
    try:
        with open(os.path.join(build_dir, "build.json"), "rb") as f:
            build = orjson.loads(f.read())
    except (OSError, ValueError) as e:
        raise StartupError(f"cannot read build.json in {build_dir}: {e}; run `mlship build` again") from None
    if not isinstance(build, dict):
        raise StartupError(f"build.json in {build_dir} is not a JSON object; run `mlship build` again")
    return build


def find_artifact(build_dir: str, model_file: str, environ: Mapping[str, str] = os.environ) -> str:
    """The first candidate folder holding the artifact (as each platform mounts it)."""
    candidates = platforms.model_dirs(build_dir, environ)
    for _, folder in candidates:
        if not os.path.isdir(folder):
            continue
        direct = os.path.join(folder, model_file)
        if os.path.exists(direct):  # a file, or a folder (transformers)
            return direct
        # Azure mounts registered models as <dir>/<name>/<version>/...: look a few levels down.
        base_depth = folder.rstrip(os.sep).count(os.sep)
        for root, dirs, files in os.walk(folder):
            if model_file in files or model_file in dirs:
                return os.path.join(root, model_file)
            if root.count(os.sep) - base_depth >= 3:
                dirs[:] = []
    raise StartupError(f"model artifact {model_file} not found in " + ", ".join(f"{n} ({p})" for n, p in candidates))


def sha256(path: str) -> str:
    """sha256 of a file; of a folder, sha256 over one "<relative path>\\0<sha256>\\n" line per file in
    sorted order (as mlship computes it: src/util/fs.ts sha256Artifact)."""
    if os.path.isdir(path):
        files = sorted(os.path.relpath(os.path.join(root, f), path).replace(os.sep, "/") for root, _, names in os.walk(path) for f in names)
        h = hashlib.sha256()
        for rel in files:
            h.update(f"{rel}\0{sha256(os.path.join(path, rel))}\n".encode())
        return h.hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checked_artifact(build_dir: str, model_file: str, environ: Mapping[str, str] = os.environ) -> tuple[dict[str, Any], str]:
    """(build.json, artifact path) once the artifact's sha256 is the one registered for it.

    That is build.json's digest, unless the deployment names the registered version's own digest in
    MLSHIP_MODEL_SHA256 (a cloud registry can hold a retrained artifact served by an earlier image).
    """
    build = read_build(build_dir)
    registered = environ.get("MLSHIP_MODEL_SHA256", "").strip().lower()
    expected = registered or build.get("model", {}).get("sha256")
    source = "MLSHIP_MODEL_SHA256" if registered else "build.json"
    path = find_artifact(build_dir, model_file, environ)
    digest = sha256(path)
    if digest != expected:
        raise StartupError(
            f"refusing to start: the model artifact {path} has sha256 {digest}, but {source} expects {expected}. "
            "The artifact changed after it was registered; rebuild, or deploy the version that matches it."
        )
    return build, path
