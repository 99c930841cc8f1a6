/**
 * Instance catalogs: one JSON data file per target under `catalogs/`, each with the date and source of
 * its prices. They are read synchronously (the manifest loader checks `serving.compute` against them)
 * and cached; `require` of JSON is cheap and needs no JSON-module flag on any Node 20.
 */
import { createRequire } from 'node:module';
import { suggest } from '../util/suggest.js';

/** A catalog's name: the file `catalogs/<name>.json` (each target's descriptor names its catalog). */
export type CatalogName = string;

/** A GPU fitted to an instance (per GPU, times `count`). */
export interface GpuSpec {
  model: string;
  count: number;
  /** Memory of one GPU in GB; null when unknown (the local machine). */
  memoryGb: number | null;
  /** Dense FP16 tensor TFLOPS of one GPU, approximate; only used to compare GPUs with each other. */
  fp16Tflops: number | null;
}

/** Where a price came from and when; `verified` = cross-checked against a dated public page. */
export interface PriceSource {
  asOf: string;
  source: string;
  verified: boolean;
}

/** One instance type of a catalog: its size, GPUs and on-demand price. */
export interface InstanceType {
  /** The name users write in `serving.compute` (for Vertex `machine+accelerator`). */
  type: string;
  vcpu: number;
  /** Host memory in GB; null when unknown (the local machine). */
  memoryGb: number | null;
  gpu: GpuSpec | null;
  /** On-demand price per instance-hour. */
  usdPerHour: number;
  price: PriceSource;
  /** Vertex: the machine spec a deploy request uses. */
  vertex?: { machineType: string; acceleratorType?: string; acceleratorCount?: number };
}

/** One target's catalog (`catalogs/<target>.json`). */
export interface Catalog {
  target: CatalogName;
  region: string;
  currency: 'USD';
  /** `by-load`: replicas sized from the expected rate; `fixed`: the manifest's replicas as written (local). */
  sizing: 'by-load' | 'fixed';
  /** Most replicas the target runs (the local target: one serving process). */
  maxReplicas?: number;
  /** What the prices are (on-demand inference instance-hours, VM hours…). */
  pricing: string;
  source: string;
  asOf: string;
  note: string;
  instances: InstanceType[];
}

// Type queries on the data files: they make tsc check each file against `Catalog`'s shape at compile
// time, and they put the JSON in the program so the build copies it to dist next to this module.
type Assert<T extends { target: string; asOf: string; source: string; instances: { type: string; vcpu: number; usdPerHour: number; price: PriceSource }[] }> =
  T;
/** The data files, each checked against the catalog shape (see above). */
export type CatalogFiles = [
  Assert<typeof import('./catalogs/local.json')>,
  Assert<typeof import('./catalogs/sagemaker.json')>,
  Assert<typeof import('./catalogs/vertex.json')>,
  Assert<typeof import('./catalogs/azure.json')>,
];

const require = createRequire(import.meta.url);
const cache = new Map<CatalogName, Catalog>();

/** The catalog of a target (cached). */
export function loadCatalog(target: CatalogName): Catalog {
  let catalog = cache.get(target);
  if (!catalog) {
    if (!/^[a-z][a-z0-9-]*$/.test(target)) throw new Error(`no instance catalog named "${target}"`);
    catalog = require(`./catalogs/${target}.json`) as Catalog;
    cache.set(target, catalog);
  }
  return catalog;
}

/** An instance type by exact name (case-insensitive, as the clouds treat them), or undefined. */
export function findInstance(catalog: Catalog, type: string): InstanceType | undefined {
  const lower = type.toLowerCase();
  return catalog.instances.find((i) => i.type.toLowerCase() === lower);
}

/** Total GPU memory of an instance in GB (0 without GPU; null when unknown). */
export function gpuMemoryGb(instance: InstanceType): number | null {
  if (!instance.gpu) return 0;
  return instance.gpu.memoryGb === null ? null : instance.gpu.memoryGb * instance.gpu.count;
}

/** `ml.g5.xlarge (4 vCPU, 16 GB, 1× A10G 24 GB, $1.408/h)` */
export function describeInstance(instance: InstanceType): string {
  const parts = [`${instance.vcpu} vCPU`];
  if (instance.memoryGb !== null) parts.push(`${instance.memoryGb} GB`);
  if (instance.gpu) parts.push(`${instance.gpu.count}× ${instance.gpu.model}${instance.gpu.memoryGb === null ? '' : ` ${instance.gpu.memoryGb} GB`}`);
  parts.push(`$${instance.usdPerHour}/h`);
  return `${instance.type} (${parts.join(', ')})`;
}

/** `did you mean "ml.m5.large"?`, or the words and the types to choose from. */
export function instanceHint(type: string, catalog: Catalog): string {
  const names = catalog.instances.map((i) => i.type);
  const near = suggest(type, names);
  return near ? `did you mean "${near}"?` : `use auto, cpu, gpu or one of: ${names.join(', ')}`;
}
