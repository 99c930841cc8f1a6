/**
 * `mlship schedule`: the manifest's schedules as crontab lines for one machine —
 * `monitoring.drift.schedule` runs `mlship drift-check`, `retraining.schedule` runs `mlship retrain`
 * (with `--from-logs` when `retraining.data` is not set) — and their idempotent installation.
 *
 * The lines sit in a block between marker comments naming the project's manifest, so installing
 * again replaces the block (one entry per schedule, however often it runs) and other projects' blocks
 * and the user's own lines are left alone. Cron runs them in the machine's local time zone with a
 * minimal environment, so each line names node and the mlship launcher by absolute path and appends
 * its output to `.mlship/cron.log`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OperationError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { Manifest } from '../manifest/types.js';
import { defaultFromLogs } from '../retrain/dataset.js';

export interface ScheduleEntry {
  command: 'drift-check' | 'retrain';
  cron: string;
  /** The manifest field it comes from. */
  source: 'monitoring.drift.schedule' | 'retraining.schedule';
  /** The whole crontab line. */
  line: string;
}

/** The mlship launcher of this installation. */
export const MLSHIP_BIN = fileURLToPath(new URL('../../bin/mlship', import.meta.url));

/** POSIX shell single-quoting; `%` is escaped too, since cron reads it as a line break. */
function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`.replace(/%/g, '\\%');
}

/** The crontab lines for a manifest. */
export function scheduleEntries(manifest: Manifest, launcher: { node: string; bin: string } = { node: process.execPath, bin: MLSHIP_BIN }): ScheduleEntry[] {
  const run = (args: string) =>
    `cd ${q(manifest.projectDir)} && ${q(launcher.node)} ${q(launcher.bin)} ${args} -f ${q(manifest.file)} --yes --no-color >> .mlship/cron.log 2>&1`;
  const entries: ScheduleEntry[] = [];
  const drift = manifest.monitoring.drift.schedule;
  entries.push({ command: 'drift-check', cron: drift, source: 'monitoring.drift.schedule', line: `${drift} ${run('drift-check')}` });
  const retrain = manifest.retraining.schedule;
  if (retrain) {
    const args = defaultFromLogs(manifest) ? 'retrain --from-logs' : 'retrain';
    entries.push({ command: 'retrain', cron: retrain, source: 'retraining.schedule', line: `${retrain} ${run(args)}` });
  }
  return entries;
}

/** The marker lines around a project's block. */
export function markers(manifest: Manifest): { begin: string; end: string } {
  const id = `${manifest.name} ${manifest.file}`.replace(/[\r\n]/g, ' ');
  return { begin: `# >>> mlship ${id} >>>`, end: `# <<< mlship ${id} <<<` };
}

/**
 * `existing` with the project's block replaced by `entries` (appended when there was none); every
 * other line is kept as it was. Running it on its own output changes nothing.
 */
export function mergeCrontab(existing: string, manifest: Manifest, entries: ScheduleEntry[]): string {
  const { begin, end } = markers(manifest);
  const kept: string[] = [];
  let inside = false;
  for (const line of existing.split('\n')) {
    if (line === begin) inside = true;
    else if (line === end && inside) inside = false;
    else if (!inside) kept.push(line);
  }
  while (kept.length > 0 && kept.at(-1) === '') kept.pop();
  const block = [begin, '# managed by `mlship schedule --install`; edit mlship.yaml and install again', ...entries.map((e) => e.line), end];
  return `${[...kept, ...(kept.length > 0 ? [''] : []), ...block].join('\n')}\n`;
}

/** Read, merge and write a crontab: a file (`--crontab FILE`), else the user's through `crontab -l` / `crontab -`. */
export async function installSchedule(manifest: Manifest, entries: ScheduleEntry[], file?: string): Promise<{ destination: string; changed: boolean }> {
  if (file) {
    const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const after = mergeCrontab(before, manifest, entries);
    if (after !== before) writeFileAtomic(file, after);
    return { destination: file, changed: after !== before };
  }
  const { execa } = await import('execa');
  const listed = await execa('crontab', ['-l'], { reject: false });
  if (listed.failed && listed.exitCode === undefined) {
    throw new OperationError('crontab_unavailable', 'the crontab command is not available on this machine', {
      hint: 'Install cron, write the lines into a file with --crontab FILE, or run the schedules in CI (the workflow `mlship init` writes).',
    });
  }
  // `crontab -l` exits 1 with "no crontab for USER" when there is none yet.
  const before = listed.exitCode === 0 ? (listed.stdout.endsWith('\n') || listed.stdout === '' ? listed.stdout : `${listed.stdout}\n`) : '';
  if (listed.exitCode !== 0 && !/no crontab/i.test(listed.stderr)) {
    throw new OperationError('crontab_failed', `crontab -l failed: ${listed.stderr.trim()}`, {
      hint: 'Write the lines into a file with --crontab FILE instead.',
    });
  }
  const after = mergeCrontab(before, manifest, entries);
  if (after === before) return { destination: 'the user crontab', changed: false };
  const written = await execa('crontab', ['-'], { input: after, reject: false });
  if (written.exitCode !== 0)
    throw new OperationError('crontab_failed', `crontab - failed: ${written.stderr.trim()}`, {
      hint: 'Write the lines into a file with --crontab FILE instead.',
    });
  return { destination: 'the user crontab', changed: true };
}

/** Where a relative `--crontab` path points. */
export function crontabPath(cwd: string, file: string): string {
  return path.resolve(cwd, file);
}
