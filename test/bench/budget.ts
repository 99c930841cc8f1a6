/**
 * The load generator's ceiling: `runLoadTest` unthrottled against a trivial HTTP server in its own
 * process (so the two do not share an event loop). The budget load test must never be what limits the
 * rate it measures; the aim is 10× the example's expected rate (50 rps), with room to spare.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { urlClient } from '../../src/budget/budget.js';
import { runLoadTest } from '../../src/budget/load-test.js';
import type { BenchRow } from './run.js';

const SERVER = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'server-timing': 'validate;dur=0.01, features;dur=0.02, model;dur=0.03, post;dur=0.01, log;dur=0.01' });
    res.end('{"prediction":0.5}');
  });
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

export async function bench(): Promise<BenchRow[]> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    const url = `http://127.0.0.1:${chunk.toString().trim()}/predict`;
    const body = JSON.stringify({ tenure_months: 12, monthly_charges: 70.5, support_calls: 1, plan: 'pro', payment_method: 'card' });
    const r = await runLoadTest({ client: urlClient(url), bodies: [body], durationSeconds: 3, connections: 10, warmupRequests: 20 });
    const aim = 500;
    return [
      {
        name: 'budget load generator max rate (trivial server, 10 connections)',
        value: r.achievedRps,
        unit: 'rps',
        aim: `>= ${aim} (10× the example's 50 rps)`,
        ok: r.achievedRps >= aim,
      },
      { name: 'budget load generator CPU at max rate', value: r.generator.cpuPercent, unit: '% of a core' },
    ];
  } finally {
    child.kill();
  }
}
