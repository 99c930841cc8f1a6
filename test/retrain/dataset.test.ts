/** The training data of a run: `retraining.data` globs with their digests, and the CSV assembled from labelled logs. */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/util/csv.js';
import { assembleFromLogs, lineage, resolveDataFiles } from '../../src/retrain/dataset.js';
import type { LogSource } from '../../src/logs/types.js';
import type { Manifest } from '../../src/manifest/types.js';
import { tempDir } from '../helpers/cli.js';

const tmp = tempDir('mlship-dataset-');
afterAll(() => tmp.cleanup());

function manifest(over: { data?: string[]; label?: string } = {}): Manifest {
  return {
    projectDir: tmp.dir,
    features: {
      schema: { note: { type: 'string', nullable: true }, amount: { type: 'number', nullable: false } },
      ...(over.label !== undefined ? { label: over.label } : {}),
    },
    retraining: { data: over.data ?? [] },
  } as unknown as Manifest;
}

function source(lines: unknown[]): LogSource {
  return {
    description: 'memory',
    format: 'mlship',
    async *lines() {
      for (const l of lines) yield JSON.stringify(l);
    },
  };
}

describe('retraining.data', () => {
  mkdirSync(path.join(tmp.dir, 'data', 'new'), { recursive: true });
  writeFileSync(path.join(tmp.dir, 'data', 'a.csv'), 'x\n1\n');
  writeFileSync(path.join(tmp.dir, 'data', 'new', 'b.csv'), 'x\n2\n');

  it('expands globs and plain paths, sorted and once each, with sha256 lineage', async () => {
    const files = resolveDataFiles(manifest({ data: ['data/**/*.csv', 'data/a.csv'] }));
    expect(files.map((f) => path.relative(tmp.dir, f))).toEqual(['data/a.csv', 'data/new/b.csv']);
    expect(await lineage(manifest(), files)).toEqual([
      { path: 'data/a.csv', sha256: createHash('sha256').update('x\n1\n').digest('hex') },
      { path: 'data/new/b.csv', sha256: createHash('sha256').update('x\n2\n').digest('hex') },
    ]);
  });

  it('names a pattern that matches nothing, and an unset retraining.data', () => {
    expect(() => resolveDataFiles(manifest({ data: ['data/*.parquet'] }))).toThrow(/retraining.data "data\/\*\.parquet" matches no file/);
    expect(() => resolveDataFiles(manifest())).toThrow(/retraining.data is not set/);
  });
});

describe('assembleFromLogs', () => {
  it('writes the schema fields in order then the label, quoting what needs it', async () => {
    const file = path.join(tmp.dir, 'run', 'from-logs.csv');
    const predictions = source([
      { ts: '2026-11-28T10:00:00Z', id: 'a', input: { amount: 3.5, note: 'plain' }, output: 0.2 },
      { ts: '2026-11-28T10:00:01Z', id: 'b', input: { amount: 1, note: 'has, a comma and "quotes"' }, output: 0.9 },
      { ts: '2026-11-28T10:00:02Z', id: 'c', input: { amount: 2, note: null }, output: 0.4 },
      { ts: '2026-11-28T10:00:03Z', id: 'd', input: { amount: 9, note: 'no label' }, output: 0.4 },
    ]);
    const feedback = source([
      { ts: '2026-11-28T11:00:00Z', id: 'a', label: 1 },
      { ts: '2026-11-28T11:00:00Z', id: 'b', label: 'yes' },
      { ts: '2026-11-28T11:00:00Z', id: 'c', label: 0 },
    ]);
    const { rows, stats } = await assembleFromLogs(manifest({ label: 'churned' }), { predictions: [predictions], feedback: [feedback] }, {}, file);
    expect(rows).toBe(3);
    expect(stats).toMatchObject({ matched: 3, unlabelled: 1 });
    expect(parseCsv(readFileSync(file, 'utf8')).filter((r) => r.length > 1)).toEqual([
      ['note', 'amount', 'churned'],
      ['plain', '3.5', '1'],
      ['has, a comma and "quotes"', '1', 'yes'],
      ['', '2', '0'],
    ]);
  });

  it('needs features.label, and at least one labelled prediction', async () => {
    await expect(assembleFromLogs(manifest(), { predictions: [], feedback: [] }, {}, undefined)).rejects.toThrow(/--from-logs needs features.label/);
    await expect(
      assembleFromLogs(manifest({ label: 'y' }), { predictions: [source([{ id: 'a', input: { amount: 1 } }])], feedback: [] }, {}, undefined),
    ).rejects.toThrow(/no logged prediction has a feedback label/);
  });
});
