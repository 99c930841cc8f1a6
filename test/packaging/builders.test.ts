/**
 * The image builders behind their one interface, with stand-in CLIs that record what they are asked
 * (the real tools are exercised by image.test.ts): which one is picked, that a forced one must work,
 * that credentials reach the tool on stdin into a throwaway auth folder, and that a build on the local
 * target never touches a container tool (a podman that cannot pull must not fail it).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imageWanted } from '../../src/packaging/index.js';
import { selectBuilder } from '../../src/packaging/image/select.js';
import { copyExample, json, python, runCli, tempDir } from '../helpers/cli.js';

let tmp: { dir: string; cleanup: () => void };
let bin: string;
let log: string;

/**
 * A stand-in tool: logs `name args` (and stdin for login), answers `version`/`info` as `works` says;
 * `runs: false` is a podman whose `info` answers but which cannot start a container (crun in a VM).
 */
function tool(name: string, options: { works: boolean; runs?: boolean }): void {
  const script = `#!/bin/sh
echo "${name} $*" >> "${log}"
case "$1" in
  version|info) ${options.works ? 'exit 0' : 'echo "Cannot connect to the daemon" >&2; exit 1'} ;;
  run) ${options.runs === false ? 'echo "Error: crun: setrlimit RLIMIT_NPROC: Operation not permitted: OCI permission denied" >&2; exit 126' : 'exit 0'} ;;
  login) echo "stdin $(cat)" >> "${log}"
         for a in "$@"; do case "$prev" in --authfile) echo "authfile $a" >> "${log}"; touch "$a" ;; esac; prev="$a"; done
         [ -n "$DOCKER_CONFIG" ] && echo "docker_config $DOCKER_CONFIG" >> "${log}"
         exit 0 ;;
  push) for a in "$@"; do case "$prev" in --digestfile) printf 'sha256:%064d' 7 > "$a" ;; esac; prev="$a"; done
        echo "digest: sha256:$(printf '%064d' 8) size: 1"; exit 0 ;;
  *) exit 0 ;;
esac
`;
  writeFileSync(path.join(bin, name), script);
  chmodSync(path.join(bin, name), 0o755);
}

/** Only the stand-ins (and what they use) on the PATH: the machine's real tools stay out of these tests. */
const env = () => ({ PATH: bin });

beforeEach(() => {
  tmp = tempDir('mlship-builders-');
  bin = path.join(tmp.dir, 'bin');
  mkdirSync(bin);
  for (const util of ['cat', 'touch']) symlinkSync(execFileSync('sh', ['-c', `command -v ${util}`], { encoding: 'utf8' }).trim(), path.join(bin, util));
  log = path.join(tmp.dir, 'calls.log');
  writeFileSync(log, '');
});
afterEach(() => tmp.cleanup());

describe('selectBuilder: the one place that picks the builder', () => {
  it('takes the first that works, in the order docker, podman, buildah', async () => {
    tool('docker', { works: false });
    tool('buildah', { works: true });
    const choice = await selectBuilder(env());
    expect('builder' in choice && choice.builder.name).toBe('buildah');
    tool('podman', { works: true });
    const again = await selectBuilder(env());
    expect('builder' in again && again.builder.name).toBe('podman');
  });

  it('passes over a podman that answers `info` but cannot run a container, for buildah', async () => {
    tool('docker', { works: false });
    tool('podman', { works: true, runs: false });
    tool('buildah', { works: true });
    const choice = await selectBuilder(env());
    expect('builder' in choice && choice.builder.name).toBe('buildah');
    expect(readFileSync(log, 'utf8')).toContain('podman run --rm --network none --rootfs /:O true');
    // Forced, it is refused with what went wrong.
    await expect(selectBuilder(env(), 'podman')).rejects.toMatchObject({
      code: 'builder_unavailable',
      message: expect.stringContaining("cannot run a container, as a build's RUN step needs (Error: crun: setrlimit RLIMIT_NPROC"),
    });
    tool('podman', { works: true, runs: true });
    const fresh = await selectBuilder({ PATH: `${bin}${path.delimiter}${path.join(tmp.dir, 'other')}` });
    expect('builder' in fresh && fresh.builder.name).toBe('podman');
  });

  it('asks each tool once per process (and PATH); a missing one is looked for again', async () => {
    tool('docker', { works: false });
    tool('podman', { works: true });
    for (let i = 0; i < 3; i++) expect(await selectBuilder(env())).toMatchObject({ builder: { name: 'podman' } });
    expect(await selectBuilder(env(), 'podman')).toMatchObject({ builder: { name: 'podman' } });
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.filter((c) => c.startsWith('docker version'))).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('podman info'))).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('podman run'))).toHaveLength(1);
    tool('buildah', { works: true });
    expect(await selectBuilder(env(), 'buildah')).toMatchObject({ builder: { name: 'buildah' } });
  });

  it('prefers the builder that built the image being pushed, when it works', async () => {
    tool('docker', { works: true });
    tool('buildah', { works: true });
    const choice = await selectBuilder(env(), undefined, 'buildah');
    expect('builder' in choice && choice.builder.name).toBe('buildah');
  });

  it('says why when none works, naming the installed ones that do not answer', async () => {
    tool('docker', { works: false });
    const choice = await selectBuilder(env());
    expect(choice).toEqual({ skipped: expect.stringContaining('docker is installed but does not answer (Cannot connect to the daemon)') });
    expect(await selectBuilder({ PATH: path.join(tmp.dir, 'empty') })).toEqual({ skipped: 'no docker, podman, buildah on the PATH' });
  });

  it('--builder forces one: it must work (exit 1) and be a known name (exit 2)', async () => {
    tool('docker', { works: false });
    tool('buildah', { works: true });
    const forced = await selectBuilder(env(), 'buildah');
    expect('builder' in forced && forced.builder.name).toBe('buildah');
    await expect(selectBuilder(env(), 'docker')).rejects.toMatchObject({
      code: 'builder_unavailable',
      exitCode: 1,
      hint: expect.stringContaining('--builder'),
    });
    await expect(selectBuilder(env(), 'kaniko')).rejects.toMatchObject({ code: 'builder_unknown', exitCode: 2 });
    await expect(selectBuilder({ ...env(), MLSHIP_BUILDER: 'kaniko' })).rejects.toMatchObject({ code: 'builder_unknown' });
  });
});

describe('push: credentials on stdin only, into a throwaway auth folder', () => {
  // ECR hands out the registry as a URL: every tool logs in to the host.
  const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
  const auth = { server: `https://${host}`, username: 'AWS', password: 's3cr3t-token' };
  const ref = `${host}/mlship/churn:abc`;

  it.each(['buildah', 'podman', 'docker'] as const)('%s', async (name) => {
    tool(name, { works: true });
    const choice = await selectBuilder(env(), name);
    if (!('builder' in choice)) throw new Error('no builder');
    const pushed = await choice.builder.push(ref, auth);
    const calls = readFileSync(log, 'utf8');
    // The secret is on stdin, never on a command line.
    expect(calls).toContain(`stdin ${auth.password}`);
    for (const line of calls.split('\n').filter((l) => l.startsWith(`${name} `))) expect(line).not.toContain(auth.password);
    expect(calls).toMatch(new RegExp(`${name} login .*--password-stdin ${host.replace(/[.]/g, '\\.')}\n`));
    expect(calls).toMatch(new RegExp(`${name} push .*${ref.replace(/[.]/g, '\\.')}`));
    // The login went to a temporary folder (DOCKER_CONFIG / --authfile), gone after the push.
    const where = /(?:authfile|docker_config) (\S+)/.exec(calls)?.[1];
    expect(where).toMatch(/mlship-auth-/);
    expect(existsSync(where!)).toBe(false);
    expect(pushed.digest).toMatch(/^sha256:0+[78]$/);
  });
});

describe('which builds make an image', () => {
  it('imageWanted: only targets that deploy images, unless --image or --no-image says otherwise', () => {
    expect(imageWanted(undefined, { name: 'local', deploysImages: false })).toEqual({ skip: expect.stringContaining('--image builds one') });
    expect(imageWanted(undefined, { name: 'sagemaker', deploysImages: true })).toBe('if-available');
    expect(imageWanted(true, { name: 'local', deploysImages: false })).toBe('required');
    expect(imageWanted(false, { name: 'vertex', deploysImages: true })).toEqual({ skip: 'skipped (--no-image)' });
  });

  it('mlship build on the local target never runs a container tool; --image then fails clearly when none works', async () => {
    // podman installed but unable to work (cannot pull the base, no cgroups): the local build must not care.
    tool('podman', { works: false });
    const project = copyExample();
    try {
      const run = (...args: string[]) =>
        runCli(args, { cwd: project.dir, env: { MLSHIP_PYTHON: python, PATH: `${bin}:${process.env.PATH}`, MLSHIP_BUILDER: '' }, timeoutMs: 180_000 });
      const built = await run('build', '--json');
      expect(built.code, built.stderr).toBe(0);
      expect(json<{ imageSkipped: string }>(built).imageSkipped).toMatch(/not needed: the local target/);
      expect(readFileSync(log, 'utf8')).toBe('');

      const forced = await run('build', '--image', '--builder', 'podman', '--json');
      expect(forced.code).toBe(1);
      expect(json<{ error: { code: string; message: string } }>(forced).error).toMatchObject({
        code: 'builder_unavailable',
        message: expect.stringContaining('podman'),
      });
      const unknown = await run('build', '--builder', 'kaniko');
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('docker, podman, buildah');
    } finally {
      project.cleanup();
    }
  }, 240_000);
});
