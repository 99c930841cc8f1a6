/**
 * `npm run fake -- <target>` as a user runs it: started in the background from the project folder,
 * used to the end of a flow (on Azure: push with any image tag, deploy, the endpoint key through the
 * documented ARM `listKeys` call that `az ml online-endpoint get-credentials` makes, a prediction), then
 * ended by its process id (`kill $!`), or orphaned by a parent that dies without passing a signal on.
 * Either way no process it started (the double, Azurite, esbuild, the serving apps) may remain: every
 * descendant is read from /proc while it runs and checked afterwards.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { churnRecord } from '../helpers/http.js';
import { cachedBuild } from '../helpers/build-cache.js';
import { copyExample, json, python, repoRoot, runCli } from '../helpers/cli.js';

interface Fake {
  child: ChildProcess;
  doc: { target: string; env: Record<string, string>; targets: Record<string, Record<string, string>>; pid: number };
}

const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
});

/** `npm --prefix <mlship> run -s fake -- <target>` from `cwd`, as the README shows; resolves on its JSON line. */
function startFake(target: string, cwd: string): Promise<Fake> {
  const child = spawn('npm', ['--prefix', repoRoot, 'run', '-s', 'fake', '--', target], {
    cwd,
    env: { ...process.env, MLSHIP_PYTHON: python },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child.pid!);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, doc: JSON.parse(line) as Fake['doc'] });
    });
    child.on('exit', (code) => reject(new Error(`npm run fake -- ${target} ended (${code}) before it printed its JSON line:\n${err}`)));
  });
}

/** Every live descendant of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone while reading
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return state.slice(state.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function command(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** Wait until none of `pids` lives; the ones left, with their command lines. */
async function survivors(pids: number[], timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 200));
  return pids.filter(alive).map((p) => `${p} ${command(p)}`);
}

describe('npm run fake', () => {
  it('azure: a user finishes the flow (any image tag, listKeys, a prediction); kill $! stops everything it started', async () => {
    const project = copyExample();
    try {
      const fake = await startFake('azure', project.dir);
      const env = { ...fake.doc.env, MLSHIP_PYTHON: python };
      const manifest = path.join(project.dir, 'mlship.yaml');
      const block = fake.doc.targets.azure!;
      writeFileSync(
        manifest,
        `${readFileSync(manifest, 'utf8').replace('on_drift: true', 'on_drift: false')}targets:\n  azure:\n${Object.entries(block)
          .map(([k, v]) => `    ${k}: ${v}\n`)
          .join('')}`,
      );
      const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env, timeoutMs: 300_000 });
      expect((await cachedBuild(project.dir, () => cli('build', '--no-image'))).code).toBe(0);
      // An image tag that is not a build id: the fake runs the build the model version records.
      const pushed = await cli('push', '--target', 'azure', '--image', 'fakeacr.azurecr.io/churn:v1');
      expect(pushed.code, pushed.stderr).toBe(0);
      const deployed = await cli('deploy', '--target', 'azure', '--json');
      expect(deployed.code, deployed.stderr).toBe(0);
      const status = json<{ live: { url: string; details?: Record<string, unknown> } }>(await cli('status', '--target', 'azure', '--json'));
      const endpoint = /\/endpoints\/([^/]+)\/score$/.exec(status.live.url)?.[1];
      expect(endpoint, status.live.url).toBeTruthy();

      // The README's commands: an ARM token from the managed identity, then listKeys, then score.
      const sh = (script: string) =>
        execFileSync('sh', ['-c', script], { env: { ...process.env, ...env, ARM: block.arm_endpoint, ENDPOINT: endpoint, URL: status.live.url } }).toString();
      const token = JSON.parse(sh('curl -sf "$IDENTITY_ENDPOINT?resource=$ARM&api-version=2019-08-01" -H "X-IDENTITY-HEADER: $IDENTITY_HEADER"'))
        .access_token as string;
      const keys = JSON.parse(
        sh(
          `curl -sf --cacert "$NODE_EXTRA_CA_CERTS" -XPOST -H "Authorization: Bearer ${token}" -H 'content-length: 0' "$ARM/subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/${block.resource_group}/providers/Microsoft.MachineLearningServices/workspaces/${block.workspace}/onlineEndpoints/$ENDPOINT/listKeys?api-version=2026-07-01"`,
        ),
      ) as { primaryKey: string; secondaryKey: string };
      expect(keys.primaryKey).toMatch(/\S{16,}/);
      const prediction = JSON.parse(
        sh(`curl -sf -XPOST "$URL" -H "Authorization: Bearer ${keys.primaryKey}" -H 'content-type: application/json' -d '${JSON.stringify([churnRecord])}'`),
      ) as { predictions: unknown[]; version: string };
      expect(prediction).toMatchObject({ predictions: [expect.any(Number)], version: 'v1' });

      const tree = descendants(fake.child.pid!);
      expect(tree).toContain(fake.doc.pid);
      // Azurite and the serving app are among them (what a leak would leave behind).
      expect(tree.map(command).some((c) => c.includes('azurite'))).toBe(true);
      expect(tree.map(command).some((c) => c.includes('serve.py serve'))).toBe(true);
      process.kill(fake.child.pid!, 'SIGTERM');
      expect(await survivors([fake.child.pid!, ...tree])).toEqual([]);
    } finally {
      project.cleanup();
    }
  }, 900_000);

  it('vertex: kill $! stops it; azure: npm killed -9 (no signal passed on), the double notices and stops what it started', async () => {
    const project = copyExample();
    try {
      const first = await startFake('vertex', project.dir);
      const tree = descendants(first.child.pid!);
      expect(tree).toContain(first.doc.pid);
      process.kill(first.child.pid!, 'SIGTERM');
      expect(await survivors([first.child.pid!, ...tree])).toEqual([]);

      const azure = await startFake('azure', project.dir);
      const orphans = descendants(azure.child.pid!);
      expect(orphans.map(command).some((c) => c.includes('azurite'))).toBe(true);
      process.kill(azure.child.pid!, 'SIGKILL');
      expect(await survivors(orphans)).toEqual([]);
    } finally {
      project.cleanup();
    }
  }, 300_000);
});
