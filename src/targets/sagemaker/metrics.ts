/**
 * The shared rollout controller's `MetricsReader` over CloudWatch: what SageMaker publishes in
 * `AWS/SageMaker` for one production variant (dimensions EndpointName + VariantName; variants are
 * named after versions) over a window, in one GetMetricData call: `Invocations` (Sum),
 * `Invocation5XXErrors` (Sum) and `ModelLatency` at the guards' percentile. ModelLatency is in
 * microseconds; the controller's guards are in milliseconds. SageMaker publishes nothing for a minute
 * without invocations, so queries that return no datapoints are "no data" (undefined), never zero
 * errors.
 */
import type * as CW from '@aws-sdk/client-cloudwatch';
import type { MetricsReader, VersionMetrics } from '../../deploy/rollout.js';
import type { AwsApi } from './api.js';

/** The GetMetricData request for one variant over a window: one period covering all of it. */
export function variantMetricsRequest(endpoint: string, variant: string, window: { from: Date; to: Date }, percentile: string): CW.GetMetricDataCommandInput {
  // CloudWatch periods are multiples of 60 s for SageMaker's one-minute metrics.
  const period = Math.max(60, Math.ceil((window.to.getTime() - window.from.getTime()) / 60_000) * 60);
  const query = (Id: string, MetricName: string, Stat: string): CW.MetricDataQuery => ({
    Id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/SageMaker',
        MetricName,
        Dimensions: [
          { Name: 'EndpointName', Value: endpoint },
          { Name: 'VariantName', Value: variant },
        ],
      },
      Period: period,
      Stat,
    },
    ReturnData: true,
  });
  return {
    StartTime: window.from,
    EndTime: window.to,
    MetricDataQueries: [
      query('invocations', 'Invocations', 'Sum'),
      query('errors', 'Invocation5XXErrors', 'Sum'),
      query('latency', 'ModelLatency', percentile),
    ],
  };
}

/** Reads the variant of `version` on `endpoint`. */
export function cloudWatchReader(api: AwsApi, endpoint: string): MetricsReader {
  return {
    async read(version, window, percentile): Promise<VersionMetrics | undefined> {
      const request = variantMetricsRequest(endpoint, version, window, percentile);
      const values = new Map<string, number[]>();
      let token: string | undefined;
      do {
        const page = await api.getMetricData({ ...request, ...(token && { NextToken: token }) });
        for (const result of page.MetricDataResults ?? []) values.set(result.Id ?? '', [...(values.get(result.Id ?? '') ?? []), ...(result.Values ?? [])]);
        token = page.NextToken;
      } while (token);
      const [invocations, errors, latency] = ['invocations', 'errors', 'latency'].map((id) => values.get(id) ?? []);
      if (invocations!.length === 0 && errors!.length === 0 && latency!.length === 0) return undefined;
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const requests = sum(invocations!);
      // More than one period (a window CloudWatch split): the slowest one counts.
      const latencyMs = latency!.length > 0 && requests > 0 ? Math.max(...latency!) / 1000 : undefined;
      return { requests, errors5xx: sum(errors!), ...(latencyMs !== undefined && { latencyMs }) };
    },
  };
}
