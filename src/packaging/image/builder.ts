/**
 * The image builders behind one small interface: docker, podman and buildah (daemonless, the usual
 * choice in CI runners and Kubernetes build pods). `selectBuilder` is the one place that picks one:
 * the first that works here, or the one `--builder` forces. Build, push and the image test all go
 * through an `ImageBuilder`; nothing else runs a container tool.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Reporter } from '../../util/reporter.js';
import { OperationError, UsageError } from '../../util/errors.js';

/** The container tools mlship builds and pushes images with, in the order it tries them. */
export const BUILDER_NAMES = ['docker', 'podman', 'buildah'] as const;
export type BuilderName = (typeof BUILDER_NAMES)[number];

/** The image a build was built into, as build.json records it. */
export interface ImageInfo {
  /** The image id: sha256 digest of the image config, `sha256:<64 hex>`, whichever builder made it. */
  id: string;
  tag: string;
  platform: string;
  builder: BuilderName;
  /** Size of the image's layers, uncompressed (bytes). */
  bytes?: number;
}

/** A login for one registry, e.g. from the cloud's token; the password reaches the tool on stdin only. */
export interface RegistryCredentials {
  /** The registry host (a URL's scheme is dropped), e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com`. */
  server: string;
  username: string;
  password: string;
}

/** One container tool. */
export interface ImageBuilder {
  readonly name: BuilderName;
  /** Undefined when the tool works here, else why not (one line). */
  probe(): Promise<string | undefined>;
  /** Build the context in `dir` into `tag`; progress streams to the output (all of it with --verbose). */
  build(options: { dir: string; tag: string; platform: string; output: Reporter }): Promise<ImageInfo>;
  /** The image's id and size when `ref` (an id or a name) is in the tool's store. */
  inspect(ref: string): Promise<{ id: string; bytes?: number } | undefined>;
  /** Give an image one more name. */
  tag(image: string, ref: string): Promise<void>;
  /**
   * Push `ref` to its registry. The credentials go to the tool's `login --password-stdin` writing into
   * a throwaway folder (DOCKER_CONFIG / --authfile), removed afterwards: never on a command line, never
   * in the user's own credential store. Returns the pushed manifest digest when the tool reports it.
   */
  push(ref: string, login: RegistryCredentials): Promise<{ digest?: string }>;
}

/** A builder's process runner: its own binary, the caller's environment only. */
export type Runner = (
  args: string[],
  options?: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number },
) => Promise<{ exitCode: number | undefined; stdout: string; stderr: string; all: string; missing: boolean }>;

/** Run `bin` with `env` (and nothing else of this process's environment). */
export function runner(bin: string, env: NodeJS.ProcessEnv): Runner {
  return async (args, options = {}) => {
    const r = await execa(bin, args, {
      reject: false,
      env: { ...env, ...options.env },
      extendEnv: false,
      all: true,
      ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
      ...(options.timeout !== undefined && { timeout: options.timeout }),
    });
    return {
      exitCode: r.exitCode,
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      all: String(r.all ?? ''),
      missing: (r as { code?: string }).code === 'ENOENT',
    };
  };
}

/** `sha256:<hex>` whatever form the tool printed the id in. */
export function normaliseId(id: string): string {
  const hex = id.trim().replace(/^sha256:/, '');
  return `sha256:${hex}`;
}

/** The last meaningful line of a tool's output, for one-line reasons. */
export function lastLine(text: string, fallback = 'no output'): string {
  return (
    text
      .trim()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? fallback
  );
}

/** Fail with the tail of the tool's output and a hint. */
export function toolFailed(code: 'image_build_failed' | 'image_push_failed', what: string, output: string, hint: string): OperationError {
  const tail = output.trim().split('\n').slice(-15).join('\n');
  return new OperationError(code, `${what} failed${tail ? `:\n${tail}` : ''}`, { hint });
}

/** The registry host of a login (`https://host/` → `host`): what `login` takes from every tool. */
export function registryHost(server: string): string {
  return server.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

/** A temporary 0700 folder for a login's credentials, removed when `use` returns or throws. */
export async function withCredentialsDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlship-auth-'));
  try {
    return await use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stream a build's output: progress lines, everything with --verbose; returns the whole output. */
export async function streamBuild(name: BuilderName, args: string[], tag: string, env: NodeJS.ProcessEnv, output: Reporter): Promise<string> {
  const progress = await output.progress(`${name} build ${tag}`);
  const child = execa(name, args, { reject: false, env, extendEnv: false, all: true, stdin: 'ignore', buffer: { all: true } });
  child.all?.on('data', (chunk: Buffer) => {
    if (output.verbose) output.stderr.write(chunk);
    else {
      const line = chunk.toString().trim().split('\n').pop();
      if (line) progress.update(`${name} build: ${line.slice(0, 100)}`);
    }
  });
  const r = await child;
  if (r.exitCode !== 0) {
    progress.fail(`${name} build failed`);
    throw toolFailed(
      'image_build_failed',
      `\`${name} ${args.join(' ')}\` (exit ${r.exitCode ?? 'none'})`,
      String(r.all ?? ''),
      'Fix the error above and build again (--verbose shows the whole log), or pass --no-image to skip the image.',
    );
  }
  progress.stop();
  return String(r.all ?? '');
}

/** Why `--builder` got a name mlship does not know. */
export function unknownBuilder(name: string): UsageError {
  return new UsageError(`--builder ${name} is not a builder mlship knows`, { code: 'builder_unknown', hint: `Use one of: ${BUILDER_NAMES.join(', ')}.` });
}
