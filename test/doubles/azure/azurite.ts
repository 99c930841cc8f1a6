/**
 * Azurite (npm `azurite`, the Azure Storage emulator, pinned devDependency) serving blobs over HTTPS
 * with OAuth (`--oauth basic`: bearer tokens are checked for issuer, audience and expiry, not
 * signature), in memory, on a free loopback port. Started by the tests themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { connect } from 'node:net';
import { freePort } from '../../../src/targets/local/processes.js';
import type { TestCertificate } from './tls.js';

export const ACCOUNT = 'devstoreaccount1';

export interface Azurite {
  /** `https://127.0.0.1:PORT/devstoreaccount1` */
  url: string;
  host: string;
  stop(): Promise<void>;
}

function azuriteBlobBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`azurite exited (${child.exitCode}): ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`azurite did not listen on ${port}: ${log()}`);
}

export async function startAzurite(tls: TestCertificate): Promise<Azurite> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      azuriteBlobBin(),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--inMemoryPersistence',
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
      '--cert',
      tls.certFile,
      '--key',
      tls.keyFile,
      '--oauth',
      'basic',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitForPort(port, child, () => out);
  const host = `127.0.0.1:${port}`;
  return {
    url: `https://${host}/${ACCOUNT}`,
    host,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
