/**
 * The handler context: what every command receives instead of globals — the resolved global flags,
 * output, prompts, the manifest loader and the environment.
 */
import path from 'node:path';
import type { ExitCode } from '../util/errors.js';
import type { Manifest } from '../manifest/types.js';
import type { Target } from '../deploy/types.js';
import type { RetrainContext } from '../retrain/context.js';
import type { Output } from './output.js';
import { Prompter } from './prompts.js';

/** Global options shared by every command (DESIGN.md "Commands"). */
export interface GlobalOptions {
  file: string;
  target?: string;
  json: boolean;
  yes: boolean;
  verbose: boolean;
  color: boolean;
}

export interface Context {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly globals: GlobalOptions;
  readonly output: Output;
  readonly prompts: Prompter;
  /** Absolute path of the manifest (`-f`, default `./mlship.yaml`). */
  readonly manifestPath: string;
  /** Project root: the folder holding the manifest. */
  readonly projectDir: string;
  /** Load, validate and resolve the manifest (cached); throws `ManifestError` with every problem. */
  manifest(): Promise<Manifest>;
  /** The manifest's (or `--target`'s) target, created once; `command` is recorded in its history. */
  target(command: string): Promise<Target>;
}

/** What a command returns; the entry point prints it and sets the exit code. */
export interface CommandResult {
  /** The `--json` document. */
  data: unknown;
  /** Human output for stdout (may be empty). */
  text: string;
  /** Defaults to 0; 3 when a check ran and failed. */
  exitCode?: ExitCode;
}

/** A command module: one per file in `src/cli/commands/`. */
export interface CommandModule {
  run(ctx: Context, args: string[], options: Record<string, unknown>): Promise<CommandResult>;
}

export function createContext(globals: GlobalOptions, output: Output, env: NodeJS.ProcessEnv = process.env): Context {
  const cwd = process.cwd();
  const manifestPath = path.resolve(cwd, globals.file);
  let cached: Promise<Manifest> | undefined;
  let target: Promise<Target> | undefined;
  return {
    cwd,
    env,
    globals,
    output,
    prompts: new Prompter({ yes: globals.yes, interactive: output.interactive && process.stdin.isTTY === true, env }),
    manifestPath,
    projectDir: path.dirname(manifestPath),
    manifest() {
      cached ??= Promise.all([import('../manifest/load.js'), import('../manifest/diagnostics.js')]).then(([m, d]) => {
        const manifest = m.loadManifestFile(manifestPath, { targetOverride: globals.target });
        for (const w of manifest.warnings ?? []) output.warn(d.formatDiagnostic({ ...w, severity: 'error' }, cwd));
        return manifest;
      });
      return cached;
    },
    target(command) {
      target ??= Promise.all([this.manifest(), import('../targets/index.js')]).then(([manifest, targets]) =>
        targets.createTarget({ manifest, output, env, command, now: () => new Date() }),
      );
      return target;
    },
  };
}

/** The library context from the CLI's: the manifest, output, environment, a clock and the target (made once, lazily). */
export async function retrainContext(ctx: Context, command: string): Promise<RetrainContext> {
  const manifest = await ctx.manifest();
  return {
    manifest,
    output: ctx.output,
    env: ctx.env,
    cwd: ctx.cwd,
    now: () => new Date(),
    target: () => ctx.target(command),
  };
}
