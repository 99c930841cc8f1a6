/**
 * The local target serves on the image's HTTP stack (uvicorn with httptools and uvloop). A Python with
 * uvicorn but without them (a plain `pip install uvicorn`) is not reused by `mlship build`; a version
 * that still runs on one (built before mlship required them) says so at start-up and in `status`.
 *
 * The slow interpreter is a real virtualenv (no system site packages) whose site-packages reach the
 * test venv's through a .pth file, with httptools and uvloop made unimportable: its `sys.executable`
 * is its own, so what it serves on is what a user's plain-uvicorn Python would serve on.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, json, python, runCli, tempDir } from '../helpers/cli.js';
import { churnRecord, postJson } from '../helpers/http.js';
import { freePort } from '../../src/targets/local/processes.js';

const HIDE = `import sys


class HideFastHttp:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("httptools", "uvloop"):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


sys.meta_path.insert(0, HideFastHttp())
`;

/** The new venv's site-packages, then every site-packages folder the test interpreter reads. */
const PATHS = `import sys, sysconfig
print(sysconfig.get_paths(vars={"base": sys.argv[1], "platbase": sys.argv[1]})["purelib"])
print("\\n".join(p for p in sys.path if p.endswith(("site-packages", "dist-packages"))))`;

let project: { dir: string; cleanup: () => void };
let slowDir: { dir: string; cleanup: () => void };
let slow: string;
const env = { MLSHIP_PYTHON: python };
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: project.dir, env: { ...env, ...extra }, timeoutMs: 300_000 });

beforeAll(() => {
  // A 400-row baseline keeps the build's parity check short (what is tested is the interpreter).
  project = copyExample({ baselineRows: 400 });
  slowDir = tempDir('mlship-plain-uvicorn-');
  const venv = path.join(slowDir.dir, 'venv');
  execFileSync(python, ['-m', 'venv', '--without-pip', venv]);
  slow = path.join(venv, 'bin', 'python');
  const [own, ...full] = execFileSync(python, ['-c', PATHS, venv]).toString().trim().split('\n') as [string, ...string[]];
  writeFileSync(path.join(own, '_hide_fast_http.py'), HIDE);
  writeFileSync(path.join(own, 'a_hide_fast_http.pth'), 'import _hide_fast_http\n');
  writeFileSync(path.join(own, 'b_test_venv.pth'), `${full.join('\n')}\n`);
  // The stand-in is what the issue describes: uvicorn and the app's libraries, no httptools/uvloop.
  execFileSync(slow, ['-c', 'import uvicorn, pandas, sklearn, joblib, orjson']);
  expect(() => execFileSync(slow, ['-c', 'import httptools'], { stdio: 'ignore' })).toThrow();
}, 120_000);

afterAll(async () => {
  await cli(['stop']);
  project.cleanup();
  slowDir.cleanup();
});

describe('the HTTP stack of the local target', () => {
  it('does not reuse a Python that has uvicorn without httptools/uvloop', async () => {
    const manifest = path.join(project.dir, 'mlship.yaml');
    const original = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, original.replace('target: local\n', `target: local\ntargets:\n  local:\n    python: ${slow}\n`));
    try {
      const r = await cli(['build', '--no-image', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`targets.local.python (${slow}) cannot serve the app`);
      expect(r.stderr).toContain("No module named 'httptools'");
      const runtime = json<{ build: { runtime: { python: string; source: string } } }>(r).build.runtime;
      expect(runtime.source).toBe('MLSHIP_PYTHON');
      expect(runtime.python).not.toBe(slow);
    } finally {
      writeFileSync(manifest, original);
    }
  }, 320_000);

  it('prepares the interpreter again when a reused build ran on one without them', async () => {
    const first = await cli(['build', '--no-image', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const { dir } = json<{ dir: string }>(first);
    const buildJson = path.join(dir, 'build.json');
    const info = JSON.parse(readFileSync(buildJson, 'utf8'));
    writeFileSync(buildJson, JSON.stringify({ ...info, runtime: { python: slow, source: 'python3' } }));
    const again = await cli(['build', '--no-image', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`${slow} lacks httptools/uvloop`);
    expect(json<{ reused: boolean; build: { runtime: { source: string } } }>(again)).toMatchObject({
      reused: true,
      build: { runtime: { source: 'MLSHIP_PYTHON' } },
    });
  }, 320_000);

  it('names the HTTP stack in status, and a version still on the fallback says so', async () => {
    const pushed = await cli(['push', '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    const version = json<{ version: { version: string } }>(pushed).version.version;
    const port = String(await freePort());

    const fast = await cli(['deploy', '--port', port, '--json']);
    expect(fast.code, fast.stderr).toBe(0);
    const status = json<{ details: { http?: string } }>(await cli(['status', '--json']));
    expect(status.details.http).toBe('uvicorn+httptools+uvloop');
    expect((await cli(['stop'])).code).toBe(0);

    // A version pushed by an older mlship whose interpreter lacks them: it serves, slowly, and says so.
    const registryBuild = path.join(project.dir, '.mlship', 'registry', 'versions', version, 'context', 'build.json');
    const info = JSON.parse(readFileSync(registryBuild, 'utf8'));
    chmodSync(registryBuild, 0o644);
    writeFileSync(registryBuild, JSON.stringify({ ...info, runtime: { python: slow, source: 'python3' } }));
    const deployed = await cli(['deploy', '--port', port, '--json']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const url = json<{ live: { url: string } }>(deployed).live.url;
    expect((await postJson(`${url}/predict`, churnRecord)).status).toBe(200);
    const text = await cli(['status']);
    expect(text.stdout).toMatch(/http\s+uvicorn\+h11\+asyncio \(slow fallback: see /);
    const doc = json<{ live: { details: { log: string } }; details: { http?: string } }>(await cli(['status', '--json']));
    expect(doc.details.http).toContain('uvicorn+h11+asyncio');
    const log = readFileSync(doc.live.details.log, 'utf8');
    expect(log).toContain(`warning: httptools and uvloop cannot be imported by ${slow}`);
    expect(log).toContain(`${slow} -m pip install httptools uvloop`);
  }, 320_000);
});
