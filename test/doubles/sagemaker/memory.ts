/**
 * An in-memory fake of the SageMaker target's narrow AWS client (`AwsApi`, src/targets/sagemaker/
 * api.ts): the calls push, deploy, rollback, status and stop make, over plain maps, with the endpoint
 * driven by the shared endpoint-rollout state machine (ENDPOINT-ROLLOUT.md; a deployment is an
 * endpoint configuration, healthy when every version among its variants is). The variants' weights
 * are the configuration's until UpdateEndpointWeightsAndCapacities moves them (Updating for one
 * observation). `invoke` is the runtime's InvokeEndpoint: it routes a request to a variant by the
 * weights (smooth weighted round robin, so 10% of 100 requests is 10), answers by that version's
 * behaviour and records what SageMaker publishes to CloudWatch for it (`AWS/SageMaker`
 * Invocations, Invocation5XXErrors, ModelLatency in microseconds; EndpointName + VariantName), which
 * GetMetricData reads back (Sum and pNN per period; no datapoints in a period: no value). It answers
 * the way AWS does where the target reads the answer (names, ARNs, statuses, "Could not find"
 * errors); it is the fast tier under the wire-level doubles (moto + the contract fake), not a
 * replacement for them. `failNext` makes the next call fail with an AWS error of a category, as the
 * SDK would throw it.
 */
import type { AwsApi, S3Body } from '../../../src/targets/sagemaker/api.js';
import { CALLS } from '../../../src/targets/sagemaker/api.js';
import type { CloudErrorKind } from '../../../src/deploy/cloud-errors.js';
import { EndpointRollout, type Behaviour } from '../shared/endpoint-rollout.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** An error shaped as the AWS SDK throws it. */
function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}
const notFound = (what: string) => awsError('ValidationException', `Could not find ${what}.`);

/** The AWS error of each shared category, as the fake injects it. */
const INJECTED: Record<CloudErrorKind, () => Error> = {
  credentials: () => awsError('ExpiredTokenException', 'The security token included in the request is expired', 403),
  permission: () => awsError('AccessDeniedException', `User: arn:aws:sts::${ACCOUNT}:assumed-role/ci/mlship is not authorized to perform this action`, 403),
  quota: () => awsError('ResourceLimitExceeded', "The account-level service limit 'ml.c5.large for endpoint usage' is 0 Instances"),
  not_found: () => awsError('ResourceNotFound', 'Resource not found', 404),
  invalid_request: () => awsError('ValidationException', '1 validation error detected: Value at instanceType failed to satisfy constraint'),
  throttled: () => awsError('ThrottlingException', 'Rate exceeded'),
  conflict: () => awsError('ConflictException', 'Another update is in progress', 409),
  service: () => awsError('InternalFailure', 'We encountered an internal error. Please try again.', 500),
};

/** A CloudWatch statistic of raw values: Sum, SampleCount, Average, Minimum, Maximum or pNN (nearest rank). */
function statistic(stat: string, xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const p = /^p(\d+(?:\.\d+)?)$/.exec(stat);
  if (p) return sorted[Math.max(0, Math.ceil((Number(p[1]) / 100) * sorted.length) - 1)]!;
  const sum = xs.reduce((a, b) => a + b, 0);
  const table: Record<string, number> = { Sum: sum, SampleCount: xs.length, Average: sum / xs.length, Minimum: sorted[0]!, Maximum: sorted.at(-1)! };
  if (!(stat in table)) throw awsError('InvalidParameterValue', `The value ${stat} for parameter MetricDataQueries.member.1.MetricStat.Stat is not valid.`);
  return table[stat]!;
}

/** Calls that change something (the no-op scenarios count them). */
const MUTATING = /^(create|put|update|delete|register|deregister|start)/;

export interface MemorySageMaker {
  api: AwsApi;
  machine: EndpointRollout;
  /** Behaviour of a version (`v1`…) once it serves. */
  behaviours: Map<string, Partial<Behaviour>>;
  failNext(kind: CloudErrorKind): void;
  /** The version serving all traffic, as the endpoint says. */
  servingVersion(): string | undefined;
  /**
   * InvokeEndpoint at `at`: the variant that answered and its status (200, or 500 by its error rate),
   * recorded in CloudWatch; undefined when nothing serves (no endpoint, or not InService).
   */
  invoke(at: Date): { variant: string; status: number } | undefined;
  calls: string[];
  mutations(): number;
}

export function memorySageMaker(): MemorySageMaker {
  const behaviours = new Map<string, Partial<Behaviour>>();
  const behaviour = (version: string): Behaviour => ({ healthy: true, errorRate: 0, latencyMs: 5, ...behaviours.get(version) });
  const alarms = new Map<string, { MetricName?: string; Threshold?: number; StateValue: string; AlarmName: string }>();
  /** Variant names of a configuration (versions), and their initial weights. */
  const variantsOf = (config: string) =>
    ((configs.get(config)?.ProductionVariants ?? []) as { VariantName: string; InitialVariantWeight?: number }[]).map((v) => ({
      name: v.VariantName,
      weight: v.InitialVariantWeight ?? 1,
    }));
  // A configuration is healthy when every version among its variants passes its health check.
  const machine = new EndpointRollout(
    (config) => {
      const all = variantsOf(config).map((v) => behaviour(v.name));
      return { healthy: all.every((b) => b.healthy), errorRate: 0, latencyMs: 5 };
    },
    { provisionTicks: 2 },
  );
  /** The weights of each configuration's variants while it serves (set when the endpoint moves to it). */
  const weights = new Map<string, Record<string, number>>();
  let weightsPending: { ticks: number; config: string; weights: Record<string, number> } | undefined;
  /** CloudWatch: the datapoints SageMaker published. */
  const datapoints: { metric: string; dims: string; at: number; value: number }[] = [];
  const dimsKey = (dims: { Name?: string; Value?: string }[]) =>
    dims
      .map((d) => `${d.Name}=${d.Value}`)
      .sort()
      .join(',');
  /** Smooth weighted round robin state and the error-rate remainder, per variant. */
  const current = new Map<string, number>();
  const errorCarry = new Map<string, number>();
  const servingConfig = () => machine.servingAll() ?? Object.entries(machine.serving).sort((a, b) => b[1] - a[1])[0]?.[0];
  const liveWeights = () => {
    const config = servingConfig();
    return config ? (weights.get(config) ?? Object.fromEntries(variantsOf(config).map((v) => [v.name, v.weight]))) : {};
  };
  const objects = new Map<string, Map<string, Uint8Array>>();
  const groups = new Set<string>();
  const packages: { group: string; version: number; arn: string; approval: string; created: Date; input: Record<string, unknown> }[] = [];
  const models = new Map<string, Record<string, unknown>>();
  const configs = new Map<string, Record<string, unknown>>();
  const named = new Map<string, Map<string, Record<string, unknown>>>();
  const store = (kind: string) => named.get(kind) ?? named.set(kind, new Map()).get(kind)!;
  let endpointName: string | undefined;
  let captureUri: string | undefined;
  const calls: string[] = [];
  let injected: CloudErrorKind | undefined;
  let executions = 0;

  const bucket = (name: string) => {
    const b = objects.get(name);
    if (!b) throw awsError('NoSuchBucket', `The specified bucket ${name} does not exist`, 404);
    return b;
  };
  const bytes = (body: unknown): Promise<Uint8Array> | Uint8Array => {
    if (typeof body === 'string') return new TextEncoder().encode(body);
    if (body instanceof Uint8Array) return body;
    return (async () => {
      const chunks: Buffer[] = [];
      for await (const c of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
      return Buffer.concat(chunks);
    })();
  };
  const arn = (kind: string, name: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${kind}/${name.toLowerCase()}`;
  const describeNamed = (kind: string, name: string | undefined) => {
    const found = store(kind).get(String(name));
    if (!found) throw notFound(`${kind} "${name}"`);
    return found;
  };

  const impl: Record<string, (input: Record<string, any>) => unknown> = {
    getCallerIdentity: () => ({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ci/mlship`, UserId: 'AIDA' }),
    headBucket: (i) => (bucket(i.Bucket), {}),
    createBucket: (i) => (objects.set(i.Bucket, objects.get(i.Bucket) ?? new Map()), {}),
    putBucketEncryption: () => ({}),
    putPublicAccessBlock: () => ({}),
    headObject: (i) => {
      if (!bucket(i.Bucket).has(i.Key)) throw awsError('NotFound', 'Not Found', 404);
      return {};
    },
    putObject: async (i) => (bucket(i.Bucket).set(i.Key, await bytes(i.Body)), { ETag: '"e"' }),
    getObject: (i): S3Body => {
      const body = bucket(i.Bucket).get(i.Key);
      if (!body) throw awsError('NoSuchKey', 'The specified key does not exist.', 404);
      return {
        stream: async function* () {
          yield body;
        },
        text: async () => new TextDecoder().decode(body),
      };
    },
    listObjectsV2: (i) => ({
      Contents: [...bucket(i.Bucket).keys()]
        .filter((k) => k.startsWith(i.Prefix ?? ''))
        .sort()
        .map((Key) => ({ Key })),
      IsTruncated: false,
    }),
    describeRepositories: (i) => ({
      repositories: [{ repositoryName: i.repositoryNames[0], repositoryUri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${i.repositoryNames[0]}` }],
    }),
    createRepository: (i) => ({
      repository: { repositoryName: i.repositoryName, repositoryUri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${i.repositoryName}` },
    }),
    getAuthorizationToken: () => ({
      authorizationData: [
        { authorizationToken: Buffer.from('AWS:token').toString('base64'), proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com` },
      ],
    }),
    describeModelPackageGroup: (i) => {
      if (!groups.has(i.ModelPackageGroupName)) throw notFound(`model package group ${i.ModelPackageGroupName}`);
      return { ModelPackageGroupName: i.ModelPackageGroupName };
    },
    createModelPackageGroup: (i) => (groups.add(i.ModelPackageGroupName), { ModelPackageGroupArn: arn('model-package-group', i.ModelPackageGroupName) }),
    createModelPackage: (i) => {
      const version = packages.filter((p) => p.group === i.ModelPackageGroupName).length + 1;
      const p = {
        group: i.ModelPackageGroupName,
        version,
        arn: `${arn('model-package', i.ModelPackageGroupName)}/${version}`,
        approval: i.ModelApprovalStatus ?? 'PendingManualApproval',
        created: new Date(),
        input: i,
      };
      packages.push(p);
      return { ModelPackageArn: p.arn };
    },
    listModelPackages: (i) => {
      if (!groups.has(i.ModelPackageGroupName)) throw notFound(`model package group ${i.ModelPackageGroupName}`);
      return {
        ModelPackageSummaryList: packages
          .filter((p) => p.group === i.ModelPackageGroupName)
          .map((p) => ({ ModelPackageArn: p.arn, ModelPackageVersion: p.version, ModelApprovalStatus: p.approval, CreationTime: p.created })),
      };
    },
    describeModelPackage: (i) => {
      const p = packages.find((x) => x.arn === i.ModelPackageName);
      if (!p) throw notFound(`model package ${i.ModelPackageName}`);
      return { ...p.input, ModelPackageArn: p.arn, ModelApprovalStatus: p.approval, CreationTime: p.created };
    },
    updateModelPackage: (i) => {
      const p = packages.find((x) => x.arn === i.ModelPackageArn);
      if (!p) throw notFound(`model package ${i.ModelPackageArn}`);
      p.approval = i.ModelApprovalStatus;
      return { ModelPackageArn: p.arn };
    },
    describeModel: (i) => {
      const m = models.get(i.ModelName);
      if (!m) throw notFound(`model "${i.ModelName}"`);
      return m;
    },
    createModel: (i) => (models.set(i.ModelName, i), { ModelArn: arn('model', i.ModelName) }),
    describeEndpointConfig: (i) => {
      const c = configs.get(i.EndpointConfigName);
      if (!c) throw notFound(`endpoint configuration "${i.EndpointConfigName}"`);
      return c;
    },
    createEndpointConfig: (i) => (configs.set(i.EndpointConfigName, i), { EndpointConfigArn: arn('endpoint-config', i.EndpointConfigName) }),
    describeEndpoint: (i) => {
      const state = i.EndpointName === endpointName ? machine.observe() : undefined;
      if (!state) throw notFound(`endpoint "${i.EndpointName}"`);
      const config = servingConfig() ?? pendingConfig;
      let status: string = state.status;
      if (weightsPending && status === 'InService') {
        if (weightsPending.ticks-- > 0) status = 'Updating';
        else {
          weights.set(weightsPending.config, weightsPending.weights);
          weightsPending = undefined;
        }
      }
      const running = config && state.status !== 'Creating' ? liveWeights() : {};
      return {
        EndpointName: i.EndpointName,
        EndpointArn: arn('endpoint', i.EndpointName),
        EndpointConfigName: config,
        EndpointStatus: status,
        ...(state.failureReason && { FailureReason: state.failureReason }),
        ProductionVariants: Object.entries(running).map(([VariantName, w]) => ({
          VariantName,
          CurrentWeight: w,
          DesiredWeight: weightsPending?.weights[VariantName] ?? w,
          CurrentInstanceCount: 1,
        })),
        ...(captureUri && { DataCaptureConfig: { DestinationS3Uri: captureUri, EnableCapture: true } }),
        CreationTime: new Date(),
        LastModifiedTime: new Date(),
      };
    },
    createEndpoint: (i) => {
      if (machine.exists) throw awsError('ValidationException', `Cannot create already existing endpoint "${i.EndpointName}".`);
      endpointName = i.EndpointName;
      pendingConfig = i.EndpointConfigName;
      captureUri = (configs.get(i.EndpointConfigName)?.DataCaptureConfig as { DestinationS3Uri?: string } | undefined)?.DestinationS3Uri;
      machine.create(i.EndpointConfigName);
      weights.delete(i.EndpointConfigName);
      return { EndpointArn: arn('endpoint', i.EndpointName) };
    },
    updateEndpoint: (i) => {
      if (!configs.has(i.EndpointConfigName)) throw notFound(`endpoint configuration "${i.EndpointConfigName}"`);
      try {
        machine.update(i.EndpointConfigName, { kind: 'all-at-once' });
      } catch (error) {
        throw awsError('ValidationException', `Cannot update in-progress endpoint: ${(error as Error).message}`);
      }
      // Weights are the configuration's (mlship excludes DesiredWeight from the retained properties).
      weights.delete(i.EndpointConfigName);
      return { EndpointArn: arn('endpoint', i.EndpointName) };
    },
    updateEndpointWeightsAndCapacities: (i) => {
      if (i.EndpointName !== endpointName || !machine.exists) throw notFound(`endpoint "${i.EndpointName}"`);
      if (machine.status !== 'InService' || weightsPending)
        throw awsError('ValidationException', `Cannot update in-progress endpoint "${arn('endpoint', i.EndpointName)}".`);
      const config = servingConfig()!;
      const next = { ...liveWeights() };
      for (const d of i.DesiredWeightsAndCapacities ?? []) {
        if (!(d.VariantName in next))
          throw awsError('ValidationException', `The variant name(s) "${d.VariantName}" is/are not present within endpoint configuration "${config}".`);
        if (d.DesiredWeight !== undefined) next[d.VariantName] = d.DesiredWeight;
      }
      weightsPending = { ticks: 1, config, weights: next };
      return { EndpointArn: arn('endpoint', i.EndpointName) };
    },
    deleteEndpoint: (i) => {
      if (i.EndpointName !== endpointName || !machine.exists) throw notFound(`endpoint "${i.EndpointName}"`);
      machine.delete();
      return {};
    },
    describeDataQualityJobDefinition: (i) => describeNamed('job', i.JobDefinitionName),
    createDataQualityJobDefinition: (i) => (
      store('job').set(i.JobDefinitionName, i), { JobDefinitionArn: arn('data-quality-job-definition', i.JobDefinitionName) }
    ),
    describeMonitoringSchedule: (i) => describeNamed('monitoring', i.MonitoringScheduleName),
    createMonitoringSchedule: (i) => (
      store('monitoring').set(i.MonitoringScheduleName, i), { MonitoringScheduleArn: arn('monitoring-schedule', i.MonitoringScheduleName) }
    ),
    updateMonitoringSchedule: (i) => (
      store('monitoring').set(i.MonitoringScheduleName, i), { MonitoringScheduleArn: arn('monitoring-schedule', i.MonitoringScheduleName) }
    ),
    describePipeline: (i) => ({ ...describeNamed('pipeline', i.PipelineName), PipelineArn: arn('pipeline', i.PipelineName) }),
    createPipeline: (i) => (store('pipeline').set(i.PipelineName, i), { PipelineArn: arn('pipeline', i.PipelineName) }),
    updatePipeline: (i) => (
      store('pipeline').set(i.PipelineName, { ...describeNamed('pipeline', i.PipelineName), ...i }), { PipelineArn: arn('pipeline', i.PipelineName) }
    ),
    startPipelineExecution: (i) => (
      describeNamed('pipeline', i.PipelineName), { PipelineExecutionArn: `${arn('pipeline', i.PipelineName)}/execution/${++executions}` }
    ),
    describePipelineExecution: (i) => ({ PipelineExecutionArn: i.PipelineExecutionArn, PipelineExecutionStatus: 'Succeeded' }),
    registerScalableTarget: (i) => (store('scaling').set(i.ResourceId, i), {}),
    deregisterScalableTarget: (i) => (store('scaling').delete(i.ResourceId), {}),
    putScalingPolicy: () => ({ PolicyARN: 'arn:aws:autoscaling:policy' }),
    describeScalableTargets: (i) => ({ ScalableTargets: (i.ResourceIds ?? []).map((id: string) => store('scaling').get(id)).filter(Boolean) }),
    getMetricData: (i) => ({
      MetricDataResults: (i.MetricDataQueries ?? []).map((q: any) => {
        const stat = q.MetricStat;
        const from = new Date(i.StartTime).getTime();
        const to = new Date(i.EndTime).getTime();
        const period = stat.Period * 1000;
        const key = dimsKey(stat.Metric.Dimensions ?? []);
        const Timestamps: Date[] = [];
        const Values: number[] = [];
        for (let start = from; start < to; start += period) {
          const xs = datapoints
            .filter((d) => d.metric === stat.Metric.MetricName && d.dims === key && d.at >= start && d.at < Math.min(start + period, to))
            .map((d) => d.value);
          if (xs.length === 0) continue;
          Timestamps.push(new Date(start));
          Values.push(statistic(stat.Stat, xs));
        }
        return { Id: q.Id, Label: stat.Metric.MetricName, Timestamps, Values, StatusCode: 'Complete' };
      }),
    }),
    putMetricAlarm: (i) => (alarms.set(i.AlarmName, { AlarmName: i.AlarmName, MetricName: i.MetricName, Threshold: i.Threshold, StateValue: 'OK' }), {}),
    describeAlarms: (i) => ({ MetricAlarms: (i.AlarmNames ?? []).map((n: string) => alarms.get(n)).filter(Boolean) }),
    getSchedule: (i) => describeNamed('schedule', i.Name),
    createSchedule: (i) => (store('schedule').set(i.Name, i), { ScheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/${i.Name}` }),
    updateSchedule: (i) => (store('schedule').set(i.Name, i), { ScheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/${i.Name}` }),
  };
  let pendingConfig: string | undefined;

  const api: Record<string, unknown> = { region: REGION };
  for (const call of Object.keys(CALLS)) {
    api[call] = async (input: Record<string, unknown> = {}) => {
      calls.push(call);
      if (injected) {
        const kind = injected;
        injected = undefined;
        throw INJECTED[kind]();
      }
      const fn = impl[call];
      if (!fn) throw new Error(`the in-memory SageMaker fake does not implement ${call}`);
      return fn(input);
    };
  }
  return {
    api: api as unknown as AwsApi,
    machine,
    behaviours,
    failNext: (kind) => void (injected = kind),
    servingVersion: () => {
      if (!machine.servingAll()) return undefined;
      const live = Object.entries(liveWeights()).filter(([, w]) => w > 0);
      return live.length === 1 ? live[0]![0] : undefined;
    },
    invoke: (at) => {
      if (!endpointName || machine.status !== 'InService' || !servingConfig()) return undefined;
      // Smooth weighted round robin: each variant gains its weight, the one ahead answers and pays the total.
      const w = Object.entries(liveWeights()).filter(([, x]) => x > 0);
      const total = w.reduce((a, [, x]) => a + x, 0);
      if (total === 0) return undefined;
      for (const [name, x] of w) current.set(name, (current.get(name) ?? 0) + x);
      const variant = w.map(([name]) => name).sort((a, b) => (current.get(b) ?? 0) - (current.get(a) ?? 0))[0]!;
      current.set(variant, (current.get(variant) ?? 0) - total);
      const b = behaviour(variant);
      const carry = (errorCarry.get(variant) ?? 0) + b.errorRate;
      const failed = carry >= 1;
      errorCarry.set(variant, failed ? carry - 1 : carry);
      const dims = dimsKey([
        { Name: 'EndpointName', Value: endpointName },
        { Name: 'VariantName', Value: variant },
      ]);
      const put = (metric: string, value: number) => datapoints.push({ metric, dims, at: at.getTime(), value });
      put('Invocations', 1);
      put('Invocation5XXErrors', failed ? 1 : 0);
      put('ModelLatency', b.latencyMs * 1000);
      return { variant, status: failed ? 500 : 200 };
    },
    calls,
    mutations: () => calls.filter((c) => MUTATING.test(c)).length,
  };
}
