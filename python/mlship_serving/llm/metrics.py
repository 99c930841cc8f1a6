"""The gateway's Prometheus metrics: requests by route and status, histograms of time to first token,
inter-token latency, end-to-end and queue time, token counters, then the backend's own metrics
(llama-server's `llamacpp:*` with --metrics, vLLM's `vllm:*`), read family by family so the page
stays one valid exposition: a backend line that does not parse, or a family named like one of the
gateway's, is left out. Queue time is the one the gateway cannot always see itself: llama-server
reports each request's timings, vLLM does not, so behind vLLM `mlship_llm_queue_time_seconds` relays
vLLM's own `vllm:request_queue_time_seconds` (its label sets added up) and dashboards read the same
name on either backend. One gateway process: plain counters."""

import re
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


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created", "_info")
VLLM_QUEUE = "vllm:request_queue_time_seconds"


def backend_families(text: bytes) -> dict[str, list[str]]:
    """A backend's exposition as families: name -> its lines (HELP, TYPE, samples) in order. A sample
    belongs to the family its TYPE line declared (`x_bucket`, `x_sum`, `x_count` of histogram `x`),
    else to a family of its own name. Lines that are neither comments nor samples are left out."""
    families: dict[str, list[str]] = {}
    declared: set[str] = set()
    for raw in text.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                declared.add(parts[2])
                families.setdefault(parts[2], []).append(line)
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        name = m.group(1)
        family = next((name[: -len(x)] for x in _SUFFIXES if name.endswith(x) and name[: -len(x)] in declared), name)
        families.setdefault(family, []).append(line)
    return families


def histogram_of(lines: list[str], name: str) -> tuple[list[tuple[float, float]], float, float] | None:
    """A histogram family's cumulative buckets (upper edge, count), sum and count, its label sets
    (other than `le`) added up; None when it has no buckets."""
    buckets: dict[float, float] = {}
    total = {"sum": 0.0, "count": 0.0}
    for line in lines:
        m = _SAMPLE.match(line)
        if not m:
            continue
        sample, labels, value = m.group(1), dict(_LABEL.findall(m.group(2) or "")), float(m.group(3))
        if sample == f"{name}_bucket" and "le" in labels:
            edge = float("inf") if labels["le"] == "+Inf" else float(labels["le"])
            buckets[edge] = buckets.get(edge, 0.0) + value
        elif sample in (f"{name}_sum", f"{name}_count"):
            total[sample[len(name) + 1 :]] += value
    if not buckets:
        return None
    return sorted(buckets.items()), total["sum"], total["count"]


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
        families = backend_families(backend) if backend else {}
        relayed = histogram_of(families[VLLM_QUEUE], VLLM_QUEUE) if self.queue.count == 0 and VLLM_QUEUE in families else None
        lines += self.ttft.render() + self.itl.render() + self.e2e.render()
        lines += self.queue.render() if relayed is None else relay(self.queue, relayed)
        lines += [
            "# HELP mlship_llm_prompt_tokens_total Prompt tokens of answered requests.",
            "# TYPE mlship_llm_prompt_tokens_total counter",
            f"mlship_llm_prompt_tokens_total {self.prompt_tokens}",
            "# HELP mlship_llm_completion_tokens_total Generated tokens of answered requests.",
            "# TYPE mlship_llm_completion_tokens_total counter",
            f"mlship_llm_completion_tokens_total {self.completion_tokens}",
        ]
        own = {line.split()[2] for line in lines if line.startswith("# TYPE ")}
        for name, family in families.items():
            if name not in own:
                lines += family
        return ("\n".join(lines) + "\n").encode()


def relay(own: Histogram, backend: tuple[list[tuple[float, float]], float, float]) -> list[str]:
    """The gateway's queue-time histogram, filled from the backend's (vLLM's) when it has none of its own."""
    buckets, total, count = backend
    lines = [f"# HELP {own.name} {own.help} Relayed from {VLLM_QUEUE}.", f"# TYPE {own.name} histogram"]
    lines += [f'{own.name}_bucket{{le="{"+Inf" if edge == float("inf") else edge}"}} {n:g}' for edge, n in buckets]
    if not buckets or buckets[-1][0] != float("inf"):
        lines.append(f'{own.name}_bucket{{le="+Inf"}} {count:g}')
    return lines + [f"{own.name}_sum {total:.6f}", f"{own.name}_count {count:g}"]
