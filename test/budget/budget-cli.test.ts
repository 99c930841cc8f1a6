/** `mlship budget --url` as a user runs it, against a tiny server that reports Server-Timing. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, json, runCli } from '../helpers/cli.js';
import { startTimingServer, type TimingServer } from './timing-server.js';

let project: { dir: string; cleanup: () => void };
let server: TimingServer | undefined;
beforeAll(() => {
  project = copyExample();
  // A generous end-to-end target: this test is about the stages the server reports, and a busy shared
  // machine must not stall the client total past the example's 150 ms.
  const file = path.join(project.dir, 'mlship.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('latency_ms: { p95: 150 }', 'latency_ms: { p95: 5000 }'));
});
afterAll(() => project.cleanup());
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Doc {
  verdict: string;
  reasons: string[];
  latency: {
    stages: { name: string; kind: string; status: string; measured: { p50: number; p95: number; p99: number } | null }[];
    client: { p95: number };
    remainder: unknown;
  };
  load: { responses: number; generator: { cpuPercent: number } };
  cost: { selected: { instanceType: string }; monthlyBudgetUsd: number };
  cloudReference: { selected: { instanceType: string; monthlyUsd: { expected: number } } };
  compute: { instanceType: string; reasons: string[] };
}

describe('mlship budget --url', () => {
  it('reports every declared stage with measured percentiles, the client total and a verdict', async () => {
    server = await startTimingServer();
    const r = await runCli(['budget', '--url', server.url, '--duration', '1', '--json'], { cwd: project.dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = json<Doc>(r);
    expect(doc.verdict).toBe('within');
    const names = doc.latency.stages.map((s) => s.name);
    expect(names).toEqual(['network', 'validate', 'features', 'model', 'post', 'log']);
    for (const s of doc.latency.stages.filter((x) => x.name !== 'network')) {
      expect(s.kind).toBe('server');
      expect(s.measured?.p95).toBeGreaterThan(0);
    }
    expect(doc.latency.stages[0]).toMatchObject({ name: 'network', kind: 'declared', measured: null });
    expect(doc.latency.client.p95).toBeGreaterThan(0);
    expect(doc.latency.remainder).not.toBeNull();
    expect(doc.load.responses).toBeGreaterThan(10);
    expect(doc.cost.selected.instanceType).toBe('local');
    expect(doc.cloudReference.selected.instanceType).toMatch(/^ml\./);
    expect(doc.compute.reasons.length).toBeGreaterThan(1);
  });

  it('exits 3 naming a slowed stage, prints a waterfall and writes an HTML report', async () => {
    server = await startTimingServer({ stages: { validate: 0.1, features: 30, model: 0.5, post: 0.1, log: 0.1 } });
    const report = path.join(project.dir, 'budget.html');
    const r = await runCli(['budget', '--url', `${server.url}/predict`, '--duration', '1s', '--rps', '20', '--report', 'budget.html'], { cwd: project.dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/features .*OVER by/);
    expect(r.stdout).toMatch(/Over budget: over budget in features/);
    expect(r.stdout).toContain('network');
    expect(r.stdout).toContain('declared, not measured');
    expect(existsSync(report)).toBe(true);
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain('over budget');

    const j = await runCli(['budget', '--url', server.url, '--duration', '1', '--rps', '20', '--json'], { cwd: project.dir });
    expect(j.code).toBe(3);
    const doc = json<Doc>(j);
    expect(doc.verdict).toBe('over');
    expect(doc.reasons[0]).toContain('features');
  });

  it('fails with exit 1 on an unreachable endpoint and exit 2 on a bad flag', async () => {
    server = await startTimingServer();
    const url = server.url;
    await server.close();
    server = undefined;
    const r = await runCli(['budget', '--url', url, '--duration', '1', '--json'], { cwd: project.dir });
    expect(r.code).toBe(1);
    expect(json<{ error: { code: string } }>(r).error.code).toBe('endpoint_unreachable');
    const bad = await runCli(['budget', '--url', url, '--rps', 'lots'], { cwd: project.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--rps');
  });
});
