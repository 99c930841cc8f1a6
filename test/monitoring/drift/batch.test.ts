/**
 * Parse batches: the bytes a parser thread gets are cut into the same lines the file reader yields,
 * and the columns a batch gives feed the accumulators exactly what the lines hold.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forEachLine, parseBatch, type BatchSpec } from '../../../src/monitoring/drift/batch.js';
import { fileLogSource } from '../../../src/logs/readers.js';
import { threadsFor } from '../../../src/monitoring/drift/parse-pool.js';
import { tempDir } from '../../helpers/cli.js';

const tmp = tempDir('mlship-batch-');
afterAll(() => tmp.cleanup());

function linesOf(payload: string | Uint8Array): string[] {
  const out: string[] = [];
  const count = forEachLine(payload, (line, n) => {
    expect(n).toBe(out.length + 1);
    out.push(line);
  });
  expect(count).toBe(out.length);
  return out;
}

async function fileLines(text: string): Promise<string[]> {
  const file = path.join(tmp.dir, 'lines.jsonl');
  writeFileSync(file, text);
  const out: string[] = [];
  for await (const line of fileLogSource(file, 'mlship').lines()) out.push(line);
  return out;
}

describe('forEachLine', () => {
  it.each([
    ['plain', 'a\nb\nc\n'],
    ['no newline at the end', 'a\nb\nlast'],
    ['CRLF and blank lines', 'a\r\n\r\n\nb\r\nc\r'],
    ['only newlines', '\n\n\n'],
    // Lines longer than a decoded piece (64 KiB), multi-byte characters on either side of the cuts.
    ['long lines with multi-byte text', `${'é'.repeat(40_000)}\n${'x'.repeat(70_000)}€\n${'漢字'.repeat(30_000)}\nend`],
  ])('cuts %s as the file reader does, from bytes and from text', async (_name, text) => {
    const expected = await fileLines(text);
    expect(linesOf(Buffer.from(text, 'utf8'))).toEqual(expected);
    expect(linesOf(text)).toEqual(expected);
  });
});

describe('parseBatch', () => {
  const spec: BatchSpec = { fields: ['x', 'c'], csvFields: ['x', 'c'], kinds: ['numeric', 'categorical'], output: 'categorical' };
  const lines = [
    { input: { x: 1.5, c: 'b' }, output: 'yes' },
    { input: { x: null, c: 'a' }, output: null },
    '{"broken',
    { input: { x: '2.5', c: 'b' }, output: 'no' },
    { input: { x: [1], c: 'a' }, output: 'no' },
    '{"input": {"x": -0, "c": null}}',
    '',
    { input: { x: 3, c: 7 }, output: 'yes' },
  ].map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));

  it('gives present values in order, categories in order of first appearance, and problems by line', () => {
    const text = `${lines.join('\n')}\n`;
    const b = parseBatch(spec, 'mlship', 'mem', Buffer.from(text));
    expect(b).toMatchObject({ lineCount: 8, lines: 7, records: 5, malformed: 2, missing: [1, 1], invalid: [1, 0] });
    expect([...b.numeric[0]!]).toEqual([1.5, 2.5, -0, 3]);
    expect(Object.is(b.numeric[0]![2], -0)).toBe(true);
    expect(b.categorical[1]).toEqual({ values: ['b', 'a', '7'], counts: [2, 1, 1] });
    expect(b.output).toEqual({ values: ['yes', 'no'], counts: [2, 1] });
    expect(b).toMatchObject({ outputMissing: 1, outputAbsent: 1, outputUnsupported: 0 });
    expect(b.problems).toEqual([
      { line: 3, reason: 'invalid_json' },
      { line: 5, reason: 'wrong_type', detail: 'field "x" is [1]' },
    ]);
    // Text (a source that yields lines) parses to the same batch.
    expect(parseBatch(spec, 'mlship', 'mem', text)).toEqual(b);
  });
});

describe('threadsFor (parser threads by default)', () => {
  const plenty = 16 * 2 ** 30;
  it('uses one thread per core on a multi-core machine with memory to spare, up to four', () => {
    expect(threadsFor({}, { cores: 2, freeBytes: plenty })).toBe(2);
    expect(threadsFor({}, { cores: 64, freeBytes: plenty })).toBe(4);
  });
  it('parses on the main thread on one core or without the memory for two threads', () => {
    expect(threadsFor({}, { cores: 1, freeBytes: plenty })).toBe(0);
    expect(threadsFor({}, { cores: 8, freeBytes: 200 * 2 ** 20 })).toBe(0);
    expect(threadsFor({}, { cores: 8, freeBytes: 400 * 2 ** 20 })).toBe(3);
  });
  it('does as MLSHIP_DRIFT_WORKERS says (0 and 1: none), whatever the machine', () => {
    expect(threadsFor({ MLSHIP_DRIFT_WORKERS: '0' }, { cores: 8, freeBytes: plenty })).toBe(0);
    expect(threadsFor({ MLSHIP_DRIFT_WORKERS: '1' }, { cores: 8, freeBytes: plenty })).toBe(0);
    expect(threadsFor({ MLSHIP_DRIFT_WORKERS: '3' }, { cores: 1, freeBytes: 0 })).toBe(3);
    expect(threadsFor({ MLSHIP_DRIFT_WORKERS: 'lots' }, { cores: 2, freeBytes: plenty })).toBe(2);
  });
});
