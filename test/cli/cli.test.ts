/** The command frame as a user meets it: help, version, exit codes, `--json` shape, lazy loading. */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands.js';
import { copyExample, json, mlshipBin, repoRoot, runCli, tempDir } from '../helpers/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('help', () => {
  it('lists every command and the global options', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const c of commands) expect(r.stdout).toMatch(new RegExp(`^  ${c.name}\\b`, 'm'));
    for (const flag of ['-f, --file <path>', '--target <target>', '--json', '-y, --yes', '-v, --verbose', '--no-color', '--version']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('Exit codes: 0 ok · 1 operation failed · 2 usage or manifest error · 3 a check failed');
  });

  it.each(commands.map((c) => c.name))('mlship %s --help shows its usage, options and the global options', async (name) => {
    const spec = commands.find((c) => c.name === name)!;
    for (const args of [
      [name, '--help'],
      ['help', name],
    ]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: mlship ${name} [options]${spec.args ? ` ${spec.args}` : ''}`);
      expect(r.stdout).toContain(spec.summary.slice(0, 30));
      for (const o of spec.options ?? []) expect(r.stdout).toContain(o.flags);
      expect(r.stdout).toContain('--json');
    }
  });

  it('prints the version', async () => {
    const r = await runCli(['--version']);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('a reader that closes the pipe early (mlship … | head)', () => {
  it('ends quietly with exit 0, no EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [mlshipBin, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first write
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});

describe('exit codes and --json', () => {
  it('exits 2 on an unknown command or option, with one JSON error document under --json', async () => {
    const unknown = await runCli(['deplyo']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'deplyo'");
    expect(unknown.stderr).toContain('(Did you mean deploy?)');
    const j = await runCli(['deplyo', '--json']);
    expect(j.code).toBe(2);
    expect(json(j)).toEqual({ error: { code: 'usage', message: "unknown command 'deplyo'\n(Did you mean deploy?)", exitCode: 2 } });
    const none = await runCli(['--json']);
    expect(none.code).toBe(2);
    expect(json(none)).toEqual({ error: { code: 'usage', message: 'no command given', exitCode: 2, hint: 'Run `mlship --help` for the commands.' } });
    expect(none.stderr).toContain('Usage: mlship [options] [command]');
    const option = await runCli(['validate', '--nope', '--json']);
    expect(option.code).toBe(2);
    expect(json(option)).toEqual({ error: { code: 'usage', message: "unknown option '--nope'", exitCode: 2 } });
    const target = await runCli(['validate', '--target', 'gcp', '--json']);
    expect(target.code).toBe(2);
    expect(json<{ error: { message: string } }>(target).error.message).toContain("'gcp' is invalid");
  });

  it('validate: 0 with a summary, 2 with every problem; the same in JSON', async () => {
    const { dir, cleanup } = copyExample();
    cleanups.push(cleanup);
    const ok = await runCli(['validate'], { cwd: dir });
    expect(ok).toEqual({ code: 0, stdout: 'ok  mlship.yaml: churn (sklearn, 5 fields, target local)\n', stderr: '' });
    const okJson = await runCli(['validate', '--json'], { cwd: dir });
    expect(json(okJson)).toEqual({ ok: true, file: 'mlship.yaml', name: 'churn', target: 'local', flavor: 'sklearn', fields: 5, warnings: [] });
    // -f before or after the command, and --target overriding the manifest.
    const f = await runCli(['-f', path.join(dir, 'mlship.yaml'), 'validate', '--json']);
    expect(json(f)).toMatchObject({ ok: true, name: 'churn' });

    rmSync(path.join(dir, 'model'), { recursive: true });
    const bad = await runCli(['validate', '--json'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('');
    expect(json(bad)).toEqual({
      error: {
        code: 'manifest_invalid',
        message:
          '1 problem in mlship.yaml:\nmlship.yaml:4:9: model.path: file not found: model/model.joblib (train the model first (e.g. `python train.py`) or fix the path)',
        exitCode: 2,
        hint: 'Fix the fields above; `mlship validate` re-checks the file.',
        diagnostics: [
          {
            severity: 'error',
            file: path.join(dir, 'mlship.yaml'),
            line: 4,
            col: 9,
            path: 'model.path',
            message: 'file not found: model/model.joblib',
            hint: 'train the model first (e.g. `python train.py`) or fix the path',
          },
        ],
      },
    });
  });

  it('exits 2 when there is no manifest, naming init', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const r = await runCli(['validate'], { cwd: dir });
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'error no manifest at mlship.yaml\nhint  Run `mlship init` to create one, or pass -f <path>.\n' });
    expect(json(await runCli(['status', '--json'], { cwd: dir }))).toEqual({
      error: { code: 'manifest_missing', message: 'no manifest at mlship.yaml', exitCode: 2, hint: 'Run `mlship init` to create one, or pass -f <path>.' },
    });
  });
});

describe('start-up', () => {
  it('mlship --help loads no cloud SDK, prompt library, spinner, template engine or validator', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const log = path.join(dir, 'imports.log');
    const hook = path.join(repoRoot, 'test', 'helpers', 'record-imports.mjs');
    const r = await runCli(['--help'], { env: { NODE_OPTIONS: `--import=${hook}`, MLSHIP_IMPORT_LOG: log } });
    expect(r.code).toBe(0);
    const urls = readFileSync(log, 'utf8').trim().split('\n');
    // The hooks saw the CLI load, both its ES modules and commander's CommonJS files.
    expect(urls.some((u) => u.endsWith('/dist/cli/main.js'))).toBe(true);
    expect(urls.some((u) => u.includes('/node_modules/commander/lib/command.js'))).toBe(true);
    const loaded = urls.filter((u) => /node_modules\/(@aws-sdk|@google-cloud|@azure|@inquirer|ora|handlebars|ajv|yaml)\//.test(u));
    expect(loaded).toEqual([]);
    expect(urls.filter((u) => /\/dist\/cli\/commands\//.test(u))).toEqual([]);
  });
});
