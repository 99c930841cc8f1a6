/**
 * A throwaway certificate for the Azure doubles (generated per start with the system `openssl`, for
 * 127.0.0.1 and localhost) and how clients trust it. The spawned CLI trusts it through Node's own
 * `NODE_EXTRA_CA_CERTS` (what `npm run fake -- azure` prints); code running inside a test process,
 * where that variable cannot take effect any more, sends through `trustingHttpClient`, which sets
 * the certificate as the request's CA on the Azure SDKs' default HTTP client (the same pipeline).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';

export interface TestCertificate {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export function makeCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlship-azure-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const openssl = spawnSync('openssl', ['version'], { stdio: 'ignore' });
  if (openssl.status !== 0) throw new Error('the Azure doubles need the system `openssl` to make a throwaway certificate (apt-get install openssl)');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { dir, certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

/** The Azure SDKs' default HTTP client, trusting `ca` for every request it sends. */
export function trustingHttpClient(ca: string): HttpClient {
  const inner = createDefaultHttpClient();
  return {
    sendRequest(request) {
      request.tlsSettings = { ...request.tlsSettings, ca };
      return inner.sendRequest(request);
    },
  };
}
