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

  describe('canary', () => {
    /** A backend answering `status` (the failing canary answers 500). */
    async function answering(version: string, status: number): Promise<{ url: string }> {
      const server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(status, { 'content-type': 'application/json', 'x-model-version': version });
          res.end(JSON.stringify({ version, echo: '' }));
        });
      });
      return { url: `http://127.0.0.1:${await listen(server)}` };
    }

    it('splits by weight exactly (every tenth request at 10%) and counts only the canary, then resets on read', async () => {
      const router = new Router();
      const port = await listen(createServer(router.handle));
      const v1 = await backend('v1');
      const v2 = await backend('v2');
      router.switchTo({ url: v1.url, version: 'v1' });
      router.split({ url: v2.url, version: 'v2' }, 10);
      const agent = new Agent({ keepAlive: true });
      const seen: string[] = [];
      for (let i = 0; i < 50; i++) seen.push((await post(port, agent, '{}')).version);
      expect(seen.filter((v) => v === 'v2')).toHaveLength(5);
      expect(seen.slice(0, 10)).toEqual([...Array(9).fill('v1'), 'v2']);
      const stats = router.readStats('v2', 0.95);
      expect(stats).toMatchObject({ requests: 5, errors5xx: 0 });
      expect(stats.latencyMs).toBeGreaterThanOrEqual(0);
      expect(router.readStats('v2', 0.95)).toEqual({ requests: 0, errors5xx: 0 });
      expect(router.readStats('v1', 0.95)).toEqual({ requests: 0, errors5xx: 0 });
      expect(router.state()).toMatchObject({ current: { version: 'v1' }, canary: { version: 'v2', percent: 10 } });
      agent.destroy();
    });

    it("counts the canary's 5xx; reverting sends everything back to the live version", async () => {
      const router = new Router();
      const port = await listen(createServer(router.handle));
      const v1 = await backend('v1');
      const bad = await answering('v2', 500);
      router.switchTo({ url: v1.url, version: 'v1' });
      router.split({ url: bad.url, version: 'v2' }, 50);
      const agent = new Agent({ keepAlive: true });
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await post(port, agent, '{}')).status);
      expect(statuses.filter((s) => s === 500)).toHaveLength(5);
      expect(router.readStats('v2', 0.95)).toMatchObject({ requests: 5, errors5xx: 5 });
      expect(router.switchTo({ url: v1.url, version: 'v1' })).toBeUndefined();
      expect(router.state().canary).toBeUndefined();
      for (let i = 0; i < 10; i++) expect(await post(port, agent, '{}')).toMatchObject({ status: 200, version: 'v1' });
      agent.destroy();
    });

    it('promoting the canary keeps its connections and drains the old live version', async () => {
      const router = new Router();
      const port = await listen(createServer(router.handle));
      const v1 = await backend('v1');
      const v2 = await backend('v2');
      router.switchTo({ url: v1.url, version: 'v1' });
      router.split({ url: v2.url, version: 'v2' }, 20);
      const agent = new Agent({ keepAlive: true, maxSockets: 4 });
      // Load running across the promotion: nothing fails, and after it only v2 answers.
      const inflight = Array.from({ length: 40 }, () => post(port, agent, '{}'));
      expect(router.switchTo({ url: v2.url, version: 'v2' })).toEqual({ url: v1.url, version: 'v1' });
      const during = await Promise.all(inflight);
      expect(during.every((r) => r.status === 200)).toBe(true);
      expect(await router.drain(v1.url, 5_000)).toBe(true);
      for (let i = 0; i < 10; i++) expect(await post(port, agent, '{}')).toMatchObject({ status: 200, version: 'v2' });
      expect(router.state()).toMatchObject({ current: { version: 'v2' }, draining: [] });
      agent.destroy();
    });

    it('refuses a split with nothing live or a share outside 0..100', async () => {
      const router = new Router();
      expect(() => router.split({ url: 'http://127.0.0.1:1', version: 'v2' }, 10)).toThrow(/no live backend/);
      router.switchTo({ url: 'http://127.0.0.1:1', version: 'v1' });
      expect(() => router.split({ url: 'http://127.0.0.1:2', version: 'v2' }, 100)).toThrow(/between 0 and 100/);
    });
  });
});
