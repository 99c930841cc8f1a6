/**
 * The rollout controller (src/deploy/rollout.ts) on its own: a recording traffic control, a scripted
 * metrics reader and a manual clock, so a bake of minutes takes no time and every period's reading is
 * chosen by the test. Every target's canary goes through this one function; the conformance suite
 * checks the targets wire it up, these tests check what it decides.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifestFile } from '../../src/manifest/load.js';
import { exampleDir } from '../helpers/cli.js';
import { llmProject } from '../packaging/llm-fixture.js';
import { manualClock } from '../../src/deploy/poll.js';
import {
  ALL_AT_ONCE,
  CanaryInconclusiveError,
  CanaryRevertedError,
  guardsFromManifest,
  runRollout,
  type MetricsReader,
  type RolloutGuards,
  type RolloutStrategy,
  type VersionMetrics,
} from '../../src/deploy/rollout.js';
import type { Reporter } from '../../src/util/reporter.js';
import { silentReporter } from '../../src/util/reporter.js';

const GUARDS: RolloutGuards = { maxErrorRate: 0, latency: { percentile: 'p95', maxMs: 150, periods: 3 }, periodSeconds: 60, minRequests: 50 };

/** A canary of v2 over v1 at 10% for `bake` minutes. */
const canary = (bakeMinutes: number, extra: Partial<Extract<RolloutStrategy, { kind: 'canary' }>> = {}): RolloutStrategy => ({
  kind: 'canary',
  percent: 10,
  bakeMinutes,
  ...extra,
});

/** Runs a rollout of v2 over v1 with periods read from `periods` in order (the last one repeats). */
async function roll(strategy: RolloutStrategy, periods: (VersionMetrics | undefined)[], options: { stable?: string; reporter?: Reporter } = {}) {
  const calls: string[] = [];
  const reads: { version: string; from: string; to: string; percentile: string }[] = [];
  const clock = manualClock();
  const metrics: MetricsReader = {
    read: async (version, window, percentile) => {
      reads.push({ version, from: window.from.toISOString(), to: window.to.toISOString(), percentile });
      return periods[Math.min(reads.length - 1, periods.length - 1)];
    },
  };
  const run = runRollout({
    strategy,
    stable: 'stable' in options ? options.stable : 'v1',
    candidate: 'v2',
    traffic: {
      split: async (stable, candidate, percent) => void calls.push(`split ${stable} ${candidate} ${percent}`),
      routeAll: async (version) => void calls.push(`all ${version}`),
    },
    metrics,
    guards: GUARDS,
    clock,
    reporter: options.reporter ?? silentReporter,
  });
  const outcome = await run.catch((error: unknown) => error);
  return { outcome, calls, reads };
}

const healthy = (requests: number, latencyMs = 40): VersionMetrics => ({ requests, errors5xx: 0, latencyMs });

describe('all at once', () => {
  it('routes everything to the candidate and reads no metrics', async () => {
    const { outcome, calls, reads } = await roll(ALL_AT_ONCE, [healthy(0)]);
    expect(outcome).toEqual({ strategy: 'all-at-once', promoted: true, checks: [] });
    expect(calls).toEqual(['all v2']);
    expect(reads).toEqual([]);
  });

  it('a canary with nothing live is all at once (there is nothing to compare with)', async () => {
    const { outcome, calls } = await roll(canary(10), [], { stable: undefined });
    expect(outcome).toMatchObject({ strategy: 'all-at-once' });
    expect(calls).toEqual(['all v2']);
  });
});

describe('canary', () => {
  it('is promoted after a healthy bake with enough requests: one read per period, windows back to back', async () => {
    const { outcome, calls, reads } = await roll(canary(3), [healthy(20)]);
    expect(calls).toEqual(['split v1 v2 10', 'all v2']);
    expect(reads.map((r) => [r.from.slice(11, 19), r.to.slice(11, 19), r.version, r.percentile])).toEqual([
      ['00:00:00', '00:01:00', 'v2', 'p95'],
      ['00:01:00', '00:02:00', 'v2', 'p95'],
      ['00:02:00', '00:03:00', 'v2', 'p95'],
    ]);
    expect(outcome).toMatchObject({ strategy: 'canary', promoted: true, evidence: { requests: 60, minRequests: 50 } });
    expect((outcome as { warning?: string }).warning).toBeUndefined();
  });

  it('a bake that is not a whole number of periods ends with a shorter last period', async () => {
    const { reads } = await roll(canary(1.5), [healthy(40)]);
    expect(reads.map((r) => r.to.slice(11, 19))).toEqual(['00:01:00', '00:01:30']);
  });

  it('is reverted on 5xx in the first period that has them, and says how many', async () => {
    const { outcome, calls, reads } = await roll(canary(10), [healthy(30), { requests: 30, errors5xx: 2, latencyMs: 40 }, healthy(30)]);
    expect(calls).toEqual(['split v1 v2 10', 'all v1']);
    expect(reads).toHaveLength(2);
    expect(outcome).toBeInstanceOf(CanaryRevertedError);
    expect(outcome).toMatchObject({ code: 'canary_reverted', exitCode: 3, details: { candidate: 'v2', stable: 'v1' } });
    expect((outcome as Error).message).toMatch(/2 of 30 requests answered 5xx/);
  });

  it('tolerates 5xx up to maxErrorRate', async () => {
    const clock = manualClock();
    const calls: string[] = [];
    const outcome = await runRollout({
      strategy: canary(2),
      stable: 'v1',
      candidate: 'v2',
      traffic: { split: async () => void calls.push('split'), routeAll: async (v) => void calls.push(`all ${v}`) },
      metrics: { read: async () => ({ requests: 100, errors5xx: 1, latencyMs: 40 }) },
      guards: { ...GUARDS, maxErrorRate: 0.02 },
      clock,
      reporter: silentReporter,
    });
    expect(outcome.promoted).toBe(true);
    expect(calls).toEqual(['split', 'all v2']);
  });

  it('is reverted when latency stays above the budget for the guard periods in a row', async () => {
    const slow = healthy(30, 400);
    const { outcome, calls, reads } = await roll(canary(10), [slow, slow, slow, healthy(30)]);
    expect(calls).toEqual(['split v1 v2 10', 'all v1']);
    expect(reads).toHaveLength(3);
    expect(outcome).toMatchObject({ code: 'canary_reverted', exitCode: 3 });
    expect((outcome as Error).message).toMatch(/latency p95 above the 150 ms budget for 3 periods/);
  });

  it('a fast period resets the latency streak: two slow, one fast, two slow is promoted', async () => {
    const slow = healthy(30, 400);
    const { outcome, calls } = await roll(canary(5), [slow, slow, healthy(30), slow, slow]);
    expect(calls).toEqual(['split v1 v2 10', 'all v2']);
    expect(outcome).toMatchObject({ promoted: true });
  });

  it('is reverted as inconclusive when the bake saw fewer requests than the minimum', async () => {
    const { outcome, calls } = await roll(canary(3), [healthy(10)]);
    expect(calls).toEqual(['split v1 v2 10', 'all v1']);
    expect(outcome).toBeInstanceOf(CanaryInconclusiveError);
    // A subclass of the reverted error: every target's clean-up of a rejected canary applies.
    expect(outcome).toBeInstanceOf(CanaryRevertedError);
    expect(outcome).toMatchObject({ code: 'canary_inconclusive', exitCode: 3, details: { requests: 30, minRequests: 50 } });
    const error = outcome as CanaryInconclusiveError;
    expect(error.message).toMatch(/answered 30 requests during the bake, fewer than the 50 a promotion needs; v1 serves all traffic again/);
    expect(error.hint).toMatch(/--bake/);
    expect(error.hint).toMatch(/--min-requests/);
    expect(error.hint).toMatch(/rollout\.canary\.min_requests/);
  });

  it('a reader that returns nothing is no data, not zero errors: no evidence, so not promoted', async () => {
    const { outcome, calls } = await roll(canary(3), [undefined]);
    expect(calls).toEqual(['split v1 v2 10', 'all v1']);
    expect(outcome).toMatchObject({ code: 'canary_inconclusive', details: { requests: 0 } });
    const checks = (outcome as CanaryInconclusiveError).details?.checks as unknown[];
    expect(checks).toHaveLength(3);
    expect(checks.every((c) => (c as { noData?: boolean }).noData === true)).toBe(true);
  });

  it('periods without data neither break a guard nor count; the periods with data decide', async () => {
    const { outcome } = await roll(canary(4), [undefined, healthy(30), undefined, healthy(30)]);
    expect(outcome).toMatchObject({ promoted: true, evidence: { requests: 60 } });
  });

  it('the strategy minimum overrides the guards (deploy --min-requests)', async () => {
    const { outcome } = await roll(canary(3, { minRequests: 20 }), [healthy(10)]);
    expect(outcome).toMatchObject({ promoted: true, evidence: { requests: 30, minRequests: 20 } });
  });

  it('with promoteInconclusive, a canary without evidence is promoted with a warning on the reporter and in the outcome', async () => {
    const warnings: string[] = [];
    const reporter: Reporter = { ...silentReporter, warn: (t) => void warnings.push(t) };
    const { outcome, calls } = await roll(canary(2, { promoteInconclusive: true }), [healthy(0)], { reporter });
    expect(calls).toEqual(['split v1 v2 10', 'all v2']);
    expect(outcome).toMatchObject({ promoted: true, evidence: { requests: 0, minRequests: 50 } });
    expect((outcome as { warning: string }).warning).toMatch(/promoted without enough evidence \(--promote-inconclusive\): it answered 0 requests/);
    expect(warnings).toEqual([(outcome as { warning: string }).warning]);
  });

  it('promoteInconclusive does not override a broken guard', async () => {
    const { outcome, calls } = await roll(canary(2, { promoteInconclusive: true }), [{ requests: 3, errors5xx: 3 }]);
    expect(calls).toEqual(['split v1 v2 10', 'all v1']);
    expect(outcome).toMatchObject({ code: 'canary_reverted' });
  });
});

describe('guards from the manifest', () => {
  const manifestOf = (extra: string) => {
    const project = llmProject({ file: 'model.gguf', quantization: 'int4' });
    try {
      const file = path.join(project.dir, 'mlship.yaml');
      writeFileSync(file, readFileSync(file, 'utf8') + extra);
      return loadManifestFile(file);
    } finally {
      project.cleanup();
    }
  };

  it('guards an LLM canary by its 5xx alone, unless the manifest writes an end-to-end budget', () => {
    expect(guardsFromManifest(manifestOf('')).latency.maxMs).toBe(Number.POSITIVE_INFINITY);
    expect(guardsFromManifest(manifestOf('budget:\n  latency_ms: { p99: 30000 }\n')).latency).toEqual({ percentile: 'p99', maxMs: 30000, periods: 3 });
  });

  it('guards a tabular canary by budget.latency_ms (default p95 200 ms)', () => {
    const manifest = loadManifestFile(path.join(exampleDir, 'mlship.yaml'));
    expect(guardsFromManifest(manifest).latency).toEqual({
      percentile: manifest.budget.latency_ms.percentile,
      maxMs: manifest.budget.latency_ms.value,
      periods: 3,
    });
  });
});
