import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Router } from '../../../src/targets/local/router.js';

const servers: Server[] = [];

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A backend that answers with its version after a small, variable delay (so requests overlap a switch). */
async function backend(version: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-model-version': version });
        res.end(JSON.stringify({ version, echo: body }));
      }, Math.random() * 5);
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, server };
}

function post(port: number, agent: Agent, body: string): Promise<{ status: number; version: string; echo: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/predict', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const parsed = JSON.parse(text) as { version: string; echo: string };
        resolve({ status: res.statusCode ?? 0, version: parsed.version, echo: parsed.echo });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('Router', () => {
  it('answers 503 with a hint when nothing is live', async () => {
    const router = new Router();
    const port = await listen(createServer(router.handle));
    const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'no version is live', hint: 'run `mlship deploy`' });
  });

  it('switches versions ten times under continuous load without failing or misrouting a request', async () => {
    const router = new Router();
    const port = await listen(createServer({ keepAliveTimeout: 5000 }, router.handle));
    let live = await backend('v0');
    router.switchTo({ url: live.url, version: 'v0' });

    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const results: { sentAt: number; version: string; status: number; ok: boolean }[] = [];
    const failures: string[] = [];
    let stop = false;
    let seq = 0;
    // 8 concurrent clients sending back to back: a few hundred requests per second and more.
    const clients = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const n = seq++;
        const sentAt = Date.now();
        try {
          const r = await post(port, agent, JSON.stringify({ n }));
          results.push({ sentAt, version: r.version, status: r.status, ok: r.status === 200 && r.echo === JSON.stringify({ n }) });
        } catch (error) {
          failures.push(String(error));
        }
      }
    });

    const switches: { version: string; at: number }[] = [];
    // Each version serves some traffic before the next switch (counted, not timed: machines are noisy).
    const served = async (n: number) => {
      const target = results.length + n;
      while (results.length < target) await new Promise((r) => setTimeout(r, 5));
    };
    for (let i = 1; i <= 10; i++) {
      await served(20);
      const next = await backend(`v${i}`);
      const old = live;
      router.switchTo({ url: next.url, version: `v${i}` });
      switches.push({ version: `v${i}`, at: Date.now() });
      live = next;
      // What deploy does: wait for the old version's requests to finish, then stop it hard.
      expect(await router.drain(old.url, 5000)).toBe(true);
      old.server.closeAllConnections();
      old.server.close();
    }
    await served(20);
    stop = true;
    await Promise.all(clients);
    agent.destroy();

    expect(failures).toEqual([]);
    expect(results.length).toBeGreaterThan(200);
    expect(results.every((r) => r.ok)).toBe(true);
    // A request sent after a switch completed is never answered by an older version.
    for (const r of results) {
      const after = switches.filter((s) => s.at < r.sentAt).at(-1);
      if (after) expect(Number(r.version.slice(1))).toBeGreaterThanOrEqual(Number(after.version.slice(1)));
    }
    const seen = new Set(results.map((r) => r.version));
    expect(seen.has('v0') && seen.has('v10')).toBe(true);
  });

  it('retries a request whose backend vanished before answering on the live one', async () => {
    const router = new Router();
    const port = await listen(createServer(router.handle));
    const dead = await backend('dead');
    const deadUrl = dead.url;
    dead.server.close();
    router.switchTo({ url: deadUrl, version: 'dead' });
    const good = await backend('v1');
    // Switch while the first attempt fails with ECONNREFUSED: the retry lands on v1.
    setTimeout(() => router.switchTo({ url: good.url, version: 'v1' }), 1);
    const r = await post(port, new Agent(), '{"x":1}');
    expect(r).toMatchObject({ status: 200, version: 'v1' });
  });
});
