/**
 * The Vertex AI protos the fake serves, loaded from the `.proto` files that ship in
 * `@google-cloud/aiplatform` (build/protos) with their imports from `google-gax` (build/protos): the
 * same definitions the real client encodes with, so a wrong field type fails on the wire. On top of
 * what the protos say, this module reads their annotations for the checks the client skips: REQUIRED
 * fields (`google.api.field_behavior`), the routing header and resource pattern of each method
 * (`google.api.http`) and the response/metadata types of long-running operations
 * (`google.longrunning.operation_info`). Provenance: ../../../../shared/contracts/vertex/README.md,
 * copied as CONTRACT.md beside this file.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protoLoader from '@grpc/proto-loader';
import gax from 'google-gax';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
const AIP = path.dirname(require.resolve('@google-cloud/aiplatform/package.json'));
// google-gax's exports map hides package.json: find its root from its main file.
const GAX = path.resolve(path.dirname(require.resolve('google-gax')), '../..');
const includeDirs = [path.join(AIP, 'build/protos'), path.join(GAX, 'build/protos')];

export const V1 = 'google.cloud.aiplatform.v1';
export const SERVICES = ['EndpointService', 'ModelService', 'JobService', 'PipelineService', 'ScheduleService'] as const;
export type ServiceName = (typeof SERVICES)[number] | 'Operations';
const FILES = ['endpoint_service', 'model_service', 'job_service', 'pipeline_service', 'schedule_service']
  .map((s) => `google/cloud/aiplatform/v1/${s}.proto`)
  .concat('google/longrunning/operations.proto');

/** gax's own grpc-js: credentials are checked with instanceof, so client and fake must share it. */
export const grpc = gax.grpc;

/** What one RPC needs to know about itself. */
export interface MethodInfo {
  service: ServiceName;
  name: string;
  requestType: protobuf.Type;
  /** `endpoint=projects/*\/locations/*\/endpoints/*` from the HTTP rule: routing field and its pattern. */
  route?: { field: string; pattern: RegExp };
  /** Long-running: the response and metadata types to pack into the operation. */
  lro?: { response: string; metadata: string };
}

export interface Protos {
  root: protobuf.Root;
  /** grpc-js service definitions by service name. */
  definitions: Record<ServiceName, import('@grpc/grpc-js').ServiceDefinition>;
  methods: Record<ServiceName, Record<string, MethodInfo>>;
}

let cached: Protos | undefined;

/** Load the protos once per process (about a second). */
export function loadProtos(): Protos {
  if (cached) return cached;
  const pkg = grpc.loadPackageDefinition(
    protoLoader.loadSync(FILES, { includeDirs, keepCase: false, longs: String, enums: String, defaults: false, oneofs: true }),
  ) as any;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => includeDirs.map((d) => path.join(d, target)).find((p) => existsSync(p)) ?? target;
  root.loadSync(FILES, { keepCase: false });
  const definitions = {} as Protos['definitions'];
  const methods = {} as Protos['methods'];
  const all: [ServiceName, string][] = [...SERVICES.map((s) => [s, `${V1}.${s}`] as [ServiceName, string]), ['Operations', 'google.longrunning.Operations']];
  for (const [name, full] of all) {
    definitions[name] = full.split('.').reduce((o, k) => o[k], pkg).service;
    const service = root.lookupService(full);
    methods[name] = {};
    for (const m of service.methodsArray) {
      m.resolve();
      const info: MethodInfo = { service: name, name: m.name, requestType: m.resolvedRequestType! };
      const opts = m.options ?? {};
      const rule = ['get', 'post', 'patch', 'delete', 'put'].map((v) => opts[`(google.api.http).${v}`] as string | undefined).find(Boolean);
      const route = rule ? /\{([a-z_.]+)=([^}]+)\}/.exec(rule) : null;
      if (route) {
        const pattern = new RegExp(`^${route[2]!.replace(/\*\*/g, '.+').replace(/\*/g, '[^/]+')}$`);
        info.route = { field: route[1]!, pattern };
      }
      const response = opts['(google.longrunning.operation_info).response_type'] as string | undefined;
      if (response) {
        const qualify = (t: string) => (t.includes('.') ? t : `${V1}.${t}`);
        info.lro = { response: qualify(response), metadata: qualify(opts['(google.longrunning.operation_info).metadata_type'] as string) };
      }
      methods[name][lowerFirst(m.name)] = info;
    }
  }
  cached = { root, definitions, methods };
  return cached;
}

function lowerFirst(s: string): string {
  return s[0]!.toLowerCase() + s.slice(1);
}

/** snake_case → camelCase, as proto-loader names fields with keepCase: false. */
export function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** A message as a `google.protobuf.Any`: encoded with its real type, so the client decodes it. */
export function pack(type: string, object: Record<string, unknown>): { type_url: string; value: Uint8Array } {
  const T = loadProtos().root.lookupType(type);
  const message = T.fromObject(object);
  const problem = T.verify(message);
  if (problem) throw new Error(`fake bug: ${type} does not verify: ${problem}`);
  return { type_url: `type.googleapis.com/${type}`, value: T.encode(message).finish() };
}

function behaviours(field: protobuf.Field): string[] {
  const options = (field.parsedOptions ?? []) as Record<string, unknown>[];
  return options.map((o) => o['(google.api.field_behavior)']).filter((b): b is string => typeof b === 'string');
}

/**
 * Every REQUIRED field missing from a decoded request, as dotted paths, walking into set messages,
 * repeated messages and map values. A proto3 scalar at its default counts as missing (the wire cannot
 * tell them apart, and Vertex rejects both).
 */
export function missingRequired(type: protobuf.Type, object: Record<string, any>, prefix = ''): string[] {
  const missing: string[] = [];
  for (const field of type.fieldsArray) {
    const value = object[field.name];
    const at = `${prefix}${field.name}`;
    const absent = value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
    if (absent) {
      if (behaviours(field).includes('REQUIRED')) missing.push(at);
      continue;
    }
    field.resolve();
    if (!(field.resolvedType instanceof protobuf.Type) || field.resolvedType.fullName.startsWith('.google.protobuf.')) continue;
    const inner = field.resolvedType;
    if (field.map) for (const [k, v] of Object.entries(value as Record<string, any>)) missing.push(...missingRequired(inner, v, `${at}.${k}.`));
    else if (Array.isArray(value)) value.forEach((v, i) => missing.push(...missingRequired(inner, v, `${at}[${i}].`)));
    else missing.push(...missingRequired(inner, value, `${at}.`));
  }
  return missing;
}
