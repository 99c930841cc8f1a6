/**
 * The local router's own overhead, without Python in the way: p50 of a keep-alive request through
 * the router vs straight to the same stub backend (a Node server answering like the app: JSON with
 * X-Request-Id and Server-Timing), one connection, alternating rounds. `npm run bench -- local`
 * measures the same through a real deploy.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '../../src/targets/local/router.js';
import type { BenchRow } from './run.js';

const BODY = JSON.stringify({ tenure_months: 3, monthly_charges: 80.5, support_calls: 2, plan: 'pro', payment_method: 'card' });

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function post(port: number, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/predict',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

async function times(port: number, agent: Agent, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await post(port, agent);
    out.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  return out;
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function bench(): Promise<BenchRow[]> {
  const backend = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = '{"id":"abc","version":"v1","prediction":0.68}';
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-request-id': 'abc',
        'x-model-version': 'v1',
        'server-timing': 'validate;dur=0.1, model;dur=1',
        'content-length': body.length,
      });
      res.end(body);
    });
  });
  const backendPort = await listen(backend);
  const router = new Router();
  router.switchTo({ url: `http://127.0.0.1:${backendPort}`, version: 'v1' });
  const front = createServer({ keepAliveTimeout: 5000 }, router.handle);
  const frontPort = await listen(front);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await times(backendPort, agent, 500);
    await times(frontPort, agent, 500);
    const direct: number[] = [];
    const routed: number[] = [];
    for (let round = 0; round < 10; round++) {
      direct.push(...(await times(backendPort, agent, 300)));
      routed.push(...(await times(frontPort, agent, 300)));
    }
    const overhead = p50(routed) - p50(direct);
    return [
      {
        name: 'local router overhead per request, p50 (stub backend, keep-alive)',
        value: overhead,
        unit: 'µs',
        baseline: { name: 'direct p50', value: p50(direct) },
        aim: '<= 300 µs',
        ok: overhead <= 300,
      },
    ];
  } finally {
    agent.destroy();
    front.closeAllConnections();
    backend.closeAllConnections();
    front.close();
    backend.close();
  }
}
