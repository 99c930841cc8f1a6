"""A stand-in serving app for the local target's conformance harness: the launch contract of the
real one (`serve.py serve`, PORT, MLSHIP_HOST, MLSHIP_VERSION) with behaviour read from the file
MLSHIP_STUB_BEHAVIOUR names ({"v1": {"healthy": false, "errorRate": 0.5, "latencyMs": 400}}). An unhealthy version
exits at start-up, as an app whose model does not load. The real app is tested in test/serving."""

import json
import os
import random
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

version = os.environ.get("MLSHIP_VERSION", "dev")
behaviour = {}
path = os.environ.get("MLSHIP_STUB_BEHAVIOUR")
if path and os.path.exists(path):
    with open(path) as f:
        behaviour = json.load(f).get(version, {})
if behaviour.get("healthy") is False:
    print(f"stub app {version}: the model does not load", file=sys.stderr)
    sys.exit(1)


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-model-version", version)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(200, {"status": "ok", "version": version})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        time.sleep(float(behaviour.get("latencyMs", 0)) / 1000)
        if random.random() < float(behaviour.get("errorRate", 0)):
            self.answer(500, {"error": "stub failure"})
        else:
            self.answer(200, {"version": version, "prediction": 0.5})

    def log_message(self, *args):
        pass


ThreadingHTTPServer((os.environ.get("MLSHIP_HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler).serve_forever()
