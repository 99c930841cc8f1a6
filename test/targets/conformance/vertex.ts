/**
 * The Vertex AI target in the conformance suite: `VertexTarget` with the real Google clients against
 * the wire-level doubles (test/doubles/vertex/), a clock that moves only when slept on.
 * - push, deploy, rollback, status, stop: gRPC fake (ModelService, EndpointService, JobService,
 *   ScheduleService, Operations) + GCS and BigQuery of the HTTP fake;
 * - `behave(n, …)`: unhealthy → DeployModel's operation fails ("Model server never became ready");
 *   5xx rate and latency → what Cloud Monitoring timeSeries.list (HTTP fake) reports for that
 *   deployed model in every window the canary reads;
 * - `traffic(n)`: n predictions per minute of each window read, split by the endpoint's traffic split;
 * - `failNextCall(kind)`: the next Vertex gRPC call answers the gRPC status Vertex uses for that kind;
 * - `mutations()`: state-changing gRPC calls plus GCS/BigQuery writes the fakes received.
 * Deployed models are not started (no container): the suite is about the control plane.
 */
import { silentReporter } from '../../../src/util/reporter.js';
import { loadManifestFile } from '../../../src/manifest/load.js';
import type { CloudErrorKind } from '../../../src/deploy/cloud-errors.js';
import { manualClock } from '../../../src/deploy/poll.js';
import { vertexDescriptor } from '../../../src/targets/vertex/descriptor.js';
import { resolveResources } from '../../../src/targets/vertex/resources.js';
import { VertexTarget } from '../../../src/targets/vertex/vertex-target.js';
import { makeBuild } from '../../helpers/build.js';
import { vertexProject } from '../vertex/project.js';
import type { ConformanceHarness, ConformanceWorld } from './harness.js';

/** The gRPC status Vertex answers for each kind (and the message that makes it that kind). */
const STATUS: Record<CloudErrorKind, { code: number; message: string }> = {
  credentials: { code: 16, message: 'Request had invalid authentication credentials.' },
  permission: { code: 7, message: "Permission 'aiplatform.endpoints.deploy' denied on resource (or it may not exist)." },
  quota: { code: 8, message: 'The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_cpus' },
  not_found: { code: 5, message: 'Endpoint not found.' },
  invalid_request: { code: 3, message: 'Machine type "n1-standard-2" is not supported.' },
  throttled: { code: 8, message: 'Too many requests: rate limit exceeded.' },
  conflict: { code: 9, message: 'The Endpoint has an operation in progress.' },
  service: { code: 13, message: 'Internal error encountered.' },
};

const MUTATING = /^(Create|Update|Delete|Deploy|Undeploy|Upload|Merge|Pause|Resume|Mutate)/;

export const harness: ConformanceHarness = {
  descriptor: vertexDescriptor,
  cloud: true,
  async start(): Promise<ConformanceWorld> {
    const project = await vertexProject({ serve: false, pollsUntilDone: 1 });
    const saved = { ...process.env };
    // The storage and BigQuery SDKs read their emulator variables from the process environment.
    Object.assign(process.env, project.fakes.env);
    const manifest = loadManifestFile(project.manifestFile);
    const clock = manualClock();
    // Every reading of the clock moves it 1 ms: history objects are ordered by their timestamps.
    const now = () => {
      clock.advance(1);
      return clock.now();
    };
    const target = new VertexTarget(
      { manifest, output: silentReporter, env: { ...process.env }, command: 'deploy', now, sleep: clock.sleep },
      { maxPollMs: 20 },
    );
    const { grpc, http } = project.fakes;
    const model = `projects/${grpc.options.project}/locations/${grpc.options.location}/models/mlship-${manifest.name}`;
    http.syntheticRequestsPerMinute = 100;
    return {
      target,
      pushOptions: { image: 'us-central1-docker.pkg.dev/mlship-demo/mlship/churn:conformance' },
      timeoutSeconds: 60,
      async build(n) {
        return makeBuild(manifest, n - 1);
      },
      manifest,
      async registerRetrained(parent) {
        // The pipeline's `register` step: UploadModel of the run's output as a new version, alias `candidate`, no mlship record.
        const r = resolveResources(manifest, process.env);
        const out = `${r.root}/pipeline-runs/latest/model/`;
        http.buckets
          .get(r.bucket)!
          .objects.set(`${out}model.joblib`, { data: Buffer.from('retrained'), contentType: 'application/octet-stream', generation: 1, updated: new Date() });
        await grpc.uploadModel({
          parentModel: model,
          model: {
            displayName: manifest.name,
            artifactUri: `gs://${r.bucket}/${out}`,
            containerSpec: { imageUri: 'us-central1-docker.pkg.dev/mlship-demo/mlship/churn:conformance', ports: [{ containerPort: 8080 }] },
            versionAliases: ['candidate'],
            labels: { 'mlship-project': manifest.name, 'mlship-parent': parent },
          },
        })();
      },
      behave(version, behaviour) {
        // Versions are pushed in order: vN is Vertex model version N.
        const key = `${model}@${version.replace(/^v/, '')}`;
        if (behaviour.healthy === false) grpc.unhealthy.add(key);
        http.behaviour.set(key, {
          ...(behaviour.errorRate !== undefined && { errorRate: behaviour.errorRate }),
          ...(behaviour.latencyMs !== undefined && { latencyMs: behaviour.latencyMs }),
        });
      },
      traffic(n) {
        http.syntheticRequestsPerMinute = n;
      },
      async serving() {
        const ep = [...grpc.endpoints.values()][0];
        const id = ep && Object.entries(ep.split).find(([, pct]) => pct === 100)?.[0];
        const d = ep?.deployed.find((x) => x.id === id);
        return d ? `v${d.modelVersionId}` : undefined;
      },
      failNextCall(kind) {
        // GetEndpoint's NOT_FOUND means "no endpoint yet" to mlship; a missing monitoring-job list does not.
        grpc.inject({ method: kind === 'not_found' ? 'ListModelDeploymentMonitoringJobs' : '*', phase: 'call', ...STATUS[kind] });
      },
      async uploadFeedback(file, text) {
        const r = resolveResources(manifest, process.env);
        http.buckets
          .get(r.bucket)!
          .objects.set(`${r.root}/feedback/${file}`, { data: Buffer.from(text), contentType: 'application/x-ndjson', generation: 1, updated: new Date() });
      },
      mutations() {
        const rpc = grpc.calls.filter((c) => MUTATING.test(c.method) && !c.error).length;
        const writes = http.requests.filter((r) => r.method !== 'GET').length;
        return rpc + writes;
      },
      async close() {
        await target.close();
        process.env = saved;
        await project.cleanup();
      },
    };
  },
};
