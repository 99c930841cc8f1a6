/**
 * The local target: time from `mlship deploy` to the first successful prediction, and the latency
 * the router adds per request, measured against calling the serving app directly in the same run.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import path from 'node:path';
import { cliFailure, copyExample, python, runCli } from '../helpers/cli.js';
import { churnRecord, postJson } from '../helpers/http.js';
import { freePort } from '../../src/targets/local/processes.js';
import type { BenchRow } from './run.js';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

async function timeRequests(url: string, agent: Agent, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = await postJson(url, churnRecord, agent);
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.body}`);
    out.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  return out;
}

export async function bench(): Promise<BenchRow[]> {
  const { dir, cleanup } = copyExample();
  const env = { MLSHIP_PYTHON: python };
  const cli = (...args: string[]) => runCli(args, { cwd: dir, env });
  try {
    for (const step of [['build', '--no-image'], ['push']]) {
      const r = await cli(...step, '--json');
      if (r.code !== 0) throw cliFailure(step[0]!, r);
    }
    const port = await freePort();
    const started = Date.now();
    const deploy = runCli(['deploy', '--port', String(port)], { cwd: dir, env });
    // Poll the stable URL as a user's client would, from the moment the command starts.
    let firstOk = 0;
    while (!firstOk) {
      const ok = await postJson(`http://127.0.0.1:${port}/predict`, churnRecord).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) firstOk = Date.now();
      else await new Promise((r) => setTimeout(r, 20));
    }
    await deploy;
    const deployToFirst = firstOk - started;

    const state = JSON.parse(readFileSync(path.join(dir, '.mlship/deploy/state.json'), 'utf8')) as { live: { port: number } };
    const direct = `http://127.0.0.1:${state.live.port}/predict`;
    const routed = `http://127.0.0.1:${port}/predict`;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await timeRequests(direct, agent, 200);
    await timeRequests(routed, agent, 200);
    const d: number[] = [];
    const r: number[] = [];
    for (let round = 0; round < 10; round++) {
      d.push(...(await timeRequests(direct, agent, 200)));
      r.push(...(await timeRequests(routed, agent, 200)));
    }
    agent.destroy();
    const dp50 = percentile(d, 0.5);
    const rp50 = percentile(r, 0.5);
    return [
      { name: 'local: mlship deploy → first successful prediction', value: deployToFirst, unit: 'ms' },
      { name: 'local: request p50 through the router', value: rp50, unit: 'µs', baseline: { name: 'direct to the app', value: dp50 }, ratio: rp50 / dp50 },
      { name: 'local: router overhead per request (p50)', value: rp50 - dp50, unit: 'µs' },
      { name: 'local: request p99 through the router', value: percentile(r, 0.99), unit: 'µs', baseline: { name: 'direct p99', value: percentile(d, 0.99) } },
    ];
  } finally {
    await cli('stop');
    cleanup();
  }
}
