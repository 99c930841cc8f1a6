/**
 * The entry point: wires the command table into commander, runs one command, and is the only place
 * that turns errors into messages and exit codes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as CommanderModule from 'commander';
import { ExitCode, isMlshipError, type MlshipError } from '../util/errors.js';
import { allDescriptors, importExtraTargets } from '../targets/descriptors.js';
import { commands, type CommandSpec } from './commands.js';
import type { GlobalOptions } from './context.js';
import { Output, resolveOutputOptions } from './output.js';

// commander is CommonJS: `require` loads it without the ESM wrapper and its export scan, which is a
// measurable share of `mlship --help` start-up (see `npm run bench -- startup`).
const { Command, CommanderError, Option } = createRequire(import.meta.url)('commander') as typeof CommanderModule;
type Command = CommanderModule.Command;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function addGlobalOptions(cmd: Command): Command {
  return cmd
    .option('-f, --file <path>', 'manifest file', 'mlship.yaml')
    .addOption(new Option('--target <target>', 'where to deploy, overrides the manifest').choices(allDescriptors().map((d) => d.name)))
    .option('--json', 'print one JSON document on stdout (logs go to stderr)')
    .option('-y, --yes', 'never prompt; take defaults or fail naming the flag to pass')
    .option('-v, --verbose', 'more detail, and stack traces for internal errors')
    .option('--no-color', 'no colours (NO_COLOR and CI are honoured too)');
}

function globalsFrom(opts: Record<string, unknown>): GlobalOptions {
  return {
    file: typeof opts.file === 'string' ? opts.file : 'mlship.yaml',
    target: typeof opts.target === 'string' ? opts.target : undefined,
    json: opts.json === true,
    yes: opts.yes === true,
    verbose: opts.verbose === true,
    color: opts.color !== false,
  };
}

/**
 * Global options may stand before or after the command name (`mlship -f x.yaml status` and
 * `mlship status -f x.yaml`); an explicitly given value wins over a default wherever it stands.
 */
function mergedGlobals(cmd: Command): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const c of [cmd.parent, cmd]) {
    if (!c) continue;
    for (const [key, value] of Object.entries(c.opts())) {
      if (merged[key] === undefined || c.getOptionValueSource(key) !== 'default') merged[key] = value;
    }
  }
  return merged;
}

/** What a failure looks like on stderr and in `--json`. */
function report(error: unknown, output: Output): number {
  if (isMlshipError(error)) {
    const e: MlshipError = error;
    if (output.json) {
      output.document({ error: { code: e.code, message: e.message, exitCode: e.exitCode, hint: e.hint, ...e.details } });
    } else {
      output.info(`${output.style('red', 'error')} ${e.message}`);
      if (e.hint) output.info(`${output.style('dim', 'hint')}  ${e.hint}`);
      if (output.verbose && e.cause instanceof Error) output.info(e.cause.stack ?? String(e.cause));
    }
    return e.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (output.json) {
    output.document({ error: { code: 'internal', message, exitCode: ExitCode.failed, bug: true } });
  } else {
    output.info(`${output.style('red', 'internal error')} ${message}`);
    output.info('This is a bug in mlship. Re-run with --verbose for the stack trace and report it.');
    if (output.verbose && error instanceof Error) output.info(error.stack ?? '');
  }
  return ExitCode.failed;
}

async function runCommand(spec: CommandSpec, cmd: Command): Promise<number> {
  const globals = globalsFrom(mergedGlobals(cmd));
  const output = new Output(resolveOutputOptions(globals));
  try {
    const [{ createContext }, mod] = await Promise.all([import('./context.js'), spec.load()]);
    const ctx = createContext(globals, output);
    if (spec.readsManifest) await ctx.manifest();
    const result = await mod.run(
      ctx,
      cmd.args.slice(0, cmd.registeredArguments.length).filter((a) => a !== undefined),
      cmd.opts(),
    );
    if (output.json) output.document(result.data);
    else output.result(result.text);
    return result.exitCode ?? ExitCode.ok;
  } catch (error) {
    return report(error, output);
  }
}

/** Run mlship with the given arguments; sets `process.exitCode`, never calls `process.exit`. */
export async function main(argv: string[]): Promise<void> {
  quietOnClosedPipe();
  // Targets from outside mlship (a test suite's in-memory target), registered before `--target`'s
  // choices are read; only the CLI reads this variable.
  const extra = process.env.MLSHIP_EXTRA_TARGETS;
  if (extra) {
    try {
      await importExtraTargets(extra, process.cwd());
    } catch (error) {
      process.exitCode = report(error, new Output(resolveOutputOptions({ json: argv.includes('--json') })));
      return;
    }
  }
  const program = addGlobalOptions(new Command('mlship'))
    .description('Take a model from a notebook to production and keep it alive there.')
    .version(packageVersion(), '--version', 'print the mlship version')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false })
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok · 1 operation failed · 2 usage or manifest error · 3 a check failed (drift, budget, parity)
Docs: README.md · manifest schema: mlship.schema.json in the package`,
    );

  let exitCode: number = ExitCode.ok;
  for (const spec of commands) {
    const cmd = addGlobalOptions(program.command(spec.args ? `${spec.name} ${spec.args}` : spec.name))
      .summary(spec.summary)
      .description(spec.help ? `${spec.summary}\n\n${spec.help}` : spec.summary)
      .exitOverride();
    for (const o of spec.options ?? []) cmd.option(o.flags, o.description, o.default as string | boolean | undefined);
    cmd.action(async (...args: unknown[]) => {
      exitCode = await runCommand(spec, args[args.length - 1] as Command);
    });
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0 through here; every parse error is a usage error (2).
      exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      if (exitCode !== ExitCode.ok && argv.includes('--json')) {
        // No command at all: commander printed the help (to stderr) and says only "(outputHelp)".
        const noCommand = error.code === 'commander.help';
        const message = noCommand ? 'no command given' : error.message.replace(/^error: /, '');
        const hint = noCommand ? { hint: 'Run `mlship --help` for the commands.' } : {};
        process.stdout.write(`${JSON.stringify({ error: { code: 'usage', message, exitCode, ...hint } }, null, 2)}\n`);
      }
    } else {
      exitCode = report(error, new Output(resolveOutputOptions({ json: argv.includes('--json') })));
    }
  }
  process.exitCode = exitCode;
}

/**
 * `mlship status | head -1`: a reader that stops early closes the pipe. That is the reader's choice,
 * not an error: end quietly (exit 0 unless an exit code was already set) instead of an EPIPE stack trace.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? 0);
    });
  }
}
