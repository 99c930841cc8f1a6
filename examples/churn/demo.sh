#!/usr/bin/env bash
# The main job on the churn example, on the local target: train the model if it is missing, then
# validate → build → push → deploy → a few predictions → status → stop.
#
#   npm run demo                       # from the repository root (builds mlship first)
#   MLSHIP_DEMO_PORT=9090 npm run demo # serve on another port (default 8080)
#
# Nothing is installed globally: when the Python at hand lacks pandas / scikit-learn, a virtualenv is
# made in examples/churn/.mlship/venv (the one `mlship build` reuses for the serving app). A failing
# step stops the demo with that command's exit code (and stops the deployment it started).
set -euo pipefail
cd "$(dirname "$0")"

MLSHIP=(node ../../bin/mlship)
PORT="${MLSHIP_DEMO_PORT:-8080}"
DEPLOYED=0

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD='' PLAIN=''; fi
say() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN" >&2; }

# Run `mlship ARGS…`, showing its output as it comes; exits the demo with its exit code when it fails.
step() {
  local status
  say "mlship $*"
  set +e
  "${MLSHIP[@]}" "$@"
  status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    say "mlship $1 failed (exit code $status)"
    exit "$status"
  fi
}

cleanup() {
  if [ "$DEPLOYED" = 1 ]; then
    say 'mlship stop'
    "${MLSHIP[@]}" stop || true
  fi
}
trap cleanup EXIT

# 1. A Python that can train the example: the user's, or a project-local virtualenv.
PY="${MLSHIP_PYTHON:-python3}"
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "demo: $PY not found; install Python 3.11+ (e.g. apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$PY" -c 'import pandas, sklearn, joblib' >/dev/null 2>&1; then
  say "preparing Python in examples/churn/.mlship/venv (pandas, scikit-learn, joblib)"
  if [ ! -x .mlship/venv/bin/python ]; then
    "$PY" -m venv .mlship/venv || { echo "demo: cannot create a virtualenv; install python3-venv" >&2; exit 1; }
  fi
  .mlship/venv/bin/python -m pip install --disable-pip-version-check -q pandas scikit-learn joblib
  PY="$PWD/.mlship/venv/bin/python"
fi

# 2. The model, trained by the example's own train.py (which imports the shared features package).
if [ ! -f model/model.joblib ]; then
  say "training the model: python train.py"
  "$PY" train.py
fi

# POST a JSON body to the deployment's /predict and show the answer with its HTTP status.
post() {
  local url="http://127.0.0.1:$PORT/predict"
  printf '$ curl -d %s %s\n' "'$(printf '%s' "$1" | tr -s ' \n' ' ')'" "$url" >&2
  if command -v curl >/dev/null 2>&1; then
    curl -sS -X POST "$url" -H 'content-type: application/json' -d "$1" -w '  (HTTP %{http_code})\n'
  else
    node -e 'fetch(process.argv[1], { method: "POST", headers: { "content-type": "application/json" }, body: process.argv[2] })
      .then(async (r) => console.log(`${await r.text()}  (HTTP ${r.status})`))' "$url" "$1"
  fi
}

# 3. The flow.
run_flow() {
  step validate
  step build
  step push
  step deploy --port "$PORT"
  DEPLOYED=1

  say "predictions on http://127.0.0.1:$PORT/predict"
  local one='{"tenure_months": 3, "monthly_charges": 89.5, "support_calls": 4, "plan": "pro", "payment_method": "invoice"}'
  local batch='[{"tenure_months": 48, "monthly_charges": 24.9, "support_calls": 0, "plan": "basic", "payment_method": "card"},
                {"tenure_months": 12, "monthly_charges": 112.0, "support_calls": 2, "plan": "enterprise", "payment_method": "bank_transfer"}]'
  local bad='{"tenure_months": -1, "monthly_charges": 89.5, "support_calls": 4, "plan": "gold", "payment_method": "invoice"}'
  for body in "$one" "$batch" "$bad"; do
    post "$body"
  done

  step status
}
run_flow
