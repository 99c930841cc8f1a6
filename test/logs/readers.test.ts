/** The log readers: mlship lines, SageMaker Data Capture (JSON, CSV, BASE64, batches), local files. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { PredictionRecord } from '../../src/logs/format.js';
import { sagemakerCaptureFormat } from '../../src/logs/formats/sagemaker.js';
import { localLogSources, readSource, ReadStats, type LogRecord } from '../../src/logs/readers.js';
import type { LogSource, LogWindow } from '../../src/logs/types.js';
import { tempDir } from '../helpers/cli.js';

const fields = ['tenure_months', 'monthly_charges', 'plan'];
const tmp = tempDir('mlship-readers-');
afterAll(() => tmp.cleanup());

function memorySource(format: LogSource['format'], lines: string[]): LogSource {
  return {
    description: 'memory',
    format,
    async *lines() {
      yield* lines;
    },
  };
}

async function read(
  source: LogSource,
  window?: LogWindow,
): Promise<{ records: { ts: unknown; values: unknown[]; output: unknown; hasOutput: boolean }[]; stats: ReadStats }> {
  const stats = new ReadStats();
  const records: { ts: unknown; values: unknown[]; output: unknown; hasOutput: boolean }[] = [];
  await readSource(
    source,
    (r: LogRecord) => {
      records.push({ ts: r.ts, values: [...r.values], output: r.output, hasOutput: r.hasOutput });
      return undefined;
    },
    { fields, csvFields: ['tenure_months', 'monthly_charges', 'support_calls', 'plan'], window, stats },
  );
  return { records, stats };
}

function capture(
  input: { data: string; encoding: string; type: string },
  output?: { data: string; encoding: string; type: string },
  time = '2026-11-27T10:30:45.123Z',
): string {
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: input.type, mode: 'INPUT', data: input.data, encoding: input.encoding },
      ...(output && { endpointOutput: { observedContentType: output.type, mode: 'OUTPUT', data: output.data, encoding: output.encoding } }),
    },
    eventMetadata: { eventId: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890', inferenceTime: time },
    eventVersion: '0',
  });
}

describe('mlship prediction log lines', () => {
  it('reads inputs by field, outputs, and counts every malformed line by reason', async () => {
    const { records, stats } = await read(
      memorySource('mlship', [
        '{"ts":"2026-11-27T10:00:00Z","id":"1","model":"churn","version":"v1","input":{"tenure_months":3,"monthly_charges":50.5,"plan":"pro"},"output":0.7,"latency_ms":2}',
        '{"ts":"2026-11-27T10:00:01Z","input":{"plan":"basic"},"output":"churn"}',
        '',
        '{"ts":"2026-11-27T10:00:02Z","input":{"tenure_months":3',
        '{"ts":"2026-11-27T10:00:03Z","output":1}',
        '"just a string"',
      ]),
    );
    expect(records).toEqual([
      { ts: '2026-11-27T10:00:00Z', values: [3, 50.5, 'pro'], output: 0.7, hasOutput: true },
      { ts: '2026-11-27T10:00:01Z', values: [undefined, undefined, 'basic'], output: 'churn', hasOutput: true },
    ]);
    expect(stats).toMatchObject({ lines: 5, records: 2, malformed: 3, reasons: { invalid_json: 1, missing_input: 1, not_an_object: 1 } });
    expect(stats.examples[0]).toBe('memory:4: invalid json');
  });

  it('filters by the window on each line timestamp', async () => {
    const { records, stats } = await read(
      memorySource('mlship', [
        '{"ts":"2026-11-26T23:59:59Z","input":{"plan":"a"}}',
        '{"ts":"2026-11-27T00:00:00Z","input":{"plan":"b"}}',
        '{"ts":"2026-11-28T00:00:00Z","input":{"plan":"c"}}',
        '{"input":{"plan":"no time"}}',
      ]),
      { from: new Date('2026-11-27T00:00:00Z'), to: new Date('2026-11-28T00:00:00Z') },
    );
    expect(records.map((r) => r.values[2])).toEqual(['b']);
    expect(stats).toMatchObject({ outsideWindow: 2, malformed: 1, reasons: { missing_timestamp: 1 } });
  });
});

describe('SageMaker Data Capture lines', () => {
  it('reads JSON bodies: one record, a list, and {"instances": [...]} with {"predictions": [...]}', async () => {
    const { records, stats } = await read(
      memorySource('sagemaker-capture', [
        capture(
          { data: '{"tenure_months":5,"monthly_charges":70.1,"plan":"pro"}', encoding: 'JSON', type: 'application/json' },
          { data: '0.42', encoding: 'JSON', type: 'application/json' },
        ),
        capture(
          { data: '{"instances":[{"tenure_months":1,"plan":"basic"},{"tenure_months":2,"plan":"enterprise"}]}', encoding: 'JSON', type: 'application/json' },
          { data: '{"predictions":[0.1,0.9]}', encoding: 'JSON', type: 'application/json' },
        ),
      ]),
    );
    expect(records).toEqual([
      { ts: '2026-11-27T10:30:45.123Z', values: [5, 70.1, 'pro'], output: 0.42, hasOutput: true },
      { ts: '2026-11-27T10:30:45.123Z', values: [1, undefined, 'basic'], output: 0.1, hasOutput: true },
      { ts: '2026-11-27T10:30:45.123Z', values: [2, undefined, 'enterprise'], output: 0.9, hasOutput: true },
    ]);
    expect(stats.malformed).toBe(0);
  });

  it('maps CSV rows onto the schema order, and decodes BASE64 bodies by content type', async () => {
    const csvBody = '6,60.53,0,pro\n56,106.28,2,enterprise\n';
    const { records } = await read(
      memorySource('sagemaker-capture', [
        capture(
          { data: '12,80.5,1,basic', encoding: 'CSV', type: 'text/csv' },
          { data: '0.0254181120544672', encoding: 'CSV', type: 'text/csv; charset=utf-8' },
        ),
        capture(
          { data: Buffer.from(csvBody).toString('base64'), encoding: 'BASE64', type: 'text/csv' },
          { data: Buffer.from('0.3\n0.8\n').toString('base64'), encoding: 'BASE64', type: 'text/csv' },
        ),
        capture({ data: Buffer.from('{"tenure_months":9,"plan":"pro"}').toString('base64'), encoding: 'BASE64', type: 'application/json' }),
      ]),
    );
    expect(records).toEqual([
      { ts: '2026-11-27T10:30:45.123Z', values: ['12', '80.5', 'basic'], output: 0.0254181120544672, hasOutput: true },
      { ts: '2026-11-27T10:30:45.123Z', values: ['6', '60.53', 'pro'], output: 0.3, hasOutput: true },
      { ts: '2026-11-27T10:30:45.123Z', values: ['56', '106.28', 'enterprise'], output: 0.8, hasOutput: true },
      { ts: '2026-11-27T10:30:45.123Z', values: [9, undefined, 'pro'], output: undefined, hasOutput: false },
    ]);
  });

  it('reads capture lines whatever the order of their keys (issue 17 item 3: JSON key order is not the format)', async () => {
    // As SageMaker writes them in the wild: eventMetadata first, endpointOutput before endpointInput.
    const reordered = JSON.stringify({
      eventMetadata: { inferenceTime: '2026-11-27T10:30:45.123Z', eventId: 'e1' },
      eventVersion: '0',
      captureData: {
        endpointOutput: { data: '0.42', encoding: 'JSON', mode: 'OUTPUT', observedContentType: 'application/json' },
        endpointInput: {
          encoding: 'JSON',
          data: '{"plan":"pro","tenure_months":5,"monthly_charges":70.1}',
          mode: 'INPUT',
          observedContentType: 'application/json',
        },
      },
    });
    const file = path.join(tmp.dir, 'reordered-capture.jsonl');
    writeFileSync(file, `${reordered}\n${reordered}\n`);
    const [source] = localLogSources(file);
    expect(source!.format).toBe('sagemaker-capture');
    const { records, stats } = await read(source!);
    expect(stats.malformed).toBe(0);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ ts: '2026-11-27T10:30:45.123Z', values: [5, 70.1, 'pro'], output: 0.42, hasOutput: true });
    // mlship's own lines with "input" anywhere in the object are mlship's format, and gzip is read to detect.
    const mine = path.join(tmp.dir, 'mine.jsonl.gz');
    writeFileSync(mine, gzipSync('{"output":0.1,"version":"v1","input":{"plan":"pro"},"ts":"2026-11-27T10:00:00Z"}\n'));
    const gzCapture = path.join(tmp.dir, 'capture.jsonl.gz');
    writeFileSync(gzCapture, gzipSync(`${reordered}\n`));
    expect(localLogSources(mine)[0]!.format).toBe('mlship');
    expect(localLogSources(gzCapture)[0]!.format).toBe('sagemaker-capture');
  });

  it('counts lines it cannot read', async () => {
    const { stats } = await read(
      memorySource('sagemaker-capture', [
        '{"captureData": {"endpointInput": ',
        '{"eventVersion": "0"}',
        capture({ data: 'not json', encoding: 'JSON', type: 'application/json' }),
      ]),
    );
    expect(stats.reasons).toEqual({ invalid_json: 1, missing_capture_data: 1, unreadable_input: 1 });
  });
});

describe('SageMaker Data Capture of an LLM (OpenAI bodies, whole and streamed)', () => {
  const parse = (lines: string[]): { records: PredictionRecord[]; problems: (string | undefined)[] } => {
    const parser = sagemakerCaptureFormat.parser({ csvFields: fields });
    const records: PredictionRecord[] = [];
    const problems = lines.map((line) => parser(line, (r) => records.push(structuredClone(r))));
    return { records, problems };
  };
  const messages = [{ role: 'user', content: 'Say hello.' }];
  const facts = {
    stream: false,
    status: 200,
    prompt_tokens: 9,
    completion_tokens: 4,
    cached_tokens: 0,
    finish_reason: 'length',
    ttft_ms: 3.2,
    itl_ms: 0.6,
    e2e_ms: 5.1,
    usage_source: 'backend',
  };
  const json = (data: unknown) => ({ data: JSON.stringify(data), encoding: 'JSON', type: 'application/json' });

  it("reads the gateway's facts from a whole answer: the prompt, the completion's text, the version and the llm block", () => {
    const answer = {
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi there' }, finish_reason: 'length' }],
      usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
      mlship: { id: 'r1', version: 'v2', llm: facts },
    };
    const { records, problems } = parse([capture(json({ messages, max_tokens: 4 }), json(answer))]);
    expect(problems).toEqual([undefined]);
    expect(records).toEqual([
      {
        ts: '2026-11-27T10:30:45.123Z',
        id: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890',
        version: 'v2',
        input: { endpoint: 'chat', messages },
        output: 'hi there',
        hasOutput: true,
        llm: facts,
      },
    ]);
  });

  it("reads a streamed answer (BASE64 text/event-stream): the deltas' text and the gateway's SSE comment", () => {
    const events = [
      { object: 'text_completion', choices: [{ index: 0, text: 'hel', finish_reason: null }] },
      { object: 'text_completion', choices: [{ index: 0, text: 'lo', finish_reason: 'stop' }] },
    ];
    const streamed = { ...facts, stream: true, finish_reason: 'stop' };
    const sse = `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}: mlship ${JSON.stringify({ id: 'r2', version: 'v1', llm: streamed })}\n\ndata: [DONE]\n\n`;
    const { records } = parse([
      capture(json({ prompt: 'Once', stream: true }), { data: Buffer.from(sse).toString('base64'), encoding: 'BASE64', type: 'text/event-stream' }),
    ]);
    expect(records).toEqual([expect.objectContaining({ input: { endpoint: 'completions', prompt: 'Once' }, output: 'hello', version: 'v1', llm: streamed })]);
  });

  it("without the gateway's block (another server): what the answer says (llm-exchange.ts); a tabular `prompt` stays tabular", () => {
    const answer = {
      choices: [{ text: 'abc', finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 1 } },
    };
    const { records } = parse([
      capture(json({ prompt: 'x' }), json(answer)),
      capture(json({ messages }), undefined),
      capture(json({ prompt: 'short', tenure_months: 4 }), json({ prediction: 0.3 })),
    ]);
    expect(records[0]).toMatchObject({
      input: { endpoint: 'completions', prompt: 'x' },
      output: 'abc',
      llm: { stream: false, prompt_tokens: 3, completion_tokens: 2, cached_tokens: 1, finish_reason: 'stop', ttft_ms: null, itl_ms: null, e2e_ms: null },
    });
    expect(records[1]).toEqual({
      ts: '2026-11-27T10:30:45.123Z',
      id: 'a1b2c3d4-e5f6-7890-abcd-ef1234567890',
      input: { endpoint: 'chat', messages },
      hasOutput: false,
    });
    expect(records[2]).toMatchObject({ input: { prompt: 'short', tenure_months: 4 }, output: 0.3, hasOutput: true });
    expect(records[2]!.llm).toBeUndefined();
  });
});

describe('localLogSources', () => {
  const logs = path.join(tmp.dir, 'logs');
  mkdirSync(path.join(logs, 'nested'), { recursive: true });
  const line = (day: string) => `{"ts":"${day}T12:00:00Z","input":{"plan":"pro"}}\n`;
  writeFileSync(path.join(logs, 'predictions-2026-11-25.jsonl'), line('2026-11-25'));
  writeFileSync(path.join(logs, 'predictions-2026-11-26.jsonl'), line('2026-11-26'));
  writeFileSync(path.join(logs, 'predictions-2026-11-27.jsonl.gz'), gzipSync(line('2026-11-27') + line('2026-11-27')));
  writeFileSync(path.join(logs, 'nested', '2026-11-27T10-30-45.jsonl'), capture({ data: '1,2,3,pro', encoding: 'CSV', type: 'text/csv' }) + '\n');
  writeFileSync(path.join(logs, 'notes.txt'), 'not a log');

  it('finds log files in a folder (recursively), detects their format and reads gzip', async () => {
    const sources = localLogSources(logs);
    expect(sources.map((s) => [path.relative(logs, s.description), s.format])).toEqual([
      ['nested/2026-11-27T10-30-45.jsonl', 'sagemaker-capture'],
      ['predictions-2026-11-25.jsonl', 'mlship'],
      ['predictions-2026-11-26.jsonl', 'mlship'],
      ['predictions-2026-11-27.jsonl.gz', 'mlship'],
    ]);
    const gz = await read(sources[3]!);
    expect(gz.records).toHaveLength(2);
  });

  it('skips daily files outside the window by name, and expands globs', () => {
    const windowed = localLogSources(logs, { from: new Date('2026-11-26T06:00:00Z') });
    expect(windowed.map((s) => path.basename(s.description))).toEqual([
      '2026-11-27T10-30-45.jsonl',
      'predictions-2026-11-26.jsonl',
      'predictions-2026-11-27.jsonl.gz',
    ]);
    expect(localLogSources(path.join(logs, 'predictions-*.jsonl')).map((s) => path.basename(s.description))).toEqual([
      'predictions-2026-11-25.jsonl',
      'predictions-2026-11-26.jsonl',
    ]);
    expect(localLogSources(path.join(logs, '**', '*.jsonl')).length).toBe(3);
  });

  it('says where logs were expected when the path does not exist', () => {
    expect(() => localLogSources(path.join(tmp.dir, 'missing'))).toThrow(/no prediction logs at/);
  });
});
