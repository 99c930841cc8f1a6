/** `mlship schedule`: the lines it prints, and `--install` into a crontab file, twice, leaving one entry per schedule. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, json, runCli } from '../helpers/cli.js';

let project: ReturnType<typeof copyExample>;
beforeAll(() => {
  project = copyExample();
});
afterAll(() => project.cleanup());

describe('mlship schedule', () => {
  it('prints a crontab line per schedule of the manifest', async () => {
    const r = await runCli(['schedule', '--json'], { cwd: project.dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = json<{ entries: { command: string; cron: string; source: string; line: string }[]; installed: boolean }>(r);
    expect(doc.installed).toBe(false);
    expect(doc.entries.map((e) => [e.command, e.cron, e.source])).toEqual([
      ['drift-check', '0 2 * * *', 'monitoring.drift.schedule'],
      ['retrain', '0 3 * * 0', 'retraining.schedule'],
    ]);
    for (const e of doc.entries) {
      expect(e.line.startsWith(`${e.cron} cd '${project.dir}' && '${process.execPath}' `)).toBe(true);
      expect(e.line).toContain(` ${e.command} -f '${path.join(project.dir, 'mlship.yaml')}' --yes --no-color >> .mlship/cron.log 2>&1`);
    }
  });

  it('--install into a crontab file twice leaves one entry per schedule and keeps other lines', async () => {
    const crontab = path.join(project.dir, 'crontab.txt');
    writeFileSync(crontab, 'MAILTO=ops@example.com\n15 4 * * * /usr/local/bin/backup\n');
    const first = await runCli(['schedule', '--install', '--crontab', crontab], { cwd: project.dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/installed 2 schedules/);
    const once = readFileSync(crontab, 'utf8');
    const second = await runCli(['schedule', '--install', '--crontab', crontab], { cwd: project.dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/already has these schedules/);
    const twice = readFileSync(crontab, 'utf8');
    expect(twice).toBe(once);
    const lines = twice.split('\n');
    expect(lines.filter((l) => l.includes(' drift-check -f '))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(' retrain -f '))).toHaveLength(1);
    expect(lines.slice(0, 2)).toEqual(['MAILTO=ops@example.com', '15 4 * * * /usr/local/bin/backup']);
    expect(lines.filter((l) => l.startsWith('# >>> mlship churn '))).toHaveLength(1);

    // A changed schedule replaces the block instead of adding one.
    const manifest = path.join(project.dir, 'mlship.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('schedule: "0 3 * * 0"', 'schedule: "30 1 * * 1"'));
    const third = await runCli(['schedule', '--install', '--crontab', crontab], { cwd: project.dir });
    expect(third.code, third.stderr).toBe(0);
    const after = readFileSync(crontab, 'utf8').split('\n');
    expect(after.filter((l) => l.includes(' retrain -f '))).toEqual([expect.stringMatching(/^30 1 \* \* 1 /)]);
    expect(after.filter((l) => l.includes(' drift-check -f '))).toHaveLength(1);
  });
});
