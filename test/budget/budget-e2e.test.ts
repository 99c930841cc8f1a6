/**
 * End to end on the example deployed on the local target: build, push, deploy, then `mlship budget`
 * finds the live URL through `status()` and judges it. The copy's features package sleeps when
 * MLSHIP_TEST_SLOW_FEATURES_MS is set in the deployed app's environment: that slowed stage must flip
 * the verdict to over budget (exit 3) and be named.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { freePort } from '../../src/targets/local/processes.js';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cachedBuild } from '../helpers/build-cache.js';
import { copyExample, json, python, runCli } from '../helpers/cli.js';

const SLOW_ENV = 'MLSHIP_TEST_SLOW_FEATURES_MS';
const env = { MLSHIP_PYTHON: python };

let project: { dir: string; cleanup: () => void };

beforeAll(async () => {
  project = copyExample();
  const init = path.join(project.dir, 'features', '__init__.py');
  const source = readFileSync(init, 'utf8');
  const hook = `    import os as _os, time as _time\n    if _os.environ.get("${SLOW_ENV}"):\n        _time.sleep(float(_os.environ["${SLOW_ENV}"]) / 1000)\n`;
  const patched = source.replace(/(def transform\([^)]*\)[^:]*:\n(?:\s+"""[^\n]*"""\n)?)/, `$1${hook}`);
  expect(patched).not.toBe(source);
  writeFileSync(init, patched);
  // The example's allocations scaled ×10: the test machine is shared and its timings are noisy; the
  // slowed stage still exceeds its allocation many times over.
  const manifestFile = path.join(project.dir, 'mlship.yaml');
  const manifest = readFileSync(manifestFile, 'utf8')
    .replace('latency_ms: { p95: 150 }', 'latency_ms: { p95: 1500 }')
    .replace(/stages_ms: \{[^}]*\}/, 'stages_ms: { network: 20, validate: 50, features: 150, model: 400, post: 50, log: 50 }');
  expect(manifest).toContain('features: 150');
  writeFileSync(manifestFile, manifest);
  const build = await cachedBuild(project.dir, () => runCli(['build', '--no-image'], { cwd: project.dir, env, timeoutMs: 150_000 }));
  expect(build.code, build.stderr).toBe(0);
  const push = await runCli(['push'], { cwd: project.dir, env });
  expect(push.code, push.stderr).toBe(0);
}, 180_000);

afterEach(async () => {
  await runCli(['stop'], { cwd: project.dir, env });
});

afterAll(() => project.cleanup());

async function deploy(extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
  const r = await runCli(['deploy', '--port', String(await freePort())], { cwd: project.dir, env: { ...env, ...extraEnv } });
  expect(r.code, r.stderr).toBe(0);
}

interface Doc {
  url: string;
  verdict: string;
  reasons: string[];
  latency: {
    stages: { name: string; kind: string; status: string; allocatedMs: number; measured: { p50: number; p95: number; p99: number } | null }[];
    client: { p50: number; p95: number; p99: number };
    endToEndMs: number;
    overStages: string[];
  };
  compute: { instanceType: string };
}

describe('mlship budget on the deployed example', () => {
  it('measures every server stage of the live deployment, keeps declared ones, and holds the budget', async () => {
    await deploy();
    const r = await runCli(['budget', '--duration', '2', '--rps', '20', '--json'], { cwd: project.dir, env });
    expect(r.code, r.stderr).toBe(0);
    const doc = json<Doc>(r);
    expect(doc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/predict$/);
    expect(doc.verdict).toBe('within');
    // The manifest's stages in its order, then the ones the app measures beyond them (the batching queue).
    expect(doc.latency.stages.map((s) => s.name)).toEqual(['network', 'validate', 'features', 'model', 'post', 'log', 'queue']);
    for (const s of doc.latency.stages.slice(1)) {
      expect(s.kind, s.name).toBe('server');
      expect(s.measured!.p50, s.name).toBeGreaterThanOrEqual(0);
      expect(s.measured!.p99, s.name).toBeGreaterThanOrEqual(s.measured!.p50);
    }
    expect(doc.latency.stages[0]).toMatchObject({ kind: 'declared', status: 'declared', allocatedMs: 20, measured: null });
    expect(doc.latency.client.p95).toBeGreaterThan(0);
    expect(doc.latency.endToEndMs).toBeGreaterThan(20);
    expect(doc.compute.instanceType).toBe('local');
  });

  it('flips to over budget with exit 3 and names a slowed features stage', async () => {
    await deploy({ [SLOW_ENV]: '400' });
    const r = await runCli(['budget', '--duration', '2', '--rps', '2', '--json'], { cwd: project.dir, env });
    expect(r.code, r.stderr).toBe(3);
    const doc = json<Doc>(r);
    expect(doc.verdict).toBe('over');
    expect(doc.latency.overStages).toContain('features');
    expect(doc.latency.stages.find((s) => s.name === 'features')!.measured!.p50).toBeGreaterThanOrEqual(400);
    expect(doc.reasons.join('\n')).toContain('features');
  });

  it('says so when nothing is live', async () => {
    const r = await runCli(['budget', '--duration', '1', '--json'], { cwd: project.dir, env });
    expect(r.code).toBe(1);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('nothing_live');
  });
});
