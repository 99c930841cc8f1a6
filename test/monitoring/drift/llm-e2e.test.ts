/**
 * drift-check on an LLM deployed on the local target, end to end through the spawned CLI:
 * init → build → push → deploy (mlship's gateway in front of a real llama-server on the tiny model)
 * → the usual traffic, then shifted traffic → drift-check. A deployment younger than a week has no
 * current window yet; once the usual traffic's lines are dated ten days back (the gateway's own
 * lines, only `ts` changed, moved into the files of their day), the first week is the baseline and
 * the shift is found.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/targets/local/processes.js';
import { json, python, runCli } from '../../helpers/cli.js';
import { postJson } from '../../helpers/http.js';
import { tinyLlmProject } from '../../helpers/llm.js';
import { at, type Body, type Line, shifted, usual, writeDaily } from './llm-traffic.js';

const N = 40;
const DAY = 86_400_000;
let dir: string;
let cleanup: () => void;
let url: string;
const env = { MLSHIP_PYTHON: python, MLSHIP_LLAMA_THREADS: '1' };
const cli = (...args: string[]) => runCli(args, { cwd: dir, env, timeoutMs: 300_000 });

async function send(bodies: Body[]): Promise<void> {
  for (const body of bodies) {
    const res = await postJson(`${url}${'messages' in body ? '/v1/chat/completions' : '/v1/completions'}`, body);
    expect(res.status, res.body).toBe(200);
  }
}

beforeAll(async () => {
  ({ dir, cleanup } = await tinyLlmProject('mlship-llmdrift-e2e-'));
  url = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await cli('stop');
  cleanup();
});

describe('drift-check on an LLM deployed locally', () => {
  it('deploys, serves the usual and the shifted traffic, and finds the shift against the first week', async () => {
    for (const step of [['build'], ['push'], ['deploy', '--port', url.split(':')[2]!]]) {
      const r = await cli(...step);
      expect(r.code, `${step[0]}: ${r.stderr}`).toBe(0);
    }
    await send(Array.from({ length: N }, (_, i) => usual(i)));
    await send(Array.from({ length: N }, (_, i) => shifted(i)));

    // All of it is today's: the first week is still running, so there is nothing to compare yet.
    const young = await cli('drift-check', '--json');
    expect(young.code, young.stderr).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(young).error).toMatchObject({
      code: 'not_enough_predictions',
      message: expect.stringMatching(/younger than a week/),
    });

    // Date the usual traffic ten days back.
    const logs = path.join(dir, '.mlship', 'logs');
    const files = readdirSync(logs).filter((f) => f.startsWith('predictions-'));
    const lines = files.flatMap((f) =>
      readFileSync(path.join(logs, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Line),
    );
    expect(lines).toHaveLength(2 * N);
    for (const f of files) rmSync(path.join(logs, f));
    writeDaily(logs, [...at(lines.slice(0, N), Date.now() - 10 * DAY), ...lines.slice(N)]);

    const r = await cli('drift-check', '--json', '--report', 'drift.html');
    expect(r.code, r.stderr).toBe(3);
    const doc = json<{ drift: boolean; rows: number; critical_drifted: string[]; drifted: string[]; baseline: { rows: number } }>(r);
    expect(doc).toMatchObject({ drift: true, rows: N, baseline: { rows: N } });
    expect(doc.critical_drifted).toContain('finish_reason');
    expect(doc.drifted).toEqual(expect.arrayContaining(['prompt_tokens', 'prompt_script', 'finish_reason']));
    expect(readFileSync(path.join(dir, 'drift.html'), 'utf8')).toContain('data-feature="finish_reason"');
  }, 600_000);
});
