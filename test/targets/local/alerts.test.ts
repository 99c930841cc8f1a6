/**
 * `monitoring.alerts.email` on the local target, through the spawned CLI: nothing mails anyone here
 * (drift-check's exit 3 is the alert), so `deploy --plan` says so once on stderr and in the plan
 * document, instead of ignoring the addresses. No double: the local target only plans here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertEmailWarning } from '../../../src/targets/descriptors.js';
import { loadManifestFile } from '../../../src/manifest/load.js';
import { cachedBuild } from '../../helpers/build-cache.js';
import { copyExample, json, python, runCli } from '../../helpers/cli.js';

let project: { dir: string; cleanup: () => void };
const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env: { MLSHIP_PYTHON: python } });

beforeAll(() => {
  project = copyExample();
  const file = path.join(project.dir, 'mlship.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^monitoring:\n/m, 'monitoring:\n  alerts: { email: ml-team@example.com }\n'));
});
afterAll(() => project.cleanup());

describe('alert e-mail where the target sends none', () => {
  it('says so once in the local plan (stderr and the plan document)', async () => {
    expect((await cachedBuild(project.dir, () => cli('build', '--json', '--no-image'))).code).toBe(0);
    expect((await cli('push', '--json')).code).toBe(0);
    const planned = await cli('deploy', '--plan', '--json');
    expect(planned.code, planned.stderr).toBe(0);
    const warning = alertEmailWarning(loadManifestFile(path.join(project.dir, 'mlship.yaml')))!;
    expect(warning).toMatch(
      /^monitoring\.alerts\.email is set, but the local machine sends no e-mail when drift is found: nobody is mailed\. `mlship drift-check` exits 3 on drift.* \(targets that mail the addresses: sagemaker, vertex, azure\)\.$/,
    );
    expect(json<{ plan: { warnings?: string[] } }>(planned).plan.warnings).toEqual([warning]);
    expect(planned.stderr.split(warning).length - 1).toBe(1);
  }, 600_000);

  it('says nothing where the target mails the addresses, or when none are set', () => {
    const m = loadManifestFile(path.join(project.dir, 'mlship.yaml'));
    expect(alertEmailWarning({ ...m, target: 'azure' })).toBeUndefined();
    expect(alertEmailWarning({ ...m, target: 'vertex' })).toBeUndefined();
    expect(alertEmailWarning({ ...m, target: 'sagemaker' })).toBeUndefined();
    expect(alertEmailWarning({ ...m, monitoring: { ...m.monitoring, alerts: { email: [] } } })).toBeUndefined();
  });
});
