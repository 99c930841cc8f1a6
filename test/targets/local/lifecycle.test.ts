/**
 * The local target end to end, through the spawned CLI on a private copy of the example:
 * build → push → build → push → deploy → predict → status → rollback → deploy → stop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { churnRecord, postJson } from '../../helpers/http.js';
import { cachedBuild, trainWithSeed } from '../../helpers/build-cache.js';
import { copyExample, json, python, runCli } from '../../helpers/cli.js';
import { freePort } from '../../../src/targets/local/processes.js';

interface Live {
  version: string;
  url: string;
  since: string;
  healthy: boolean;
}

let dir: string;
let cleanup: () => void;
let port: number;
const env = { MLSHIP_PYTHON: python };
const cli = (...args: string[]) => runCli(args, { cwd: dir, env });

beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  port = await freePort();
});

afterAll(async () => {
  await cli('stop');
  cleanup();
});

describe('local lifecycle', () => {
  it('builds and pushes two versions, deduplicating an identical push', async () => {
    expect((await cachedBuild(dir, () => cli('build', '--json', '--no-image'))).code).toBe(0);
    const first = await cli('push', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(json(first)).toMatchObject({ version: { version: 'v1' }, created: true });

    const again = await cli('push', '--json');
    expect(json(again)).toMatchObject({ version: { version: 'v1' }, created: false });

    trainWithSeed(dir, 1);
    expect((await cachedBuild(dir, () => cli('build', '--json', '--no-image'))).code).toBe(0);
    const second = await cli('push', '--json');
    expect(json(second)).toMatchObject({ version: { version: 'v2' }, created: true });
  }, 600_000);

  it('plans without changing anything', async () => {
    const plan = await cli('deploy', '--plan', '--json', '--port', String(port));
    expect(plan.code, plan.stderr).toBe(0);
    const doc = json<{
      plan: {
        to: string;
        noop: boolean;
        url: string;
        logging: { enabled: boolean };
        steps: unknown[];
        compute: { instanceType: string; gpu: boolean; reasons: string[] };
      };
    }>(plan);
    expect(doc.plan).toMatchObject({ to: 'v2', noop: false, url: `http://127.0.0.1:${port}`, logging: { enabled: true } });
    // The instance comes from the one selection function, with its reasons in words.
    expect(doc.plan.compute).toMatchObject({ instanceType: 'local', gpu: false, replicas: { min: 1, max: 1 } });
    expect(doc.plan.compute.reasons.join(' ')).toMatch(/sklearn model.*CPU/s);
    expect(json<{ live?: unknown }>(await cli('status', '--json')).live).toBeUndefined();
  });

  it('deploys the newest version and serves predictions on the stable URL', async () => {
    const res = await cli('deploy', '--json', '--port', String(port));
    expect(res.code, res.stderr).toBe(0);
    const { live } = json<{ live: Live }>(res);
    expect(live).toMatchObject({ version: 'v2', url: `http://127.0.0.1:${port}`, healthy: true });

    for (let i = 0; i < 5; i++) {
      const r = await postJson(`${live.url}/predict`, { ...churnRecord, tenure_months: i * 10 });
      expect(r.status, r.body).toBe(200);
      expect(r.headers['x-model-version']).toBe('v2');
    }
    const status = json<{ target: string; live: Live; history: { action: string; version: string }[]; versions: { version: string; live: boolean }[] }>(
      await cli('status', '--json'),
    );
    expect(status.target).toBe('local');
    expect(status.live).toMatchObject({ version: 'v2', healthy: true });
    expect(status.versions.map((v) => [v.version, v.live])).toEqual([
      ['v1', false],
      ['v2', true],
    ]);
    expect(status.history.at(-1)).toMatchObject({ action: 'deploy', version: 'v2' });
  });

  it('deploying the live version again converges and changes nothing', async () => {
    const res = await cli('deploy', '--json');
    expect(json(res)).toMatchObject({ changed: false, live: { version: 'v2' } });
  });

  it('rolls back to the previous version and forward again', async () => {
    const back = await cli('rollback', '--to', 'v1', '--json');
    expect(back.code, back.stderr).toBe(0);
    expect(json(back)).toMatchObject({ live: { version: 'v1' }, previous: 'v2', changed: true });
    expect(json<{ live: Live }>(await cli('status', '--json')).live.version).toBe('v1');
    const r = await postJson(`http://127.0.0.1:${port}/predict`, churnRecord);
    expect(r.headers['x-model-version']).toBe('v1');

    // Without --to, rollback returns to the version that was live before.
    const toggle = await cli('rollback', '--json');
    expect(json(toggle)).toMatchObject({ live: { version: 'v2' }, previous: 'v1' });
    const status = json<{ live: Live; history: { action: string; version: string; by: { command: string } }[] }>(await cli('status', '--json'));
    expect(status.live.version).toBe('v2');
    expect(status.history.slice(-3).map((h) => `${h.action}:${h.version}`)).toEqual(['deploy:v2', 'rollback:v1', 'rollback:v2']);
  });

  it('refuses a corrupted artifact and keeps the live version serving', async () => {
    await cli('deploy', '--version', 'v2', '--json');
    const { appendFileSync } = await import('node:fs');
    appendFileSync(`${dir}/.mlship/registry/versions/v1/model/model.joblib`, 'tampered');
    const res = await cli('deploy', '--version', 'v1');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/model artifact of v1 is corrupted or was modified/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    const status = json<{ live: Live }>(await cli('status', '--json'));
    expect(status.live).toMatchObject({ version: 'v2', healthy: true });
  });

  it('stops cleanly', async () => {
    const res = await cli('stop', '--json');
    expect(json(res)).toEqual({ stopped: true, version: 'v2' });
    expect(json<{ live?: Live }>(await cli('status', '--json')).live).toBeUndefined();
    await expect(postJson(`http://127.0.0.1:${port}/predict`, churnRecord)).rejects.toThrow();
  });
});
