/**
 * docs/manifest.md is generated from the JSON Schema (scripts/manifest-docs.mjs, `npm run docs`):
 * the committed page must be exactly what the schema renders, and every property of the schema must
 * say what it means. The schema's defaults must be the ones the loader and the targets apply.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_FILE, renderManifestDocs } from '../../scripts/manifest-docs.mjs';
import { DEFAULTS, resolveManifest } from '../../src/manifest/resolve.js';
import { manifestSchema } from '../../src/manifest/schema.js';
import { allDescriptors } from '../../src/targets/descriptors.js';
import { settingsDefaults } from '../../src/manifest/targets.js';

type Node = Record<string, unknown> & { properties?: Record<string, Node>; oneOf?: Node[]; additionalProperties?: unknown };
const schema = JSON.parse(JSON.stringify(manifestSchema())) as Node;

/** Every property of the schema, with its dotted path. */
function properties(node: Node, at: string, out: [string, Node][] = []): [string, Node][] {
  const object = node.oneOf?.find((b) => b.type === 'object') ?? node;
  for (const [k, child] of Object.entries(object.properties ?? {})) {
    const p = at ? `${at}.${k}` : k;
    out.push([p, child]);
    if (!child['x-expected']) properties(child, p, out);
  }
  const extra = object.additionalProperties as Node | undefined;
  if (extra && typeof extra === 'object' && extra.properties) properties(extra, `${at}.<${String(object['x-key'] ?? 'key')}>`, out);
  return out;
}

describe('docs/manifest.md', () => {
  it('is what `npm run docs` renders from the schema (run `npm run docs` after changing the schema)', () => {
    expect(readFileSync(PAGE_FILE, 'utf8')).toBe(renderManifestDocs(schema));
  });

  it('is rendered from the schema: a field added to the schema appears on the page', () => {
    const changed = JSON.parse(JSON.stringify(schema)) as Node;
    (changed.properties!.serving!.properties as Record<string, Node>).new_knob = { type: 'integer', default: 7, description: 'a knob' };
    expect(renderManifestDocs(changed)).toContain('| `serving.new_knob` | integer | `7` | a knob |');
  });

  it('every property says what it means (a description), except the p50/p95/p99 keys worded by their parent', () => {
    const missing = properties(schema, '')
      .filter(([, s]) => typeof s.description !== 'string' || s.description.length === 0)
      .map(([p]) => p);
    expect(missing).toEqual([]);
  });

  it("the schema's defaults are the loader's: a minimal manifest resolves to them", () => {
    const m = resolveManifest(
      { name: 'demo', model: { path: 'model.joblib', flavor: 'sklearn' }, features: { package: 'features', schema: { x: { type: 'number' } } } },
      path.join('/tmp', 'mlship.yaml'),
    );
    const byPath = new Map(properties(schema, ''));
    const dflt = (p: string) => byPath.get(p)?.default;
    expect(dflt('target')).toBe(m.target);
    expect(dflt('features.tolerance')).toBe(m.features.tolerance);
    expect(dflt('targets.local.port')).toBe(m.targets.local.port);
    expect(dflt('serving.compute')).toBe(m.serving.compute);
    expect(dflt('serving.expected_rps')).toBe(m.serving.expected_rps);
    expect(dflt('serving.replicas.min')).toBe(m.serving.replicas.min);
    expect((dflt('serving.max_body_kb') as number) * 1024).toBe(m.serving.max_body_bytes);
    expect(dflt('serving.max_batch')).toBe(m.serving.max_batch);
    expect(dflt('serving.batching')).toEqual(m.serving.batching);
    expect(dflt('budget.latency_ms')).toEqual({ [m.budget.latency_ms.percentile]: m.budget.latency_ms.value });
    expect(dflt('monitoring.drift.schedule')).toBe(m.monitoring.drift.schedule);
    expect(dflt('monitoring.drift.share')).toBe(m.monitoring.drift.share);
    expect(dflt('monitoring.drift.method')).toBe(m.monitoring.drift.method);
    expect(dflt('retraining.command')).toBe(m.retraining.command);
    expect(dflt('retraining.on_drift')).toBe(m.retraining.on_drift);
    expect(dflt('retraining.gate.metric')).toBe(m.retraining.gate.metric);
    expect(dflt('retraining.gate.min_delta')).toBe(m.retraining.gate.min_delta);
    expect(dflt('retraining.auto_deploy')).toBe(m.retraining.auto_deploy);
    expect(dflt('quality.max_drop')).toBe(m.quality.max_drop);
    expect(dflt('quality.min_labels')).toBe(m.quality.min_labels);
    expect(dflt('model.max_tokens')).toBe(DEFAULTS.maxTokens);
  });

  it("each target's block is its descriptor's settings, and the loader applies their defaults", () => {
    const byPath = new Map(properties(schema, ''));
    for (const d of allDescriptors()) {
      expect(byPath.get(`targets.${d.name}`)?.description, d.name).toBe(d.settings.description);
      for (const key of Object.keys(d.settings.properties)) expect(byPath.get(`targets.${d.name}.${key}`), `targets.${d.name}.${key}`).toBeDefined();
      const m = resolveManifest(
        { name: 'demo', model: { path: 'model.joblib', flavor: 'sklearn' }, target: d.name, targets: { [d.name]: {} } },
        path.join('/tmp', 'mlship.yaml'),
      );
      expect(m.targets[d.name], d.name).toEqual(settingsDefaults(d));
    }
    expect(schema.properties!.target!.enum).toEqual(allDescriptors().map((d) => d.name));
  });
});
