/**
 * The shared rollout controller's `MetricsReader` over Cloud Monitoring: a deployed model's
 * `aiplatform.googleapis.com/prediction/online/prediction_count`, `error_count` and
 * `prediction_latencies` (a distribution, in ms) on the endpoint over a window. Vertex's error count
 * does not split client and server errors; mlship treats every counted error as a failed request
 * (stricter than a 5xx-only guard, which is the safe side for a canary).
 */
import type { MetricsReader, VersionMetrics } from '../../deploy/rollout.js';
import type { MetricPoint, VertexApi } from './api.js';

const PREFIX = 'aiplatform.googleapis.com/prediction/online/';

/** The latency at a percentile of merged explicit-bucket distributions (linear within a bucket). */
export function distributionPercentile(points: MetricPoint[], q: number): number | undefined {
  const dists = points.map((p) => p.distribution).filter((d): d is NonNullable<MetricPoint['distribution']> => d !== undefined && d.count > 0);
  if (dists.length === 0) return undefined;
  const bounds = dists[0]!.bounds;
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const d of dists) d.bucketCounts.forEach((c, i) => (counts[i] = (counts[i] ?? 0) + c));
  const total = counts.reduce((a, b) => a + b, 0);
  let target = q * total;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (target <= c && c > 0) {
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      const hi = i < bounds.length ? bounds[i]! : lo * 2 || 1;
      return lo + ((hi - lo) * target) / c;
    }
    target -= c;
  }
  return bounds[bounds.length - 1];
}

/**
 * Reads metrics of the deployed model serving `version` (`deployedId` resolves it at read time).
 * No deployed model, or no time series at all for the window: no data (undefined), not zero errors.
 */
export function cloudMonitoringReader(api: VertexApi, endpointId: string, deployedId: (version: string) => Promise<string | undefined>): MetricsReader {
  return {
    async read(version, window, percentile): Promise<VersionMetrics | undefined> {
      const id = await deployedId(version);
      if (!id) return undefined;
      const filter = (metric: string) =>
        `metric.type = "${PREFIX}${metric}" AND resource.labels.endpoint_id = "${endpointId}" AND metric.labels.deployed_model_id = "${id}"`;
      const [count, errors, latency] = await Promise.all(
        ['prediction_count', 'error_count', 'prediction_latencies'].map((m) => api.timeSeries(filter(m), window.from, window.to)),
      );
      if (count!.length === 0 && errors!.length === 0 && latency!.length === 0) return undefined;
      const sum = (series: typeof count) => series!.flatMap((s) => s.points).reduce((a, p) => a + (p.int64 ?? 0), 0);
      const q = { p50: 0.5, p95: 0.95, p99: 0.99 }[percentile];
      const latencyMs = distributionPercentile(
        latency!.flatMap((s) => s.points),
        q,
      );
      return { requests: sum(count), errors5xx: sum(errors), ...(latencyMs !== undefined && { latencyMs }) };
    },
  };
}
