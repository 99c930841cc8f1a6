/**
 * The conformance suite: the same lifecycle scenarios against every target through its harness
 * (targets.ts; each harness is its own file). "Every target behaves the same" is these tests: the
 * same results, the same errors with the same codes and exit codes, the same `status` keys. A
 * scenario a target's descriptor says it cannot run is skipped for it, by capability, and the
 * target must then refuse it with a usage error instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MlshipError } from '../../../src/util/errors.js';
import { CLOUD_ERROR_CATEGORIES, CLOUD_ERROR_KINDS } from '../../../src/deploy/cloud-errors.js';
import type { DeployRequest } from '../../../src/deploy/types.js';
import type { ConformanceHarness, ConformanceWorld } from './harness.js';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { silentReporter } from '../../../src/util/reporter.js';
import { checkDrift } from '../../../src/monitoring/drift/run.js';
import { checkQuality } from '../../../src/monitoring/quality.js';
import { HARNESSES } from './targets.js';

/** A one-minute canary at 10%: 100 requests a minute give it about 10, twice the evidence it needs. */
const canary: DeployRequest['strategy'] = { kind: 'canary', percent: 10, bakeMinutes: 1, minRequests: 5 };

async function failure(promise: Promise<unknown>): Promise<MlshipError> {
  try {
    await promise;
  } catch (error) {
    // A typed error (the local target runs from dist/, so compare by shape, not by class).
    expect(error).toMatchObject({ code: expect.any(String), exitCode: expect.any(Number), message: expect.any(String) });
    return error as MlshipError;
  }
  throw new Error('expected the call to fail');
}

/** A world with builds 1..n pushed (v1..vn). */
async function withVersions(h: ConformanceHarness, n: number): Promise<ConformanceWorld> {
  const w = await h.start();
  for (let i = 1; i <= n; i++) await w.target.push(await w.build(i), w.pushOptions);
  return w;
}

const keys = (o: object | undefined) => Object.keys(o ?? {}).sort();

describe.each(HARNESSES.map((h) => [h.descriptor.name, h] as const))('%s conforms', { timeout: 240_000 }, (_name, h) => {
  const canCanary = h.descriptor.capabilities.strategies.includes('canary');

  describe('lifecycle', () => {
    let w: ConformanceWorld;
    beforeAll(async () => {
      w = await h.start();
    }, 120_000);
    afterAll(async () => w?.close());

    it('push twice: the second push is a no-op', async () => {
      const first = await w.target.push(await w.build(1), w.pushOptions);
      expect(first).toMatchObject({ created: true, version: { version: 'v1' } });
      const before = w.mutations();
      const again = await w.target.push(await w.build(1), w.pushOptions);
      expect(again).toMatchObject({ created: false, version: { version: 'v1' } });
      expect(w.mutations()).toBe(before);
    });

    it('plan changes nothing', async () => {
      await w.target.push(await w.build(2), w.pushOptions);
      const before = w.mutations();
      const plan = await w.target.plan({ version: 'v1' });
      expect(plan).toMatchObject({ target: h.descriptor.name, to: 'v1', noop: false });
      expect(plan.steps.length).toBeGreaterThan(0);
      expect(w.mutations()).toBe(before);
      expect((await w.target.status()).live).toBeUndefined();
      expect(await w.target.liveClient()).toBeUndefined();
    });

    it('deploy, then deploy again changes nothing', async () => {
      const first = await w.target.deploy({ version: 'v1', timeoutSeconds: w.timeoutSeconds });
      expect(first).toMatchObject({ changed: true, live: { version: 'v1', healthy: true } });
      expect(await w.serving()).toBe('v1');
      // The client callers reach it by (what `mlship budget` load-tests) names the version live.
      expect(await w.target.liveClient()).toMatchObject({ version: 'v1', predictRoute: expect.any(String), chatRoute: expect.any(String) });
      const again = await w.target.deploy({ version: 'v1', timeoutSeconds: w.timeoutSeconds });
      expect(again).toMatchObject({ changed: false, live: { version: 'v1' } });
      expect((await w.target.plan({ version: 'v1' })).noop).toBe(true);
      expect(await w.serving()).toBe('v1');
    });

    it('status has the same keys on every target', async () => {
      await w.target.deploy({ version: 'v2', timeoutSeconds: w.timeoutSeconds });
      const status = JSON.parse(JSON.stringify(await w.target.status())) as Record<string, any>;
      expect(keys(status)).toEqual(['details', 'history', 'live', 'target', 'versions']);
      expect(keys(status.live)).toEqual(['details', 'healthy', 'since', 'url', 'version']);
      expect(status.live).toMatchObject({ version: 'v2', healthy: true });
      expect(keys(status.history.at(-1))).toEqual(['action', 'by', 'details', 'previous', 'ts', 'version']);
      expect(status.history.map((e: { action: string; version: string }) => `${e.action} ${e.version}`)).toEqual(['deploy v1', 'deploy v2']);
      expect(keys(status.history.at(-1).by)).toEqual(['command', 'host', 'user']);
      expect(status.versions.map((v: { version: string; live: boolean }) => [v.version, v.live])).toEqual([
        ['v1', false],
        ['v2', true],
      ]);
      for (const v of status.versions) expect(keys(v)).toEqual(expect.arrayContaining(['buildId', 'createdAt', 'digest', 'live', 'version']));
    });

    it('a version that fails its health check leaves the old one serving', async () => {
      w.behave('v3', { healthy: false });
      await w.target.push(await w.build(3), w.pushOptions);
      const error = await failure(w.target.deploy({ version: 'v3', timeoutSeconds: w.timeoutSeconds }));
      expect(error.exitCode).toBe(1);
      expect(await w.serving()).toBe('v2');
      expect((await w.target.status()).live?.version).toBe('v2');
    });

    it('rollback makes the previous version live again', async () => {
      const back = await w.target.rollback({ timeoutSeconds: w.timeoutSeconds });
      expect(back).toMatchObject({ changed: true, previous: 'v2', live: { version: 'v1' } });
      expect(await w.serving()).toBe('v1');
      const named = await failure(w.target.rollback({ to: 'v9' }));
      expect(named).toMatchObject({ code: 'version_not_found', exitCode: 2 });
      expect(await failure(w.target.rollback({ to: 'v1' }))).toMatchObject({ code: 'already_live', exitCode: 2 });
    });
  });

  it("ground truth put where the README says is what quality reads: the window's days, oldest first", async () => {
    const w = await withVersions(h, 1);
    try {
      const day = (d: string, ids: string[]) => `${ids.map((id, i) => JSON.stringify({ ts: `${d}T00:00:0${i}Z`, id, label: i % 2 })).join('\n')}\n`;
      await w.uploadFeedback('feedback-2026-11-30.jsonl', day('2026-11-30', ['c', 'd']));
      await w.uploadFeedback('feedback-2026-11-01.jsonl', day('2026-11-01', ['too-old']));
      await w.uploadFeedback('feedback-2026-11-29.jsonl', day('2026-11-29', ['a', 'b']));
      await w.uploadFeedback('notes.txt', 'not ground truth\n');
      const sources = await w.target.feedbackLogs!({ from: new Date('2026-11-29T12:00:00Z') });
      const ids: unknown[] = [];
      for (const s of sources) for await (const line of s.lines()) ids.push((JSON.parse(line) as { id: unknown }).id);
      expect(ids).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      await w.close();
    }
  });

  it('rollback with nothing before: the same errors and exit codes everywhere', async () => {
    const w = await withVersions(h, 1);
    try {
      expect(await failure(w.target.rollback({}))).toMatchObject({ code: 'nothing_live', exitCode: 2 });
      await w.target.deploy({ timeoutSeconds: w.timeoutSeconds });
      expect(await failure(w.target.rollback({}))).toMatchObject({ code: 'no_previous_version', exitCode: 2 });
      expect(await w.serving()).toBe('v1');
    } finally {
      await w.close();
    }
  });

  it('deploy with nothing pushed: no_versions, exit 2', async () => {
    const w = await h.start();
    try {
      expect(await failure(w.target.deploy({}))).toMatchObject({ code: 'no_versions', exitCode: 2 });
    } finally {
      await w.close();
    }
  });

  describe.skipIf(!canCanary)('canary (the target runs canaries)', () => {
    let w: ConformanceWorld;
    beforeAll(async () => {
      w = await withVersions(h, 1);
      await w.target.deploy({ timeoutSeconds: w.timeoutSeconds });
    }, 120_000);
    afterAll(async () => w?.close());

    it('a healthy canary is promoted', async () => {
      await w.target.push(await w.build(2), w.pushOptions);
      const r = await w.target.deploy({ version: 'v2', strategy: canary, timeoutSeconds: w.timeoutSeconds });
      expect(r).toMatchObject({ changed: true, previous: 'v1', live: { version: 'v2' } });
      expect(await w.serving()).toBe('v2');
    });

    it('a canary answering 5xx is reverted and the old version keeps serving', async () => {
      w.behave('v3', { errorRate: 0.5 });
      await w.target.push(await w.build(3), w.pushOptions);
      const error = await failure(w.target.deploy({ version: 'v3', strategy: canary, timeoutSeconds: w.timeoutSeconds }));
      expect(error).toMatchObject({ code: 'canary_reverted', exitCode: 3 });
      expect(await w.serving()).toBe('v2');
      expect((await w.target.status()).live?.version).toBe('v2');
    });

    it('a canary slower than the latency budget for three periods is reverted', async () => {
      // budget.latency_ms of the example: p95 150 ms; the guard reverts after 3 slow one-minute periods.
      w.behave('v4', { latencyMs: 1_000 });
      await w.target.push(await w.build(4), w.pushOptions);
      const error = await failure(w.target.deploy({ version: 'v4', strategy: { ...canary, bakeMinutes: 4 }, timeoutSeconds: w.timeoutSeconds }));
      expect(error).toMatchObject({ code: 'canary_reverted', exitCode: 3 });
      expect(error.message).toMatch(/latency/);
      expect(await w.serving()).toBe('v2');
    });

    it('a canary that receives no requests during the bake is not promoted', async () => {
      w.traffic(0);
      try {
        await w.target.push(await w.build(5), w.pushOptions);
        const error = await failure(w.target.deploy({ version: 'v5', strategy: canary, timeoutSeconds: w.timeoutSeconds }));
        expect(error).toMatchObject({ code: 'canary_inconclusive', exitCode: 3 });
        expect(error.message).toMatch(/answered 0 requests during the bake, fewer than the 5/);
        expect(error.hint).toMatch(/--bake/);
        expect(error.hint).toMatch(/--min-requests|min_requests/);
        expect(await w.serving()).toBe('v2');
        expect((await w.target.status()).live?.version).toBe('v2');
      } finally {
        w.traffic(100);
      }
    });

    it('without evidence, --promote-inconclusive promotes with a warning in the history', async () => {
      w.traffic(0);
      try {
        const r = await w.target.deploy({ version: 'v5', strategy: { ...canary, promoteInconclusive: true }, timeoutSeconds: w.timeoutSeconds });
        expect(r).toMatchObject({ changed: true, previous: 'v2', live: { version: 'v5' } });
        expect(await w.serving()).toBe('v5');
        const last = (await w.target.status()).history.at(-1);
        expect(last).toMatchObject({ action: 'deploy', version: 'v5' });
        expect(String(last?.details?.warning)).toMatch(/promoted without enough evidence.*0 requests/);
      } finally {
        w.traffic(100);
      }
    });
  });

  it.skipIf(canCanary)('a target without canaries refuses one with a usage error naming the targets that have them', async () => {
    const w = await withVersions(h, 1);
    try {
      const error = await failure(w.target.deploy({ strategy: canary }));
      expect(error).toMatchObject({ code: 'unsupported_by_target', exitCode: 2 });
      expect(error.hint).toMatch(/sagemaker/);
      expect(await w.serving()).toBeUndefined();
    } finally {
      await w.close();
    }
  });

  describe('versions: lineage, tampering, pending, nothing logged', () => {
    let w: ConformanceWorld;
    beforeAll(async () => {
      w = await withVersions(h, 1);
      await w.target.deploy({ timeoutSeconds: w.timeoutSeconds });
    }, 120_000);
    afterAll(async () => w?.close());

    it('lineage (parent, data, gate, metrics) survives push → status', async () => {
      const build = await w.build(2);
      // What `python train.py` leaves beside the manifest.
      writeFileSync(path.join(w.manifest.projectDir, 'metrics.json'), JSON.stringify({ auc: 0.91, accuracy: 0.88 }));
      const data = [{ path: 'data/train.csv', sha256: 'b'.repeat(64) }];
      const gate = { promoted: true, metric: 'auc', candidate: 0.91, live: 0.9, liveVersion: 'v1', minDelta: 0.005, rows: 120 };
      const pushed = await w.target.push(build, { ...w.pushOptions, parent: 'v1', data, gate });
      const lineage = { version: 'v2', parent: 'v1', data, gate, metrics: { auc: 0.91, accuracy: 0.88 } };
      expect(pushed.version).toMatchObject(lineage);
      const status = JSON.parse(JSON.stringify(await w.target.status())) as { versions: unknown[] };
      expect(status.versions.find((v) => (v as { version: string }).version === 'v2')).toMatchObject(lineage);
    });

    it('a model changed after the build is refused at push, and nothing is registered', async () => {
      const build = await w.build(3);
      const info = JSON.parse(readFileSync(path.join(build.dir, 'build.json'), 'utf8')) as { model: { file: string } };
      appendFileSync(path.join(build.dir, info.model.file), 'tampered');
      const before = w.mutations();
      expect(await failure(w.target.push(build, w.pushOptions))).toMatchObject({ code: 'artifact_digest_mismatch', exitCode: 1 });
      expect(w.mutations()).toBe(before);
      expect((await w.target.versions()).map((v) => v.version)).toEqual(['v1', 'v2']);
    });

    it('drift-check and quality with nothing logged yet: no_predictions, never a not-found error', async () => {
      const ctx = { manifest: w.manifest, output: silentReporter, env: process.env, cwd: w.manifest.projectDir };
      const drift = await failure(checkDrift({ ...ctx, now: new Date(), target: async () => w.target }, { since: '7d' }));
      expect(drift).toMatchObject({ code: 'no_predictions', exitCode: 1 });
      const quality = await checkQuality(
        { ...ctx, now: () => new Date(), target: async () => w.target },
        { window: { from: new Date(Date.now() - 7 * 86_400_000) } },
      );
      expect(quality.result).toMatchObject({ verdict: 'insufficient_labels', labels: { predictions: 0 } });
    });

    it("a version the target's retraining registered is listed as pending, passed over by deploy, deployable with --version", async () => {
      await w.target.deploy({ version: 'v2', timeoutSeconds: w.timeoutSeconds });
      await w.registerRetrained('v2');
      const listed = (await w.target.versions()).at(-1)!;
      expect(listed).toMatchObject({ version: 'v3', pending: true, live: false });
      expect((await w.target.plan({})).to).toBe('v2');
      const deployed = await w.target.deploy({ version: 'v3', timeoutSeconds: w.timeoutSeconds });
      expect(deployed).toMatchObject({ changed: true, previous: 'v2', live: { version: 'v3' } });
      expect(await w.serving()).toBe('v3');
      const after = (await w.target.versions()).find((v) => v.version === 'v3')!;
      expect(after).toMatchObject({ live: true });
      expect(after.pending).toBeUndefined();
    });
  });

  it.skipIf(!h.cloud).each(CLOUD_ERROR_KINDS)('cloud error category %s has its one exit code', async (kind) => {
    const w = await h.start();
    try {
      w.failNextCall!(kind);
      const error = await failure(w.target.status());
      expect(error).toMatchObject({ kind, exitCode: CLOUD_ERROR_CATEGORIES[kind].exitCode });
      expect(error.message.length).toBeGreaterThan(20);
      expect(error.hint).toBeTruthy();
    } finally {
      await w.close();
    }
  });
});
