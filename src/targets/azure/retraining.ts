/**
 * Retraining on Azure ML and the versions it leaves behind.
 *
 * - The project source is a **code asset** (`<name>-source`, version = the first 12 hex of the
 *   source's content digest, so an unchanged project registers and uploads once), uploaded to the
 *   datastore under `mlship/<name>/source/<digest>/` (shared/source.ts decides what is source).
 * - A retraining **command job** (started by `mlship retrain` or by the `CreateJob` schedule) runs
 *   `retraining.command` on that source in the parent version's environment and hands its artifact to
 *   its `model` output, which Azure ML registers as the next version of the project's model
 *   (schedules.ts trainCommand), with a marker (`mlship.json`: sha256, artifact, parent) beside it.
 * - Such a model version carries no mlship tags yet: it is a **pending** version (reads change
 *   nothing). `mlship deploy --version vN` promotes it: the plan's first steps register environment
 *   version N (the parent's image, which serves the new artifact from `AZUREML_MODEL_DIR`) and tag the
 *   model version like a pushed one; a deploy without --version never picks a pending version.
 */
import path from 'node:path';
import { OperationError } from '../../util/errors.js';
import { mlshipVersion } from '../../util/version.js';
import type { Manifest } from '../../manifest/types.js';
import type { Reporter } from '../../util/reporter.js';
import { resolveVersion } from '../../deploy/versions.js';
import { pollUntil, type Clock } from '../../deploy/poll.js';
import { projectSourceFiles, sourceDigest } from '../../deploy/source.js';
import type { Step } from '../../deploy/steps.js';
import type { RetrainingRun } from '../../deploy/types.js';
import type { ObjectRegistry } from '../../deploy/registry.js';
import type { BlobStore } from './blob-store.js';
import { API_VERSION, type ArmResource, type AzureMl } from './client.js';
import { environmentVersionBody, modelVersionBody, numericMetrics, recordFromModelVersion, type AzureVersionRecord } from './requests.js';
import { workspaceChildId, type AzureResources } from './resources.js';
import { RETRAINED_MARKER, retrainJobBody, type RetrainedMarker } from './schedules.js';

/** What these functions need of a connected target. */
export interface AzureSession {
  api: AzureMl;
  r: AzureResources;
  store: BlobStore;
  registry: ObjectRegistry<AzureVersionRecord>;
}

const FAILED = new Set(['Failed', 'Canceled', 'NotResponding']);

// -----------------------------------------------------------------------------------------------
// versions

/**
 * mlship's versions, oldest first: model versions pushed (tagged) by mlship, and the pending ones a
 * retraining job registered (untagged, with the job's marker beside the artifact).
 */
export async function versionRecords(s: AzureSession): Promise<{ records: AzureVersionRecord[]; highest: number }> {
  const models = await s.api.listModelVersions(s.r.model);
  const tagged = models.map(recordFromModelVersion).filter((x): x is AzureVersionRecord => x !== undefined);
  // Tags hold what Azure ML studio shows; the lineage (training data, the gate's verdict) is in mlship's record beside it.
  const pushed = await Promise.all(
    tagged.map(async (x) => {
      const stored = await s.registry.readRecord(x.version);
      return { ...x, ...(stored?.data && { data: stored.data }), ...(stored?.gate && { gate: stored.gate }) };
    }),
  );
  const pending = await Promise.all(
    models.filter((m) => !recordFromModelVersion(m) && typeof m.properties.jobName === 'string').map((m) => pendingRecord(s, m, pushed)),
  );
  const records = [...pushed, ...pending.filter((x): x is AzureVersionRecord => x !== undefined)];
  // Asset versions are numbered by Azure across everything registered (by mlship or not).
  const highest = models.reduce((n, m) => Math.max(n, Number(m.name) || 0), 0);
  return { records: records.sort((a, b) => number(a) - number(b)), highest };
}

async function pendingRecord(s: AzureSession, m: ArmResource, pushed: AzureVersionRecord[]): Promise<AzureVersionRecord | undefined> {
  const modelUri = String(m.properties.modelUri ?? '');
  const key = s.store.keyOf(modelUri);
  if (key === undefined) return undefined;
  const text = await s.store.getText(`${key.replace(/\/?$/, '/')}${RETRAINED_MARKER}`);
  if (!text) return undefined;
  let marker: RetrainedMarker;
  try {
    marker = JSON.parse(text) as RetrainedMarker;
  } catch {
    return undefined;
  }
  const parent = pushed.find((x) => x.version === marker.parent);
  if (!parent || !/^[0-9a-f]{64}$/.test(String(marker.sha256))) return undefined;
  const created = (m as { systemData?: { createdAt?: string } }).systemData?.createdAt;
  const metrics = numericMetrics(marker.metrics);
  return {
    version: `v${m.name}`,
    buildId: parent.buildId,
    createdAt: created ? new Date(created).toISOString() : '',
    digest: marker.sha256,
    image: parent.image,
    modelUri,
    parent: parent.version,
    pending: true,
    job: String(m.properties.jobName),
    ...(metrics && { metrics }),
  };
}

/** Promoting a pending version: its environment version (the parent's image), then mlship's tags on the model version. */
export function promotionSteps(s: AzureSession, rec: AzureVersionRecord): Step[] {
  if (!rec.pending) return [];
  const n = String(number(rec));
  const promoted: AzureVersionRecord = { ...rec, pending: false, mlshipVersion: mlshipVersion() };
  return [
    {
      action: 'azureml:EnvironmentVersions_CreateOrUpdate',
      resource: `${s.r.environment}:${n}`,
      details: { api: `SDK ${API_VERSION.sdk}`, image: rec.image, from: rec.parent },
      run: async () => {
        if (!(await s.api.getEnvironmentVersion(s.r.environment, n))) await s.api.putEnvironmentVersion(s.r.environment, n, environmentVersionBody(promoted));
      },
    },
    {
      action: 'azureml:ModelVersions_CreateOrUpdate',
      resource: `${s.r.model}:${n}`,
      details: { api: `SDK ${API_VERSION.sdk}`, promotes: `${rec.version}, retrained from ${rec.parent} by job ${rec.job}`, sha256: rec.digest },
      run: async () => {
        await s.api.putModelVersion(s.r.model, n, modelVersionBody(promoted));
        await s.registry.writeRecord(promoted);
      },
    },
  ];
}

function number(rec: AzureVersionRecord): number {
  return Number(rec.version.slice(1));
}

// -----------------------------------------------------------------------------------------------
// the source and the job

/** The code asset of the project source as it is now: its id, and the step registering it when it is new. */
export async function sourceCode(s: AzureSession, manifest: Manifest): Promise<{ id: string; step?: Step }> {
  const files = projectSourceFiles(manifest.projectDir);
  const digest = await sourceDigest(manifest.projectDir, files);
  const version = digest.slice(0, 12);
  const id = workspaceChildId(s.r, `codes/${s.r.code}/versions/${version}`);
  if (await s.api.getCodeVersion(s.r.code, version)) return { id };
  const prefix = `${s.r.prefix}/source/${digest}`;
  return {
    id,
    step: {
      action: 'azureml:CodeVersions_CreateOrUpdate',
      resource: `${s.r.code}:${version}`,
      details: { api: `SDK ${API_VERSION.sdk}`, files: files.length, codeUri: s.store.uri(`${prefix}/`) },
      run: async () => {
        for (const f of files) await s.store.putFile(`${prefix}/${f}`, path.join(manifest.projectDir, f));
        await s.api.putCodeVersion(s.r.code, version, {
          properties: {
            codeUri: s.store.uri(`${prefix}/`),
            description: `mlship: the source of ${manifest.name} (${files.length} files, sha256 ${digest})`,
            tags: { 'mlship.sha256': digest },
            isAnonymous: false,
            isArchived: false,
          },
        });
      },
    },
  };
}

/** Submit the retraining command job on the live (or newest) version's environment, follow it, name the version it registered. */
export async function runRetrainingJob(
  s: AzureSession,
  manifest: Manifest,
  options: { live?: string; now: Date; timeoutSeconds: number; clock: Clock; reporter: Reporter },
): Promise<RetrainingRun> {
  const { records } = await versionRecords(s);
  const rec = records.find((x) => x.version === options.live) ?? resolveVersion(records, undefined, `model ${s.r.model} of workspace ${s.r.workspace}`);
  const code = await sourceCode(s, manifest);
  if (code.step) await code.step.run();
  const job = `${s.r.name}-retrain-${options.now
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}`;
  await s.api.putJob(job, retrainJobBody(s.r, manifest, rec, code.id));
  const hint = `Look at the job's logs in Azure ML studio (job ${job}), or: az ml job stream --name ${job}.`;
  const result = await pollUntil({
    what: `retraining job ${job}`,
    read: () => s.api.getJob(job),
    classify: (j) => {
      const status = String(j?.properties.status ?? 'NotStarted');
      if (status === 'Completed') return { kind: 'done', value: status };
      if (FAILED.has(status))
        return { kind: 'failed', error: new OperationError('azure_retraining_failed', `retraining job ${job} ended ${status}`, { hint }) };
      return { kind: 'pending', status };
    },
    timeoutSeconds: options.timeoutSeconds,
    onTimeout: (status, seconds) =>
      new OperationError('azure_retraining_timeout', `retraining job ${job} is still ${status} after ${seconds}s`, {
        hint: 'It keeps running in Azure ML; follow it in the studio, or wait and run `mlship status`.',
      }),
    clock: options.clock,
    reporter: options.reporter,
  });
  const after = await versionRecords(s);
  const registered = after.records.find((x) => x.job === job);
  if (!registered) {
    throw new OperationError('azure_retraining_unregistered', `retraining job ${job} completed but registered no new version of model ${s.r.model}`, {
      hint: `The job's model output must hold ${path.posix.basename(manifest.model.relativePath)} and ${RETRAINED_MARKER}: check that retraining.command writes ${manifest.model.relativePath}. ${hint}`,
    });
  }
  return { pipeline: `${s.r.workspace}/jobs`, executionId: job, status: result.value, seconds: result.seconds, version: registered.version };
}
