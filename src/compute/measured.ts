/**
 * Measured cost for selection: the calibration `mlship build` records in build.json (`cost`), and
 * the per-vCPU performance factors (`vcpu-performance.json`, data with its source) that carry a
 * figure measured on the build machine over to an instance type's vCPU; for an LLM, the throughput
 * `mlship budget` measured on a deployment (`.mlship/measured/llm-throughput.json`).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { folderFiles } from '../util/fs.js';
import type { Manifest } from '../manifest/types.js';
import type { GgufSourceType } from './estimate.js';
import type { QuantizedWeights } from './types.js';

/** What a calibration measured, as stored in build.json (`cost`); made by src/packaging/calibrate.ts. */
export interface MeasuredCost {
  method: string;
  /** Threads the model ran with (1: the figure is per vCPU). */
  threads: number;
  /** The machine it ran on (the reference of the per-vCPU factors). */
  machine: { cpu: string; cores: number; python: string };
  /** Milliseconds to load the model (wall clock). */
  loadMs: number;
  perRequest: { cpuMs: number; wallP50Ms: number; wallP95Ms: number; calls: number };
  perBatch: { size: number; cpuMs: number; cpuMsPerRecord: number; wallP50Ms: number; calls: number };
  /** When it ran (ISO 8601). */
  measuredAt: string;
}

/** One instance family's vCPU speed relative to the calibration machine's. */
export interface VcpuFactor {
  factor: number;
  cpu: string;
  source: string;
  verified: boolean;
}

interface VcpuPerformanceFile {
  reference: string;
  method: string;
  families: ({ prefix: string } & VcpuFactor)[];
}

/** The data file's type: the type query also puts the JSON in the program, so the build copies it to dist. */
export type VcpuPerformanceData = typeof import('./vcpu-performance.json');

const require = createRequire(import.meta.url);
let perf: VcpuPerformanceFile | undefined;

/** The per-vCPU factor of an instance type (the longest matching family prefix; 1.0 when none matches). */
export function vcpuFactor(instanceType: string): VcpuFactor {
  perf ??= require('./vcpu-performance.json') as VcpuPerformanceFile;
  let best: ({ prefix: string } & VcpuFactor) | undefined;
  for (const f of perf.families) if (instanceType.startsWith(f.prefix) && (!best || f.prefix.length > best.prefix.length)) best = f;
  if (best) return { factor: best.factor, cpu: best.cpu, source: best.source, verified: best.verified };
  return { factor: 1, cpu: 'unknown', source: 'no factor for this instance type: taken as the calibration machine’s speed', verified: false };
}

/** The CPU time a request measured on the calibration machine takes on one vCPU of an instance type. */
export function scaledCpuMs(measuredMs: number, instanceType: string): number {
  return measuredMs / vcpuFactor(instanceType).factor;
}

/**
 * The calibration of the newest build of the manifest's current model: a build of the same model path
 * and flavor, with the artifact's current size, made after the artifact last changed. Matching on
 * size and time (not the digest) keeps `deploy --plan` from hashing a large model on every run.
 */
export function buildCostFor(manifest: Manifest): MeasuredCost | undefined {
  const artifact = artifactStamp(manifest.model.path);
  if (!artifact) return undefined;
  const root = path.join(manifest.projectDir, '.mlship', 'build');
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return undefined;
  }
  let best: { at: number; cost: MeasuredCost } | undefined;
  for (const id of entries) {
    if (id.startsWith('.')) continue;
    let info: BuildJson;
    try {
      info = JSON.parse(readFileSync(path.join(root, id, 'build.json'), 'utf8')) as BuildJson;
    } catch {
      continue;
    }
    const cost = info.cost;
    if (!cost || 'skipped' in cost) continue;
    const at = Date.parse(info.createdAt);
    const sameModel =
      info.manifest?.model?.path === manifest.model.relativePath && info.model?.flavor === manifest.model.flavor && info.model.bytes === artifact.bytes;
    if (sameModel && at >= artifact.mtimeMs && (!best || at > best.at)) best = { at, cost };
  }
  return best?.cost;
}

/**
 * The quantization the newest build of the manifest's current source model serves (a measured
 * quantization, build.json `quantization`): the same matching as `buildCostFor` on the source
 * (`quantization.source`), since the build's model is the quantized file.
 */
export function buildQuantizationFor(manifest: Manifest): QuantizedWeights | undefined {
  const artifact = artifactStamp(manifest.model.path);
  if (!artifact) return undefined;
  let best: { at: number; q: QuantizedWeights } | undefined;
  for (const info of builds(manifest)) {
    const q = info.quantization;
    if (!q || info.manifest?.model?.path !== manifest.model.relativePath || q.source.bytes !== artifact.bytes) continue;
    const at = Date.parse(info.createdAt);
    if (at >= artifact.mtimeMs && (!best || at > best.at))
      best = {
        at,
        q: {
          source: { type: q.source.type, bytes: q.source.bytes },
          type: q.chosen,
          bytes: info.model?.bytes ?? q.source.bytes,
          reason: `${q.reason} (measured by build ${info.id})`,
        },
      };
  }
  return best?.q;
}

/** The build.json of every finished build of the project (unreadable ones left out). */
function builds(manifest: Manifest): BuildJson[] {
  const root = path.join(manifest.projectDir, '.mlship', 'build');
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const out: BuildJson[] = [];
  for (const id of entries) {
    if (id.startsWith('.')) continue;
    try {
      out.push(JSON.parse(readFileSync(path.join(root, id, 'build.json'), 'utf8')) as BuildJson);
    } catch {
      // not a finished build
    }
  }
  return out;
}

/**
 * What `mlship budget` measured of an LLM deployment: the completion tokens per second one replica
 * carries with `concurrency` streams at once (the load its token budgets were measured at).
 */
export interface MeasuredThroughput {
  method: string;
  /** Where it ran: the target and the instance type the selection gave the deployment. */
  target: string;
  instanceType: string;
  /** Streams at once (`budget.concurrency`). */
  concurrency: number;
  /** Completion tokens per second of one replica (the endpoint's ÷ its replicas). */
  tokensPerSecond: number;
  /** Mean completion tokens per request in the test (`budget.request`). */
  tokensPerRequest: number;
  /** Replicas behind the measured endpoint. */
  replicas: number;
  /** The model measured: its path as written and its size (a changed artifact voids the record). */
  model: { path: string; bytes: number };
  /** When it ran (ISO 8601). */
  measuredAt: string;
}

/** Where measured LLM throughput is kept, in the project. */
export function throughputFile(manifest: Manifest): string {
  return path.join(manifest.projectDir, '.mlship', 'measured', 'llm-throughput.json');
}

/**
 * Keep a measurement: it replaces the one of the same target and instance type (the newest run is
 * what the deployment does now). Returns the record as stored.
 */
export function recordThroughput(manifest: Manifest, measured: Omit<MeasuredThroughput, 'model'>): MeasuredThroughput {
  const artifact = artifactStamp(manifest.model.path);
  const record: MeasuredThroughput = { ...measured, model: { path: manifest.model.relativePath, bytes: artifact?.bytes ?? 0 } };
  const kept = readThroughput(manifest).filter((r) => r.target !== record.target || r.instanceType !== record.instanceType);
  const file = throughputFile(manifest);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ records: [...kept, record] }, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return record;
}

/**
 * The throughput measured for the manifest's current model on its target: records of the same model
 * path with the artifact's current size, measured after the artifact last changed (as `buildCostFor`).
 */
export function throughputFor(manifest: Manifest): MeasuredThroughput[] {
  const artifact = artifactStamp(manifest.model.path);
  if (!artifact) return [];
  return readThroughput(manifest).filter(
    (r) =>
      r.target === manifest.target &&
      r.model.path === manifest.model.relativePath &&
      r.model.bytes === artifact.bytes &&
      Date.parse(r.measuredAt) >= artifact.mtimeMs,
  );
}

function readThroughput(manifest: Manifest): MeasuredThroughput[] {
  try {
    const data = JSON.parse(readFileSync(throughputFile(manifest), 'utf8')) as { records?: MeasuredThroughput[] };
    return Array.isArray(data.records) ? data.records : [];
  } catch {
    return [];
  }
}

/** The parts of build.json read here (src/packaging owns the full type). */
interface BuildJson {
  id: string;
  createdAt: string;
  manifest?: { model?: { path?: string } };
  model?: { flavor: string; bytes: number };
  cost?: MeasuredCost | { skipped: string };
  quantization?: { source: { type: GgufSourceType; bytes: number }; chosen: string; reason: string };
}

/** Size and last change of a model file, or of a model folder (all its files). */
function artifactStamp(file: string): { bytes: number; mtimeMs: number } | undefined {
  try {
    const st = statSync(file);
    if (!st.isDirectory()) return { bytes: st.size, mtimeMs: st.mtimeMs };
    const stats = folderFiles(file).map((rel) => statSync(path.join(file, rel)));
    return { bytes: stats.reduce((sum, s) => sum + s.size, 0), mtimeMs: Math.max(0, ...stats.map((s) => s.mtimeMs)) };
  } catch {
    return undefined;
  }
}
