"""The gateway's Prometheus metrics: requests by route and status, histograms of time to first token,
inter-token latency, end-to-end and queue time, token counters, then the backend's own metrics as it
exposes them (llama-server's `llamacpp:*` with --metrics). One gateway process: plain counters."""

from collections.abc import Sequence

from ..metrics import BUCKETS as SECONDS_BUCKETS
from ..metrics import _bucket

# Inter-token latency is milliseconds per token: finer edges than a request's.
ITL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1.0)
E2E_BUCKETS = (*SECONDS_BUCKETS, 5.0, 10.0, 30.0, 60.0, 120.0)


class Histogram:
    def __init__(self, name: str, help_text: str, edges: Sequence[float]) -> None:
        self.name = name
        self.help = help_text
        self.edges = tuple(edges)
        self.counts = [0] * (len(self.edges) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[_bucket(value, self.edges)] += 1
        self.sum += value
        self.count += 1

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        cumulative = 0
        for edge, n in zip(self.edges, self.counts):
            cumulative += n
            lines.append(f'{self.name}_bucket{{le="{edge}"}} {cumulative}')
        lines += [f'{self.name}_bucket{{le="+Inf"}} {self.count}', f"{self.name}_sum {self.sum:.6f}", f"{self.name}_count {self.count}"]
        return lines


class GatewayMetrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.ttft = Histogram(
            "mlship_llm_time_to_first_token_seconds",
            "Time from request to the first non-empty content (streamed) or to generation start (whole answers).",
            SECONDS_BUCKETS,
        )
        self.itl = Histogram("mlship_llm_inter_token_latency_seconds", "Mean time between generated tokens, per request.", ITL_BUCKETS)
        self.e2e = Histogram("mlship_llm_request_duration_seconds", "Time from request to the answer's last byte, per generation request.", E2E_BUCKETS)
        self.queue = Histogram(
            "mlship_llm_queue_time_seconds", "Time a request waited before the backend began on it (backends that report their timings).", E2E_BUCKETS
        )
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def count(self, route: str, status: int) -> None:
        key = (route, status)
        self.requests[key] = self.requests.get(key, 0) + 1

    def generation(
        self, ttft_ms: float | None, itl_ms: float | None, e2e_ms: float, queue_ms: float | None, prompt_tokens: int | None, completion_tokens: int | None
    ) -> None:
        if queue_ms is not None:
            self.queue.observe(queue_ms / 1000)
        if ttft_ms is not None:
            self.ttft.observe(ttft_ms / 1000)
        if itl_ms is not None:
            self.itl.observe(itl_ms / 1000)
        self.e2e.observe(e2e_ms / 1000)
        self.prompt_tokens += prompt_tokens or 0
        self.completion_tokens += completion_tokens or 0

    def render(self, model: str, version: str, build_id: str, backend: bytes | None) -> bytes:
        lines = [
            "# HELP mlship_model_info The model this server serves.",
            "# TYPE mlship_model_info gauge",
            'mlship_model_info{model="%s",version="%s",build="%s",flavor="gguf"} 1' % (model, version, build_id),
            "# HELP mlship_requests_total HTTP requests by route and status.",
            "# TYPE mlship_requests_total counter",
        ]
        lines += ['mlship_requests_total{route="%s",status="%d"} %d' % (r, s, n) for (r, s), n in sorted(self.requests.items())]
        lines += self.ttft.render() + self.itl.render() + self.e2e.render() + self.queue.render()
        lines += [
            "# HELP mlship_llm_prompt_tokens_total Prompt tokens of answered requests.",
            "# TYPE mlship_llm_prompt_tokens_total counter",
            f"mlship_llm_prompt_tokens_total {self.prompt_tokens}",
            "# HELP mlship_llm_completion_tokens_total Generated tokens of answered requests.",
            "# TYPE mlship_llm_completion_tokens_total counter",
            f"mlship_llm_completion_tokens_total {self.completion_tokens}",
        ]
        text = ("\n".join(lines) + "\n").encode()
        return text + backend if backend else text
