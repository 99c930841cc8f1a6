/**
 * The semantic checks Vertex AI makes and the client does not (it drops unknown fields and enum names
 * silently): machine and accelerator rules, replica bounds, autoscaling metrics, traffic splits,
 * logging configuration, aliases, cron. Each returns a problem in Vertex's words, or undefined.
 * Sources: CONTRACT.md beside this file (the machine-family table follows
 * https://cloud.google.com/vertex-ai/docs/predictions/configure-compute, as of 2026-11).
 */

/** Accelerators each machine family takes, and the count a machine type fixes (g2/a2/a3 embed theirs). */
const FAMILIES: { prefix: RegExp; accelerators: string[]; count?: (machine: string) => number | undefined; required?: boolean }[] = [
  { prefix: /^n1-/, accelerators: ['NVIDIA_TESLA_T4', 'NVIDIA_TESLA_V100', 'NVIDIA_TESLA_P4', 'NVIDIA_TESLA_P100'] },
  {
    prefix: /^g2-standard-/,
    accelerators: ['NVIDIA_L4'],
    required: true,
    count: (m) => ({ 4: 1, 8: 1, 12: 1, 16: 1, 24: 2, 32: 1, 48: 4, 96: 8 })[Number(m.split('-')[2])],
  },
  { prefix: /^a2-highgpu-/, accelerators: ['NVIDIA_TESLA_A100'], required: true, count: (m) => Number(/(\d+)g$/.exec(m)?.[1]) },
  { prefix: /^a2-ultragpu-/, accelerators: ['NVIDIA_A100_80GB'], required: true, count: (m) => Number(/(\d+)g$/.exec(m)?.[1]) },
  { prefix: /^a3-highgpu-/, accelerators: ['NVIDIA_H100_80GB'], required: true, count: (m) => Number(/(\d+)g$/.exec(m)?.[1]) },
  { prefix: /^(e2|n2|n2d|c2|c2d|m1)-/, accelerators: [] },
];

export interface MachineSpec {
  machineType?: string;
  acceleratorType?: string;
  acceleratorCount?: number;
}

/** A machine spec Vertex would accept for online prediction. */
export function checkMachine(spec: MachineSpec | undefined): string | undefined {
  const machine = spec?.machineType;
  if (!machine) return 'dedicated_resources.machine_spec.machine_type is required';
  const family = FAMILIES.find((f) => f.prefix.test(machine));
  if (!family) return `Machine type "${machine}" is not supported for online prediction`;
  const type = spec.acceleratorType && spec.acceleratorType !== 'ACCELERATOR_TYPE_UNSPECIFIED' ? spec.acceleratorType : undefined;
  const count = spec.acceleratorCount ?? 0;
  if (type && count <= 0) return `accelerator_count must be positive when accelerator_type is ${type}`;
  if (!type && count > 0) return 'accelerator_type is required when accelerator_count is set';
  if (!type) return family.required ? `Machine type "${machine}" requires accelerator ${family.accelerators[0]}` : undefined;
  if (!family.accelerators.includes(type)) return `Accelerator "${type}" is not supported for machine type "${machine}"`;
  const fixed = family.count?.(machine);
  if (fixed !== undefined && count !== fixed) return `Machine type "${machine}" takes ${fixed} ${type}, got accelerator_count ${count}`;
  if (fixed === undefined && ![1, 2, 4, 8].includes(count)) return `accelerator_count ${count} is not one of 1, 2, 4, 8`;
  return undefined;
}

const METRICS = new Set([
  'aiplatform.googleapis.com/prediction/online/cpu/utilization',
  'aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle',
  'aiplatform.googleapis.com/prediction/online/request_count',
]);

/** DedicatedResources: machine, 1 ≤ min ≤ max, autoscaling metrics Vertex knows. */
export function checkDedicatedResources(r: any): string | undefined {
  if (!r) return 'deployed_model.dedicated_resources is required for custom-container models';
  const machine = checkMachine(r.machineSpec);
  if (machine) return machine;
  const min = r.minReplicaCount ?? 0;
  const max = r.maxReplicaCount ?? min;
  if (min < 1) return 'dedicated_resources.min_replica_count must be at least 1';
  if (max < min) return `dedicated_resources.max_replica_count (${max}) is below min_replica_count (${min})`;
  for (const spec of r.autoscalingMetricSpecs ?? []) {
    if (!METRICS.has(spec.metricName)) return `autoscaling metric "${spec.metricName}" is not supported`;
    if (spec.metricName.endsWith('duty_cycle') && !r.machineSpec.acceleratorType) return 'accelerator duty cycle autoscaling needs an accelerator';
    if (spec.target !== undefined && !spec.metricName.endsWith('request_count') && (spec.target < 1 || spec.target > 100)) {
      return `autoscaling target ${spec.target} is not within [1, 100]`;
    }
  }
  return undefined;
}

/** A traffic split: non-negative integers summing to 100 over known keys (or empty). */
export function checkTrafficSplit(split: Record<string, number> | undefined, keys: Set<string>): string | undefined {
  const entries = Object.entries(split ?? {});
  if (entries.length === 0) return undefined;
  for (const [k, v] of entries) {
    if (!keys.has(k)) return `traffic_split key "${k}" is not a DeployedModel of the endpoint`;
    if (!Number.isInteger(v) || v < 0) return `traffic_split value ${v} for "${k}" is not a non-negative integer`;
  }
  const sum = entries.reduce((a, [, v]) => a + v, 0);
  return sum === 100 ? undefined : `traffic_split must sum to 100, got ${sum}`;
}

/**
 * A ModelContainerSpec probe (startup_probe, health_probe, liveness_probe) as the v1 proto's comments
 * define it: one probe type, period_seconds >= 1, timeout_seconds >= period_seconds, thresholds >= 1.
 */
export function checkProbe(name: string, p: any): string | undefined {
  if (!p) return undefined;
  const types = ['exec', 'httpGet', 'grpc', 'tcpSocket'].filter((t) => p[t]);
  if (types.length !== 1) return `${name}: set exactly one of exec, http_get, grpc, tcp_socket (got ${types.join(', ') || 'none'})`;
  const period = p.periodSeconds || 10;
  const timeout = p.timeoutSeconds || 1;
  if (timeout < period) return `${name}.timeout_seconds (${timeout}) must be greater than or equal to period_seconds (${period})`;
  if ((p.failureThreshold ?? 3) < 0 || (p.successThreshold ?? 1) < 0 || (p.initialDelaySeconds ?? 0) < 0) return `${name}: negative values are invalid`;
  if (p.httpGet && !String(p.httpGet.path ?? '').startsWith('/')) return `${name}.http_get.path must start with /`;
  return undefined;
}

/** deployment_timeout: at most 2 hours (the proto's comment). */
export function checkDeploymentTimeout(d: any): string | undefined {
  const seconds = Number(d?.seconds ?? 0);
  return seconds > 7200 ? `container_spec.deployment_timeout is ${seconds} s; the limit is 2 hours` : undefined;
}

const BQ_URI = /^bq:\/\/[a-z][a-z0-9-]{4,28}[a-z0-9](\.[A-Za-z0-9_]{1,1024}(\.[A-Za-z0-9_-]{1,1024})?)?$/;

/** Request-response logging: rate in (0, 1], a bq:// destination when enabled. */
export function checkLoggingConfig(c: any): string | undefined {
  if (!c || !c.enabled) return undefined;
  const rate = c.samplingRate ?? 0;
  if (!(rate > 0 && rate <= 1)) return `predict_request_response_logging_config.sampling_rate must be in (0, 1], got ${rate}`;
  const uri = c.bigqueryDestination?.outputUri;
  if (!uri) return 'predict_request_response_logging_config.bigquery_destination.output_uri is required when logging is enabled';
  if (!BQ_URI.test(uri)) return `"${uri}" is not a BigQuery URI (bq://project[.dataset[.table]])`;
  return undefined;
}

/** A version alias: `[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]`, not a number. */
export function checkAlias(alias: string): string | undefined {
  return /^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$/.test(alias) ? undefined : `version alias "${alias}" does not match [a-z][a-zA-Z0-9-]{0,126}[a-z0-9]`;
}

/** A Vertex schedule cron: five fields, optionally preceded by `TZ=<zone> ` or `CRON_TZ=<zone> `. */
export function checkCron(cron: string | undefined): string | undefined {
  if (!cron) return 'schedule.cron is required';
  const body = cron.replace(/^(CRON_)?TZ=[A-Za-z_/+-]+ /, '');
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 5 || fields.some((f) => !/^[\d*/,-]+$|^[A-Z]{3}$/i.test(f))) return `"${cron}" is not a five-field cron expression`;
  return undefined;
}

/** A Struct decoded by proto-loader is `{fields: {...}}`; empty means the client dropped a plain object. */
export function structFields(s: any): Record<string, any> | undefined {
  const fields = s?.fields;
  return fields && Object.keys(fields).length > 0 ? fields : undefined;
}

/** Plain JSON from a decoded google.protobuf.Struct / Value. */
export function fromStruct(s: any): Record<string, unknown> {
  return Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, fromValue(v)]));
}

export function fromValue(v: any): unknown {
  if (!v) return null;
  switch (v.kind) {
    case 'structValue':
      return fromStruct(v.structValue);
    case 'listValue':
      return (v.listValue?.values ?? []).map(fromValue);
    case 'numberValue':
      return v.numberValue;
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue;
    default:
      return null;
  }
}
