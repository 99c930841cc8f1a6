/**
 * Zero failed requests while the live version switches (whole, or through a canary that is promoted
 * or reverted), a version that crashes at start-up, and concurrent pushes — all through the spawned
 * CLI on a private copy of the example.
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { churnRecord, postJson } from '../../helpers/http.js';
import { cachedBuild, trainWithSeed } from '../../helpers/build-cache.js';
import { copyExample, json, python, runCli } from '../../helpers/cli.js';
import { freePort } from '../../../src/targets/local/processes.js';

let dir: string;
let cleanup: () => void;
let port: number;
const env = { MLSHIP_PYTHON: python };
const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { ...env, ...extraEnv } });

/** Train with a seed and build; returns the build id. */
async function buildVariant(seed: number): Promise<string> {
  trainWithSeed(dir, seed);
  const res = await cachedBuild(dir, () => cli(['build', '--json', '--no-image']));
  expect(res.code, res.stderr).toBe(0);
  return json<{ id: string }>(res).id;
}

beforeAll(async () => {
  // Eight builds follow: a 400-row sample keeps each one's training and parity check short.
  ({ dir, cleanup } = copyExample({ baselineRows: 400 }));
  port = await freePort();
  // A test hook in this copy's features package: crash at import when asked to.
  appendFileSync(
    path.join(dir, 'features', '__init__.py'),
    '\nimport os as _os\nif _os.environ.get("CHURN_CRASH_AT_START"):\n    raise RuntimeError("crash requested by the test")\n',
  );
  // And a version whose every prediction fails (a 500; its health check still passes), as a bad release.
  appendFileSync(
    path.join(dir, 'features', '__init__.py'),
    '\nif _os.environ.get("CHURN_FAIL_PREDICT"):\n\n    def transform(df):  # noqa: F811\n        raise RuntimeError("failure requested by the test")\n',
  );
}, 300_000);

afterAll(async () => {
  await cli(['stop']);
  cleanup();
});

describe('local target under pressure', () => {
  it('gives 8 concurrent pushes 8 distinct versions and an intact registry', async () => {
    const ids: string[] = [];
    for (let seed = 0; seed < 8; seed++) ids.push(await buildVariant(seed));
    expect(new Set(ids).size).toBe(8);
    const results = await Promise.all(ids.map((id) => cli(['push', '--build', id, '--json'])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const versions = results.map((r) => json<{ version: { version: string; buildId: string } }>(r).version);
    expect(new Set(versions.map((v) => v.version)).size).toBe(8);
    expect(versions.map((v) => v.buildId).sort()).toEqual([...ids].sort());
    const listed = readdirSync(path.join(dir, '.mlship/registry/versions'))
      .filter((d) => /^v\d+$/.test(d))
      .sort();
    expect(listed).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']);
    for (const v of listed) JSON.parse(readFileSync(path.join(dir, '.mlship/registry/versions', v, 'version.json'), 'utf8'));
  }, 600_000);

  it('switches the live version 10 times under continuous load with zero failed requests', async () => {
    const first = await cli(['deploy', '--version', 'v1', '--port', String(port), '--json']);
    expect(first.code, first.stderr).toBe(0);
    const url = `http://127.0.0.1:${port}/predict`;
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const responses: { at: number; version: string }[] = [];
    const failures: string[] = [];
    let stop = false;
    const clients = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const at = Date.now();
        try {
          const r = await postJson(url, churnRecord, agent);
          if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
          else responses.push({ at, version: String(r.headers['x-model-version']) });
        } catch (error) {
          failures.push(String(error));
        }
      }
    });
    const switches: { version: string; started: number; done: number }[] = [];
    const order = ['v2', 'v1', 'v3', 'v2', 'v4', 'v1', 'v5', 'v6', 'v2', 'v7'];
    for (const version of order) {
      const started = Date.now();
      const r = await cli(['deploy', '--version', version, '--json']);
      expect(r.code, r.stderr).toBe(0);
      switches.push({ version, started, done: Date.now() });
      // Let traffic run on this version for a moment before the next switch.
      await new Promise((r) => setTimeout(r, 300));
    }
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(clients);
    agent.destroy();

    expect(failures).toEqual([]);
    // Rates depend on the machine, so the test asserts counts, not speed: every switch window saw
    // traffic, and the whole run carried hundreds of requests (the achieved rate is printed).
    const seconds = (Date.now() - responses[0]!.at) / 1000;
    console.info(`switching under load: ${responses.length} requests in ${seconds.toFixed(1)} s (${(responses.length / seconds).toFixed(0)}/s), 0 failed`);
    expect(responses.length).toBeGreaterThan(500);
    // Between one switch returning and the next one starting, requests are answered by that version only.
    for (const [i, s] of switches.entries()) {
      const until = switches[i + 1]?.started ?? Infinity;
      const window = responses.filter((r) => r.at > s.done + 5 && r.at < until);
      expect(window.length, `no traffic after switching to ${s.version}`).toBeGreaterThan(0);
      expect(
        window.every((r) => r.version === s.version),
        `${s.version}: ${[...new Set(window.map((r) => r.version))].join(',')}`,
      ).toBe(true);
    }
  }, 300_000);

  it('keeps the old version serving when the new one crashes at start-up', async () => {
    const res = await cli(['deploy', '--version', 'v8', '--json'], { CHURN_CRASH_AT_START: '1' });
    expect(res.code).toBe(1);
    const doc = json<{ error: { code: string; message: string } }>(res);
    expect(doc.error.code).toBe('start_failed');
    expect(doc.error.message).toMatch(/crash requested by the test/);
    const status = json<{ live: { version: string; healthy: boolean } }>(await cli(['status', '--json']));
    expect(status.live).toMatchObject({ version: 'v7', healthy: true });
    const r = await postJson(`http://127.0.0.1:${port}/predict`, churnRecord);
    expect(r.headers['x-model-version']).toBe('v7');
  });

  /** Run `deploy` under continuous load from 6 clients; every answer (status, version) and every transport error. */
  async function deployUnderLoad(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
    const url = `http://127.0.0.1:${port}/predict`;
    const agent = new Agent({ keepAlive: true, maxSockets: 6 });
    const answers: { at: number; status: number; version: string }[] = [];
    const broken: string[] = [];
    let stop = false;
    const clients = Array.from({ length: 6 }, async () => {
      while (!stop) {
        const at = Date.now();
        try {
          const r = await postJson(url, churnRecord, agent);
          answers.push({ at, status: r.status, version: String(r.headers['x-model-version']) });
        } catch (error) {
          broken.push(String(error));
        }
      }
    });
    const result = await cli(['deploy', '--json', ...args], extraEnv);
    const done = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(clients);
    agent.destroy();
    return { result, answers, broken, after: answers.filter((a) => a.at > done + 5) };
  }

  it('a canary that is promoted: split, then all traffic on the new version, zero failed requests', async () => {
    // The plan shows the canary and the evidence it needs, and changes nothing.
    const canaryFlags = ['--strategy', 'canary', '--canary-percent', '25', '--bake', '12s', '--min-requests', '10'];
    const plan = await cli(['deploy', '--plan', '--version', 'v5', ...canaryFlags]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/rollout {3}canary 25% for 0\.2 min; promoted only after at least 10 requests on v5, else reverted \(canary_inconclusive\)/);
    const planned = json<{ plan: { rollout: unknown; steps: { action: string }[] } }>(
      await cli(['deploy', '--plan', '--json', '--version', 'v5', ...canaryFlags]),
    );
    expect(planned.plan.rollout).toEqual({ kind: 'canary', percent: 25, bakeMinutes: 0.2, minRequests: 10 });
    expect(planned.plan.steps.map((x) => x.action)).toEqual(expect.arrayContaining(['split', 'bake', 'promote or revert']));
    // The deploy bakes 5 s, not the plan's 12: under six clients, 10 requests reach a 25% canary in well under a second.
    const { result, answers, broken, after } = await deployUnderLoad([
      '--version',
      'v5',
      '--strategy',
      'canary',
      '--canary-percent',
      '25',
      '--bake',
      '5s',
      '--min-requests',
      '10',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ live: { version: 'v5' }, previous: 'v7', changed: true });
    expect(broken).toEqual([]);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    // Both versions answered during the bake; after the promotion, only the new one.
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set(['v7', 'v5']));
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((a) => a.version === 'v5')).toBe(true);
    const status = json<{ live: { version: string }; history: { action: string; version: string; details: { strategy?: string } }[] }>(
      await cli(['status', '--json']),
    );
    expect(status.live.version).toBe('v5');
    expect(status.history.at(-1)).toMatchObject({ action: 'deploy', version: 'v5', details: { strategy: 'canary' } });
  }, 300_000);

  it('a canary answering errors is reverted (exit 3); only its own answers failed, and the live version keeps serving', async () => {
    const { result, answers, broken, after } = await deployUnderLoad(
      ['--version', 'v6', '--strategy', 'canary', '--canary-percent', '25', '--bake', '5s', '--min-requests', '10'],
      { CHURN_FAIL_PREDICT: '1' },
    );
    expect(result.code, result.stderr).toBe(3);
    const doc = json<{ error: { code: string; message: string; hint: string } }>(result);
    expect(doc.error.code).toBe('canary_reverted');
    expect(doc.error.message).toMatch(/canary of v6 was reverted: \d+ of \d+ requests answered 5xx.*v5 serves all traffic again/);
    // No request was dropped or refused by the switch; the only failures are the canary's 500s.
    expect(broken).toEqual([]);
    const failed = answers.filter((a) => a.status !== 200);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((a) => a.status === 500)).toBe(true);
    expect(answers.filter((a) => a.status === 200).every((a) => a.version === 'v5')).toBe(true);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((a) => a.status === 200 && a.version === 'v5')).toBe(true);
    const status = json<{ live: { version: string; healthy: boolean }; history: { version: string }[] }>(await cli(['status', '--json']));
    expect(status.live).toMatchObject({ version: 'v5', healthy: true });
    expect(status.history.at(-1)?.version).toBe('v5');
  }, 300_000);
});
