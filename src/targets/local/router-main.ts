/**
 * Process entry of the local router (started detached by `mlship deploy`):
 *
 *   node router-main.js '{"port":8080,"backend":{"url":…,"version":"v2"},"token":"…","readyFile":"…"}'
 *
 * Writes `{pid, port, controlPort}` to `readyFile` once both listeners are up; on SIGTERM stops
 * accepting, lets requests in flight finish, and exits.
 */
import { writeJsonAtomic } from '../../util/fs.js';
import { controlServer, Router, type Backend } from './router.js';
import { createServer, type Server } from 'node:http';

interface RouterArgs {
  port: number;
  host?: string;
  backend: Backend;
  token: string;
  readyFile: string;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

async function start(args: RouterArgs): Promise<void> {
  const router = new Router();
  router.switchTo(args.backend);
  const front = createServer({ keepAliveTimeout: 5000 }, router.handle);
  const control = controlServer(router, args.token);
  const host = args.host ?? '127.0.0.1';
  try {
    const port = await listen(front, args.port, host);
    const controlPort = await listen(control, 0, '127.0.0.1');
    writeJsonAtomic(args.readyFile, { pid: process.pid, port, controlPort });
  } catch (error) {
    writeJsonAtomic(args.readyFile, { pid: process.pid, error: (error as NodeJS.ErrnoException).code ?? String(error) });
    process.exitCode = 1;
    front.close();
    control.close();
    return;
  }
  const shutdown = () => {
    front.close(() => control.close());
    front.closeIdleConnections();
    setTimeout(() => front.closeAllConnections(), 10_000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

await start(JSON.parse(process.argv[2] ?? '{}') as RouterArgs);
