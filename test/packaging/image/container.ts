/**
 * Run a built image the way a platform does, without a daemon: `buildah from` a working container,
 * put the model where the platform mounts it, then `buildah run --isolation chroot` the image's own
 * ENTRYPOINT + CMD as the image's USER with the platform's environment. SIGTERM goes to the app
 * process itself, as a container runtime sends it to PID 1 (`buildah run` does not forward it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** What `buildah run` needs from the image's config. */
export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  user: string;
  workingDir: string;
}

function buildah(args: string[]): string {
  const r = spawnSync('buildah', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`buildah ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** The image's ENTRYPOINT, CMD, USER and WORKDIR. */
export function imageConfig(image: string): ImageConfig {
  const data = JSON.parse(buildah(['inspect', '--type', 'image', image])) as {
    OCIv1: { config: { Entrypoint?: string[]; Cmd?: string[]; User?: string; WorkingDir?: string } };
  };
  const c = data.OCIv1.config;
  return { entrypoint: c.Entrypoint ?? [], cmd: c.Cmd ?? [], user: c.User ?? '0', workingDir: c.WorkingDir ?? '/' };
}

/** A running container. */
export interface Container {
  name: string;
  /** Everything the container wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with `buildah run`'s exit code when the container ends. */
  exited: Promise<number | null>;
  /** Send a signal to the app (the entrypoint's process). */
  signal(sig: NodeJS.Signals): void;
  /** The host path of the container's file system (mounted on first use). */
  rootfs(): string;
  /** Kill what is left and remove the working container. */
  remove(): void;
}

/** Start `image` with `env`; `prepare` copies files in first (`buildah add`/`copy`). `args` replaces CMD. */
export function startContainer(image: string, options: { env: Record<string, string>; args?: string[]; prepare?: (name: string) => void }): Container {
  const config = imageConfig(image);
  const name = buildah(['from', '--pull=false', image]);
  let child: ChildProcess | undefined;
  try {
    options.prepare?.(name);
    const envArgs = Object.entries(options.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const command = [...config.entrypoint, ...(options.args ?? config.cmd)];
    child = spawn('buildah', ['run', '--isolation', 'chroot', '--user', config.user, ...envArgs, name, '--', ...command], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    spawnSync('buildah', ['rm', name]);
    throw error;
  }
  const run = child;
  let text = '';
  run.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  run.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => run.on('close', (code) => resolve(code)));
  let mounted: string | undefined;
  return {
    name,
    output: () => text,
    exited,
    signal(sig) {
      const pid = appPid(run.pid!);
      if (pid === undefined) throw new Error(`no app process under buildah run (pid ${run.pid}):\n${text}`);
      process.kill(pid, sig);
    },
    rootfs() {
      mounted ??= buildah(['mount', name]);
      return mounted;
    },
    remove() {
      if (run.exitCode === null) run.kill('SIGKILL');
      for (const pid of descendants(run.pid!)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('buildah', ['rm', name]);
    },
  };
}

/** Every process under `root` (from /proc). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const [child, ppid] of parent) if (ppid === pid) out.push(child), walk(child);
  };
  walk(root);
  return out;
}

/** The entrypoint's process: the child of `buildah-chroot-exec` (what PID 1 is in a container). */
function appPid(buildahPid: number): number | undefined {
  const all = descendants(buildahPid);
  const exec = all.find((pid) => cmdline(pid)[0]?.endsWith('buildah-chroot-exec'));
  if (exec === undefined) return undefined;
  return all.find((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === exec;
    } catch {
      return false;
    }
  });
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}
