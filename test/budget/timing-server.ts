/**
 * A tiny HTTP server for budget tests: answers POST /predict like the serving app does, with a
 * `Server-Timing` header of the stages it was told to take (sleeping the slow ones for real).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TimingServerOptions {
  /** Stage → milliseconds to spend (and report). */
  stages?: Record<string, number>;
  /** Answer with this status instead of 200. */
  status?: number;
  /** Leave the Server-Timing header out. */
  noTiming?: boolean;
}

export interface TimingServer {
  url: string;
  requests: () => number;
  close: () => Promise<void>;
}

export async function startTimingServer(options: TimingServerOptions = {}): Promise<TimingServer> {
  const stages = options.stages ?? { validate: 0.1, features: 0.3, model: 0.5, post: 0.05, log: 0.05 };
  let count = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      count++;
      const wait = Object.values(stages).reduce((a, b) => a + b, 0);
      const answer = () => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (!options.noTiming)
          headers['server-timing'] = Object.entries(stages)
            .map(([k, v]) => `${k};dur=${v}`)
            .join(', ');
        res.writeHead(options.status ?? (req.method === 'POST' && req.url === '/predict' ? 200 : 404), headers);
        res.end(JSON.stringify({ prediction: 0.5, echo: body.length }));
      };
      if (wait >= 1) setTimeout(answer, wait);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
