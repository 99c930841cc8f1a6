/**
 * Prediction logs for tests, drawn from the example's training data (rows resampled with a seeded
 * generator), optionally with one numeric feature shifted and one category's frequency changed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readCsvFile } from '../../../src/util/csv.js';
import { exampleDir } from '../../helpers/cli.js';

export interface LogOptions {
  rows: number;
  seed?: number;
  /** Added to monthly_charges. */
  shiftCharges?: number;
  /** Share of rows whose plan is forced to "enterprise". */
  enterpriseShare?: number;
  /** Day of the log file and its timestamps. */
  day?: string;
  output?: (input: Record<string, unknown>) => unknown;
}

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (48271 * x) % 2147483647;
    return x / 2147483647;
  };
}

/** Example rows as typed inputs (numbers as numbers). */
export function exampleRows(): Record<string, unknown>[] {
  const table = readCsvFile(path.join(exampleDir, 'data', 'train.csv'));
  return table.rows.map((r) => ({
    tenure_months: Number(r[0]),
    monthly_charges: Number(r[1]),
    support_calls: Number(r[2]),
    plan: r[3],
    payment_method: r[4],
  }));
}

/** Raw request records drawn from the example's training rows, drifted as the options say. */
export function sampleRecords(options: LogOptions): Record<string, unknown>[] {
  const rows = exampleRows();
  const rand = rng(options.seed ?? 7);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < options.rows; i++) {
    const input = { ...rows[Math.floor(rand() * rows.length)]! };
    if (options.shiftCharges) input.monthly_charges = Math.min(134.82, Math.round(((input.monthly_charges as number) + options.shiftCharges) * 100) / 100);
    if (options.enterpriseShare && rand() < options.enterpriseShare) input.plan = 'enterprise';
    out.push(input);
  }
  return out;
}

/** Lines of an mlship prediction log. */
export function logLines(options: LogOptions): string[] {
  return [...logLineStream(options)];
}

/** The same lines one at a time (a bench writes millions without holding them). */
export function* logLineStream(options: LogOptions): Generator<string> {
  const rows = exampleRows();
  const rand = rng(options.seed ?? 7);
  const day = options.day ?? '2026-11-27';
  for (let i = 0; i < options.rows; i++) {
    const input = { ...rows[Math.floor(rand() * rows.length)]! };
    if (options.shiftCharges) input.monthly_charges = Math.round(((input.monthly_charges as number) + options.shiftCharges) * 100) / 100;
    if (options.enterpriseShare && rand() < options.enterpriseShare) input.plan = 'enterprise';
    const seconds = Math.floor((i / options.rows) * 86_399);
    const ts = new Date(Date.parse(`${day}T00:00:00Z`) + seconds * 1000).toISOString();
    const output = options.output ? options.output(input) : Math.round(rand() * 1000) / 1000;
    yield JSON.stringify({ ts, id: `req-${i}`, model: 'churn', version: 'v1', input, output, latency_ms: 3.2 });
  }
}

/** Write `predictions-<day>.jsonl` into a folder; returns its path. */
export function writeLog(dir: string, options: LogOptions, extra: string[] = []): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `predictions-${options.day ?? '2026-11-27'}.jsonl`);
  writeFileSync(file, [...logLines(options), ...extra].join('\n') + '\n');
  return file;
}
