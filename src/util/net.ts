/** Loopback networking helpers shared by the local target and the build's measurements. */
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (the kernel picks; the port is released before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
