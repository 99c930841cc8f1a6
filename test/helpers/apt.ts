/**
 * The one way `npm test` installs a Debian package it needs (Chromium, buildah, debootstrap, openssl):
 * `apt-get update && apt-get install -y <packages>`, quietly. False when apt-get is missing or fails;
 * each caller then skips or fails with the line that fixes it.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';

export function aptInstall(packages: string[]): boolean {
  const opts: SpawnSyncOptions = { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) return false;
  if (spawnSync('apt-get', ['update', '-qq'], opts).status !== 0) return false;
  return spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], opts).status === 0;
}
