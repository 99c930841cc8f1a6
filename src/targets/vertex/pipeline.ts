/**
 * Retraining on Vertex AI Pipelines: a compiled KFP pipeline (IR JSON, rendered from
 * `templates/vertex/pipeline.json.hbs`; every value decided and JSON-encoded here) with two steps —
 * `train` runs `retraining.command` in the version's image on the project source copied to GCS
 * (read through Vertex's Cloud Storage FUSE mount at /gcs/<bucket>), leaving the model in the run's
 * output folder; `register` uploads it as a new version of the project's model with the alias
 * `candidate` (pending promotion: `mlship deploy --version vN` makes it live). A `Schedule`
 * (ScheduleService) starts it on `retraining.schedule`; `mlship retrain` starts one run and follows it.
 */
import path from 'node:path';
import type { ComputeChoice } from '../../compute/types.js';
import { OperationError } from '../../util/errors.js';
import { renderTemplate } from '../../util/templates.js';
import { mlshipVersion } from '../../util/version.js';
import type { Manifest } from '../../manifest/types.js';
import { pollUntil, type Clock } from '../../deploy/poll.js';
import { projectSourceFiles, shellQuote } from '../../deploy/source.js';
import { converge, type Step } from '../../deploy/steps.js';
import type { RetrainingRun, TargetContext } from '../../deploy/types.js';
import type { ICreatePipelineJobRequest, ISchedule } from './api.js';
import { CONTAINER } from './requests.js';
import { gcsUri, keys, type VertexResources } from './resources.js';
import type { VertexRecord, VertexSession } from './session.js';

/** The Google Cloud Pipeline Components image that runs the model upload (pinned). */
export const GCPC_IMAGE = 'gcr.io/ml-pipeline/google-cloud-pipeline-components:2.17.0';

type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
type IValue = import('@google-cloud/aiplatform').protos.google.protobuf.IValue;
type IStruct = import('@google-cloud/aiplatform').protos.google.protobuf.IStruct;

/** JSON as a protobuf Struct (a plain object would be encoded as `{}` by the client, silently). */
export function toStruct(obj: Record<string, JsonValue>): IStruct {
  return { fields: Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, toValue(v)])) };
}

function toValue(v: JsonValue): IValue {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v) };
}

/** The train step's script: copy the source, run the training command, leave the model in the output folder. */
export function trainScript(manifest: Manifest): string {
  const model = manifest.model.relativePath.split(path.sep).join('/');
  return [
    'set -eu',
    'src="/gcs/${1#gs://}"; out="/gcs/${2#gs://}"',
    'mkdir -p /tmp/project && cp -R "$src/." /tmp/project/ && cd /tmp/project',
    manifest.retraining.command,
    'mkdir -p "$out/model"',
    `cp ${shellQuote(model)} "$out/model/"`,
  ].join('\n');
}

/** The compiled pipeline (KFP IR) for a version's image. */
export function pipelineSpec(manifest: Manifest, r: VertexResources, rec: VertexRecord, compute: ComputeChoice): Record<string, JsonValue> {
  const j = (v: unknown) => JSON.stringify(v);
  const payload = {
    display_name: manifest.name,
    parent_model: r.model,
    version_aliases: ['candidate'],
    artifact_uri: "{{$.inputs.parameters['output_dir']}}/model/",
    container_spec: {
      image_uri: rec.image,
      ports: [{ container_port: CONTAINER.port }],
      predict_route: CONTAINER.predictRoute,
      health_route: CONTAINER.healthRoute,
    },
    labels: { 'mlship-project': manifest.name, 'mlship-parent': rec.version },
  };
  const text = renderTemplate('vertex/pipeline.json.hbs', {
    name: j(r.pipeline),
    description: j(`mlship retraining of ${manifest.name}: ${manifest.retraining.command}`),
    sdkVersion: j(`mlship-${mlshipVersion()}`),
    sourceDir: j(gcsUri(r, `${r.root}/source`)),
    outputDir: j(gcsUri(r, `${r.root}/pipeline-runs/latest`)),
    image: j(rec.image),
    trainScript: j(trainScript(manifest)),
    sourceParam: j("{{$.inputs.parameters['source_dir']}}"),
    outputParam: j("{{$.inputs.parameters['output_dir']}}"),
    cpuLimit: j(Math.max(2, Math.min(8, Number(/-(\d+)$/.exec(compute.instanceType.split('+')[0]!)?.[1] ?? 4)))),
    memoryLimit: j(16),
    registerImage: j(GCPC_IMAGE),
    registerPayload: j(JSON.stringify(payload)),
    executorInput: j('{{$}}'),
    project: j(r.project),
    location: j(r.region),
  });
  return JSON.parse(text) as Record<string, JsonValue>;
}

/** CreatePipelineJob for one run (or the request a schedule repeats). */
export function pipelineJobRequest(manifest: Manifest, r: VertexResources, rec: VertexRecord, compute: ComputeChoice): ICreatePipelineJobRequest {
  return {
    parent: r.parent,
    pipelineJob: {
      displayName: r.pipeline,
      pipelineSpec: toStruct(pipelineSpec(manifest, r, rec, compute)),
      runtimeConfig: { gcsOutputDirectory: gcsUri(r, keys.pipelineRoot(r)) },
      labels: { 'mlship-project': manifest.name },
      ...(r.serviceAccount && { serviceAccount: r.serviceAccount }),
      ...(r.network && { network: r.network }),
    },
  };
}

/** The schedule: `retraining.schedule` (UTC), one run at a time, none queued. */
export function scheduleFor(manifest: Manifest, r: VertexResources, rec: VertexRecord, compute: ComputeChoice): ISchedule {
  return {
    displayName: r.pipeline,
    cron: `TZ=UTC ${manifest.retraining.schedule}`,
    maxConcurrentRunCount: 1,
    allowQueueing: false,
    createPipelineJobRequest: pipelineJobRequest(manifest, r, rec, compute),
  };
}

/** Copy the project source (what the training command needs) to `<root>/source/`. */
async function uploadSource(session: VertexSession, projectDir: string): Promise<void> {
  for (const f of projectSourceFiles(projectDir)) {
    await session.api.uploadFile(session.r.bucket, `${session.r.root}/source/${f}`, path.join(projectDir, f));
  }
}

/** Deploy's retraining steps: the source, and the schedule created or updated when it differs. */
export async function retrainingSteps(session: VertexSession, manifest: Manifest, rec: VertexRecord, compute: ComputeChoice): Promise<Step[]> {
  if (!manifest.retraining.schedule) return [];
  const { api, r } = session;
  const wanted = scheduleFor(manifest, r, rec, compute);
  type Schedule = NonNullable<Awaited<ReturnType<typeof api.findSchedule>>>;
  const imageOf = (s: Schedule) =>
    s.createPipelineJobRequest?.pipelineJob?.pipelineSpec?.fields?.deploymentSpec?.structValue?.fields?.executors?.structValue?.fields?.['exec-train']
      ?.structValue?.fields?.container?.structValue?.fields?.image?.stringValue ?? undefined;
  const details = {
    cron: wanted.cron,
    pipeline: r.pipeline,
    steps: ['train', 'register'],
    image: rec.image,
    command: manifest.retraining.command,
    source: gcsUri(r, `${r.root}/source/`),
  };
  const step = await converge<Schedule>({
    resource: `${r.parent}/schedules/${r.pipeline}`,
    describe: () => api.findSchedule(r.pipeline),
    create: {
      action: 'aiplatform:CreateSchedule',
      details,
      run: async () => {
        await uploadSource(session, manifest.projectDir);
        await api.createSchedule({ parent: r.parent, schedule: wanted });
      },
    },
    update: {
      action: 'aiplatform:UpdateSchedule',
      details,
      resource: (existing) => existing.name ?? `${r.parent}/schedules/${r.pipeline}`,
      run: async (existing) => {
        await uploadSource(session, manifest.projectDir);
        await api.updateSchedule({ schedule: { ...wanted, name: existing.name }, updateMask: { paths: ['cron', 'create_pipeline_job_request'] } });
      },
    },
    differs: (existing) => existing.cron !== wanted.cron || imageOf(existing) !== rec.image,
  });
  return step ? [step] : [];
}

/** Start one run of the retraining pipeline and follow it to its end. */
export async function runRetrainingPipeline(
  session: VertexSession,
  ctx: TargetContext,
  rec: VertexRecord,
  compute: ComputeChoice,
  options: { timeoutSeconds: number; clock: Clock },
): Promise<RetrainingRun> {
  const { api, r } = session;
  await uploadSource(session, ctx.manifest.projectDir);
  const job = await api.createPipelineJob(pipelineJobRequest(ctx.manifest, r, rec, compute));
  const name = job.name ?? '';
  const result = await pollUntil({
    what: `pipeline ${r.pipeline}`,
    start: `pipeline ${r.pipeline}: started (${name})`,
    read: () => api.getPipelineJob(name),
    classify: (j) => {
      const state = String(j.state ?? 'PIPELINE_STATE_UNSPECIFIED');
      if (state === 'PIPELINE_STATE_SUCCEEDED')
        return { kind: 'done', value: state, message: `pipeline ${r.pipeline}: succeeded; the new version has the alias "candidate" in ${r.model}` };
      if (['PIPELINE_STATE_FAILED', 'PIPELINE_STATE_CANCELLED'].includes(state)) {
        return {
          kind: 'failed',
          error: new OperationError(
            'pipeline_failed',
            `the retraining pipeline ${r.pipeline} ended ${state}${j.error?.message ? `: ${j.error.message}` : ''}`,
            {
              hint: `See the run in the Vertex AI console (Pipelines → ${name}); the train step's logs are in Cloud Logging.`,
              details: { executionId: name, status: state },
            },
          ),
        };
      }
      return { kind: 'pending', status: state.replace('PIPELINE_STATE_', '').toLowerCase() };
    },
    timeoutSeconds: options.timeoutSeconds,
    onTimeout: (status, seconds) =>
      new OperationError('pipeline_timeout', `the retraining pipeline ${r.pipeline} is still ${status} after ${seconds}s; it keeps running on Vertex AI`, {
        hint: `Follow it in the console (${name}), or wait longer with a larger --timeout.`,
      }),
    clock: options.clock,
    reporter: ctx.output,
  });
  return { pipeline: r.pipeline, executionId: name, status: result.value, seconds: result.seconds };
}
