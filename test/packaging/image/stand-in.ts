/**
 * The stand-in for `python:3.11-slim` the real image test builds on (Docker Hub is unreachable here),
 * made by stand-in-base.sh and cached in buildah's image store between runs. The cache key is the
 * sha256 of the script and of the build's requirements.txt, kept as the image label
 * `io.mlship.stand-in`: a change to either (new pins, another flavor's wheels) makes it again; so does
 * `buildah rmi docker.io/library/python:3.11-slim`. Its rootfs is made under test/.tmp/stand-in-base
 * and removed once committed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../helpers/cli.js';

export const STAND_IN_TAG = 'docker.io/library/python:3.11-slim';
const SCRIPT = fileURLToPath(new URL('./stand-in-base.sh', import.meta.url));

/** The label value the current script and requirements give. */
export function standInKey(requirementsFile: string): string {
  return createHash('sha256').update(readFileSync(SCRIPT)).update('\0').update(readFileSync(requirementsFile)).digest('hex').slice(0, 16);
}

/** Make the stand-in unless buildah's store has it with the same key; how long it took. */
export function ensureStandInBase(requirementsFile: string): { key: string; reused: boolean; seconds: number; bytes: number } {
  const key = standInKey(requirementsFile);
  const started = Date.now();
  let found = inspect();
  const reused = found?.key === key;
  if (!reused) {
    const r = spawnSync('bash', [SCRIPT, path.join(repoRoot, 'test', '.tmp', 'stand-in-base'), requirementsFile, key], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 20 * 60_000,
    });
    if (r.status !== 0) throw new Error(`the stand-in base image could not be made (stand-in-base.sh exit ${r.status ?? r.signal}); see the lines above`);
    found = inspect();
    if (found?.key !== key) throw new Error(`stand-in-base.sh ran but ${STAND_IN_TAG} does not carry key ${key}`);
  }
  return { key, reused, seconds: (Date.now() - started) / 1000, bytes: found!.bytes };
}

function inspect(): { key?: string; bytes: number } | undefined {
  const r = spawnSync('buildah', ['inspect', '--type', 'image', STAND_IN_TAG], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const data = JSON.parse(r.stdout) as { OCIv1?: { config?: { Labels?: Record<string, string> } }; Manifest?: string };
  const layers = (JSON.parse(data.Manifest ?? '{}') as { layers?: { size?: number }[] }).layers ?? [];
  return { key: data.OCIv1?.config?.Labels?.['io.mlship.stand-in'], bytes: layers.reduce((s, l) => s + (l.size ?? 0), 0) };
}
