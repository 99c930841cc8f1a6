/**
 * Request validation against the published Azure ML REST contract (`2026-07-01.json` beside this
 * file: an extract of Azure/azure-rest-api-specs, MIT; provenance in `README.md` here). Every body
 * and query the ARM fake receives goes through `validateRequest`; what the real service would refuse
 * comes back as a list of problems, which the fake answers with 400 and records as a violation.
 *
 * Swagger 2.0 polymorphism: a base carries `discriminator: "<prop>"` and each subtype `allOf: [base]`
 * plus `x-ms-discriminator-value`. Ajv does not read that form, so each base becomes
 * `Base` = `Base__core` (its own fields) + one `if {prop: value} then Subtype` per value, and a value
 * with no subtype in the spec is refused, and subtypes point at `Base__core` (no loop).
 * `x-nullable: true` becomes "or null".
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Spec {
  apiVersion: string;
  polymorphism: Record<string, { discriminator: string; subtypes: Record<string, string>; valuesWithoutSubtypeHere?: string[] }>;
  paths: Record<string, Record<string, Operation>>;
  definitions: Record<string, Record<string, unknown>>;
}

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'body' | 'header';
  required?: boolean;
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  schema?: { $ref: string };
}

export interface Operation {
  operationId: string;
  parameters: Parameter[];
  responses: Record<string, unknown>;
  'x-ms-long-running-operation'?: boolean;
  'x-ms-long-running-operation-options'?: { 'final-state-via': string };
}

export const spec = JSON.parse(readFileSync(path.join(here, '2026-07-01.json'), 'utf8')) as Spec;

/** Deep copy of a schema with `x-nullable` turned into "or null" and base refs of subtypes re-pointed. */
function rewrite(node: unknown, subtypeOf?: string): unknown {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, subtypeOf));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'discriminator' || k === 'description') continue;
    if (k === 'allOf' && subtypeOf) {
      out.allOf = (v as { $ref?: string }[]).map((e) => (e.$ref === `#/definitions/${subtypeOf}` ? { $ref: `#/definitions/${subtypeOf}__core` } : rewrite(e)));
      continue;
    }
    out[k] = rewrite(v);
  }
  if (out['x-nullable'] === true) {
    delete out['x-nullable'];
    return { anyOf: [{ type: 'null' }, out] };
  }
  return out;
}

function compileDefinitions(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const baseOfSubtype = new Map<string, string>();
  for (const [base, p] of Object.entries(spec.polymorphism)) for (const sub of Object.values(p.subtypes)) baseOfSubtype.set(sub, base);
  for (const [name, schema] of Object.entries(spec.definitions)) defs[name] = rewrite(schema, baseOfSubtype.get(name));
  for (const [base, p] of Object.entries(spec.polymorphism)) {
    defs[`${base}__core`] = defs[base];
    const known = [...Object.keys(p.subtypes), ...(p.valuesWithoutSubtypeHere ?? [])];
    defs[base] = {
      allOf: [
        { $ref: `#/definitions/${base}__core` },
        { required: [p.discriminator], properties: { [p.discriminator]: { enum: known } } },
        ...Object.entries(p.subtypes).map(([value, sub]) => ({
          if: { properties: { [p.discriminator]: { const: value } }, required: [p.discriminator] },
          then: { $ref: `#/definitions/${sub}` },
        })),
      ],
    };
  }
  return defs;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
const ISO_DURATION = /^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$/;
ajv.addFormat('duration', ISO_DURATION);
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/);
ajv.addFormat('uuid', /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);
ajv.addFormat('uri', /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/);
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
for (const f of ['int64', 'double', 'float', 'password', 'arm-id', 'byte', 'unixtime']) ajv.addFormat(f, true);
ajv.addSchema({ $id: 'azure-ml', definitions: compileDefinitions() });

const validators = new Map<string, ValidateFunction>();
function validatorFor(ref: string): ValidateFunction {
  let v = validators.get(ref);
  if (!v) {
    v = ajv.compile({ $ref: `azure-ml${ref}` });
    validators.set(ref, v);
  }
  return v;
}

/** The operation a method and ARM path (after the host, without query) map to, with its path values. */
export function matchOperation(method: string, pathname: string): { template: string; op: Operation; params: Record<string, string> } | undefined {
  const segs = pathname.split('/').filter(Boolean);
  for (const [template, ops] of Object.entries(spec.paths)) {
    const op = ops[method.toLowerCase()];
    if (!op) continue;
    const t = template.split('/').filter(Boolean);
    if (t.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < t.length && ok; i++) {
      const m = /^\{(.+)\}$/.exec(t[i]!);
      if (m) params[m[1]!] = decodeURIComponent(segs[i]!);
      else ok = t[i]!.toLowerCase() === segs[i]!.toLowerCase();
    }
    if (ok) return { template, op, params };
  }
  return undefined;
}

/** Ajv's echoes of one problem: the failed `if`, the `anyOf` of a nullable and its "must be null" branch. */
function noise(e: { keyword: string; params: Record<string, unknown> }): boolean {
  return e.keyword === 'if' || e.keyword === 'anyOf' || (e.keyword === 'type' && e.params.type === 'null');
}

/** Every way a request breaks the contract (empty: valid). */
export function validateRequest(op: Operation, params: Record<string, string>, query: URLSearchParams, body: unknown): string[] {
  const problems: string[] = [];
  for (const p of op.parameters) {
    const value = p.in === 'query' ? (query.get(p.name) ?? undefined) : p.in === 'path' ? params[p.name] : undefined;
    if (p.in === 'body') {
      if (body === undefined) {
        if (p.required) problems.push(`body: required (${p.schema?.$ref})`);
        continue;
      }
      const v = validatorFor(p.schema!.$ref);
      if (!v(body))
        for (const e of v.errors ?? [])
          if (!noise(e))
            problems.push(
              `body${e.instancePath}: ${e.message}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`,
            );
      continue;
    }
    if (p.in !== 'query' && p.in !== 'path') continue;
    if (value === undefined) {
      if (p.required) problems.push(`${p.in} parameter ${p.name}: required`);
      continue;
    }
    if (p.pattern && !new RegExp(p.pattern).test(value)) problems.push(`${p.in} parameter ${p.name}: ${value} does not match ${p.pattern}`);
    if (p.minLength !== undefined && value.length < p.minLength) problems.push(`${p.in} parameter ${p.name}: shorter than ${p.minLength}`);
    if (p.maxLength !== undefined && value.length > p.maxLength) problems.push(`${p.in} parameter ${p.name}: longer than ${p.maxLength}`);
    if (p.enum && !p.enum.includes(value)) problems.push(`${p.in} parameter ${p.name}: ${value} is not one of ${p.enum.join(', ')}`);
    if (p.type === 'integer' && !/^-?\d+$/.test(value)) problems.push(`${p.in} parameter ${p.name}: ${value} is not an integer`);
    if (p.type === 'boolean' && !/^(true|false)$/.test(value)) problems.push(`${p.in} parameter ${p.name}: ${value} is not a boolean`);
  }
  const known = new Set(op.parameters.filter((p) => p.in === 'query').map((p) => p.name));
  for (const name of query.keys()) if (!known.has(name)) problems.push(`query parameter ${name}: not in the contract of ${op.operationId}`);
  return problems;
}
