/**
 * Zero failed requests while the live version switches, a version that crashes at start-up, and
 * concurrent pushes — all through the spawned CLI on a private copy of the example.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { churnRecord, postJson } from '../../helpers/http.js';
import { copyExample, json, python, runCli } from '../../helpers/cli.js';
import { freePort } from '../../../src/targets/local/processes.js';

let dir: string;
let cleanup: () => void;
let port: number;
const env = { MLSHIP_PYTHON: python };
const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { ...env, ...extraEnv } });

/** Train with a seed and build; returns the build id. */
async function buildVariant(seed: number): Promise<string> {
  execFileSync(python, ['train.py', '--seed', String(seed)], { cwd: dir, stdio: 'ignore' });
  const res = await cli(['build', '--json', '--no-image']);
  expect(res.code, res.stderr).toBe(0);
  return json<{ id: string }>(res).id;
}

beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  port = await freePort();
  // A test hook in this copy's features package: crash at import when asked to.
  appendFileSync(
    path.join(dir, 'features', '__init__.py'),
    '\nimport os as _os\nif _os.environ.get("CHURN_CRASH_AT_START"):\n    raise RuntimeError("crash requested by the test")\n',
  );
  // Eight builds follow: a 400-row sample keeps each one's training and parity check short.
  const csv = path.join(dir, 'data', 'train.csv');
  writeFileSync(csv, readFileSync(csv, 'utf8').split('\n').slice(0, 401).join('\n') + '\n');
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
});
