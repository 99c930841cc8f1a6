/**
 * `mlship drift-check` on an LLM project, as a user runs it, on prediction logs the real gateway
 * wrote (python/mlship_serving/llm/ in front of a real llama-server on the tiny model:
 * llm_traffic.py). The first week's lines are the gateway's own lines with their `ts` moved ten
 * days back (the gateway stamps now); nothing else in a line is written here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, python, runCli, tempDir } from '../../helpers/cli.js';
import { at, type Body, type Line, shifted, usual, writeDaily } from './llm-traffic.js';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const DAY = 86_400_000;

const N = 40;
let work: { dir: string; cleanup: () => void };
/** The gateway's lines by request-id prefix: base, same (the usual traffic again), shifted, redacted (the usual traffic logged redacted). */
const lines: Record<string, Line[]> = {};
const projects: { cleanup: () => void }[] = [];

/** Run the real gateway on `requests` (log_content `mode`) and return its log lines in order. */
function traffic(name: string, mode: string, requests: { id: string; body: Body }[]): Line[] {
  const dir = path.join(work.dir, name);
  mkdirSync(dir);
  const r = spawnSync(python, [path.join(HERE, 'llm_traffic.py'), dir, mode], { input: JSON.stringify(requests), encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`llm_traffic.py failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const logs = path.join(dir, 'logs');
  return readdirSync(logs)
    .filter((f) => f.startsWith('predictions-'))
    .sort()
    .flatMap((f) =>
      readFileSync(path.join(logs, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Line),
    );
}

/** An LLM project whose `.mlship/logs/` holds `logged` (one file per day, as the gateway names them). */
function project(logged: Line[], monitoring = ''): string {
  const t = tempDir('mlship-llmdrift-');
  projects.push(t);
  mkdirSync(path.join(t.dir, 'model'));
  writeFileSync(path.join(t.dir, 'model', 'tiny.gguf'), 'weights: drift-check never loads them\n');
  writeFileSync(
    path.join(t.dir, 'mlship.yaml'),
    `name: tiny\nmodel:\n  path: model/tiny.gguf\n  flavor: llm\n  params: 1000000\ntarget: local\n${monitoring ? `monitoring:\n${monitoring}` : ''}`,
  );
  writeDaily(path.join(t.dir, '.mlship', 'logs'), logged);
  return t.dir;
}

interface Feature {
  name: string;
  kind: string;
  method: string | null;
  drift: boolean;
  critical: boolean;
  note?: string;
  counts: { baseline: number; current: number };
  distribution: { categories?: string[]; current: number[] };
}
interface Doc {
  drift: boolean;
  rows: number;
  features: Feature[];
  drifted: string[];
  critical_drifted: string[];
  output: { supported: boolean; reason: string };
  baseline: { source: string; rows: number };
  window: { from?: string };
}

const FEATURES = [
  'prompt_tokens',
  'prompt_chars',
  'completion_tokens',
  'ttft_ms',
  'tokens_per_s',
  'finish_reason',
  'prompt_script',
  'empty_completion',
  'refusal',
];

describe('mlship drift-check on an LLM (real gateway logs)', () => {
  const weekAgo = Date.now() - 10 * DAY;

  beforeAll(() => {
    work = tempDir('mlship-llmtraffic-');
    const ids = (prefix: string, make: (i: number) => Body) => Array.from({ length: N }, (_, i) => ({ id: `${prefix}-${i}`, body: make(i) }));
    const all = traffic('full', 'full', [...ids('base', usual), ...ids('same', usual), ...ids('shifted', shifted)]);
    for (const prefix of ['base', 'same', 'shifted']) lines[prefix] = all.filter((l) => l.id.startsWith(`${prefix}-`));
    lines.redacted = traffic('redacted', 'redacted', ids('redacted', usual));
  }, 600_000);
  afterAll(() => {
    for (const p of projects) p.cleanup();
    work?.cleanup();
  });

  it('the gateway logged every request, with the facts the check reads', () => {
    for (const prefix of ['base', 'same', 'shifted', 'redacted']) expect(lines[prefix]).toHaveLength(N);
    const first = lines.base![1]!;
    expect(first.llm).toMatchObject({ status: 200, finish_reason: expect.any(String), prompt_tokens: expect.any(Number), ttft_ms: expect.any(Number) });
    expect(lines.shifted!.every((l) => l.llm.finish_reason === 'length')).toBe(true);
    expect(lines.redacted![1]!.input.messages).toEqual([
      { role: 'system', content: '[redacted: 14 chars]' },
      { role: 'user', content: expect.stringMatching(/^\[redacted: \d+ chars\]$/) },
    ]);
  });

  it('unshifted traffic against the first week: no drift (exit 0), every feature compared', async () => {
    const dir = project([...at(lines.base!, weekAgo), ...lines.same!]);
    const r = await runCli(['drift-check', '--json'], { cwd: dir });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const doc = json<Doc>(r);
    expect(doc.drift).toBe(false);
    expect(doc.features.map((f) => f.name)).toEqual(FEATURES);
    expect(doc.features.every((f) => f.method !== null)).toBe(true);
    // The same requests again: the same prompts, completions and finish reasons (only the timings may move).
    const behaviour = doc.features.filter((f) => !['ttft_ms', 'tokens_per_s'].includes(f.name));
    expect(behaviour.filter((f) => f.drift)).toEqual([]);
    expect(doc.rows).toBe(N);
    expect(doc.baseline).toEqual({ source: expect.stringMatching(/^first week of logs \(/), rows: N });
    expect(doc.critical_drifted).toEqual([]);
    expect(doc.output).toMatchObject({ supported: false, reason: expect.stringMatching(/compared as features/) });
  });

  it('shifted traffic: drift (exit 3), naming what drifted, in the table, --json and --report', async () => {
    const dir = project([...at(lines.base!, weekAgo), ...lines.shifted!]);
    const table = await runCli(['drift-check', '--report', 'drift.html'], { cwd: dir });
    expect(table.code, table.stderr).toBe(3);
    expect(table.stdout).toMatch(/^feature\s+kind\s+method\s+score/);
    expect(table.stdout).toMatch(/finish_reason\s+categorical\s+jensenshannon\s+[\d.]+\s+>= 0\.1\s+DRIFT \(critical\)/);
    expect(table.stdout).toMatch(/prompt_script\s+categorical\s+jensenshannon\s+[\d.]+\s+>= 0\.1\s+DRIFT/);
    expect(table.stdout).toMatch(/prompt_tokens\s+numeric\s+ks\s+\S+\s+< 0\.05\s+DRIFT/);
    expect(table.stdout).toMatch(/^DRIFT: \d of 9 features drifted .*critical: .*finish_reason/m);
    const html = readFileSync(path.join(dir, 'drift.html'), 'utf8');
    expect(html).toContain('Drift found');
    expect(html).toContain('data-feature="prompt_script"');
    expect(table.stderr).toMatch(/report written to drift\.html/);

    const doc = json<Doc>(await runCli(['drift-check', '--json'], { cwd: dir }));
    expect(doc.drift).toBe(true);
    expect(doc.drifted).toEqual(expect.arrayContaining(['prompt_tokens', 'prompt_chars', 'completion_tokens', 'finish_reason', 'prompt_script']));
    expect(doc.critical_drifted).toContain('finish_reason');
    const script = doc.features.find((f) => f.name === 'prompt_script')!;
    expect(script.distribution.categories).toEqual(expect.arrayContaining(['Latin', 'Cyrillic']));
    const finish = doc.features.find((f) => f.name === 'finish_reason')!;
    expect(finish).toMatchObject({ critical: true, counts: { baseline: N, current: N } });
    expect(Object.keys(finish).slice(0, 6)).toEqual(['name', 'kind', 'method', 'score', 'threshold', 'drift']);
  });

  it('a reference file of plain requests (monitoring.drift.reference): what it cannot have is not compared, and says why', async () => {
    const dir = project(lines.shifted!, '  drift:\n    reference: data/reference.jsonl\n');
    mkdirSync(path.join(dir, 'data'));
    // The usual traffic as a user would keep it: the requests and the completions they got.
    const reference = lines.base!.map((l) => JSON.stringify({ ...l.input, endpoint: undefined, completion: l.output }));
    writeFileSync(path.join(dir, 'data', 'reference.jsonl'), `${reference.join('\n')}\n`);
    const r = await runCli(['drift-check', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    const doc = json<Doc>(r);
    expect(doc.baseline).toEqual({ source: path.join('data', 'reference.jsonl'), rows: N });
    expect(doc.window.from).toBeUndefined();
    const byName = Object.fromEntries(doc.features.map((f) => [f.name, f]));
    for (const f of ['prompt_tokens', 'completion_tokens', 'finish_reason'])
      expect(byName[f]).toMatchObject({
        method: null,
        drift: false,
        note: expect.stringMatching(/^not compared: the baseline has no token counts or finish reasons/),
      });
    for (const f of ['ttft_ms', 'tokens_per_s'])
      expect(byName[f]).toMatchObject({ method: null, note: expect.stringMatching(/^not compared: the baseline has no logged timings/) });
    for (const f of ['prompt_chars', 'prompt_script', 'empty_completion', 'refusal']) expect(byName[f]!.method).not.toBeNull();
    expect(doc.drifted).toEqual(expect.arrayContaining(['prompt_chars', 'prompt_script']));

    const table = await runCli(['drift-check'], { cwd: dir });
    expect(table.stdout).toMatch(/ttft_ms\s+numeric\s+—\s+—\s+—\s+skipped/);
    expect(table.stdout).toMatch(/note: ttft_ms: not compared: the baseline has no logged timings/);
    expect(table.stdout).toMatch(/^DRIFT: [234] of 4 features drifted/m);

    // --reference first-week overrides the manifest's reference: these logs are all today's.
    const firstWeek = await runCli(['drift-check', '--reference', 'first-week'], { cwd: dir });
    expect(firstWeek.code).toBe(1);
    expect(firstWeek.stderr).toMatch(/younger than a week/);
  });

  it('an exported prediction log as the reference (--baseline): every feature compared', async () => {
    const dir = project(lines.same!);
    writeFileSync(
      path.join(dir, 'exported.jsonl'),
      `${at(lines.base!, weekAgo)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n`,
    );
    const r = await runCli(['drift-check', '--baseline', 'exported.jsonl', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const doc = json<Doc>(r);
    expect(doc.baseline.source).toBe('exported.jsonl');
    expect(doc.features.every((f) => f.method !== null)).toBe(true);
  });

  it('prompts and completions logged redacted: the script and refusals are not compared, lengths and empty answers are', async () => {
    const dir = project([...at(lines.base!, weekAgo), ...lines.redacted!]);
    const r = await runCli(['drift-check', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const byName = Object.fromEntries(json<Doc>(r).features.map((f) => [f.name, f]));
    expect(byName.prompt_script).toMatchObject({ method: null, note: 'not compared: prompts are logged redacted/hashed in the current window' });
    expect(byName.refusal).toMatchObject({ method: null, note: 'not compared: completions are logged redacted/hashed in the current window' });
    expect(byName.prompt_chars).toMatchObject({ method: 'ks', drift: false, counts: { baseline: N, current: N } });
    expect(byName.empty_completion).toMatchObject({ method: 'jensenshannon', drift: false });
    const table = await runCli(['drift-check'], { cwd: dir });
    expect(table.stdout).toMatch(/note: prompt_script: not compared: prompts are logged redacted\/hashed in the current window/);
  });

  it('too few requests on either side: a clear message and exit 1, as tabular drift-check with nothing to check', async () => {
    const small = await runCli(['drift-check'], { cwd: project([...at(lines.base!.slice(0, 10), weekAgo), ...lines.same!]) });
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/the baseline \(first week of logs .*\) has 10 requests; a drift check needs at least 30/);
    expect(small.stderr).not.toMatch(/\n\s+at /);

    // A deployment younger than a week: everything is the baseline, nothing after it yet.
    const young = await runCli(['drift-check'], { cwd: project(lines.same!) });
    expect(young.code).toBe(1);
    expect(young.stderr).toMatch(/the logs are younger than a week: their first week \(\S+ – \S+\) is the baseline, and nothing came after it yet/);
    expect(young.stderr).toMatch(/Check again after \S+, or name reference traffic in monitoring\.drift\.reference/);
  });

  it('a log longer than one batch: parsed on worker threads, with the same result as on the main thread', async () => {
    // The shifted lines 60 times over (about 2 MB: two batches and a part), each copy a minute later.
    const many = Array.from({ length: 60 }, (_, k) =>
      at(lines.shifted!, Date.now() - 2 * DAY + k * N * 60_000).map((l) => ({ ...l, id: `${l.id}-${k}` })),
    ).flat();
    const dir = project([...at(lines.base!, weekAgo), ...many]);
    const threaded = await runCli(['drift-check', '--json', '--verbose'], { cwd: dir, env: { MLSHIP_DRIFT_WORKERS: '2' } });
    const inline = await runCli(['drift-check', '--json'], { cwd: dir, env: { MLSHIP_DRIFT_WORKERS: '0' } });
    expect(threaded.stderr).toMatch(/parsed on 2 parser threads/);
    expect(threaded.code, threaded.stderr).toBe(3);
    expect(inline.code).toBe(3);
    const doc = json<Doc>(threaded);
    expect(doc).toEqual(json(inline));
    expect(doc.rows).toBe(60 * N);
  });

  it('a reference the manifest names that is not there: exit 2 with its place in mlship.yaml', async () => {
    const dir = project(lines.same!, '  drift:\n    reference: data/missing.jsonl\n');
    const r = await runCli(['drift-check'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mlship\.yaml:9:16: monitoring\.drift\.reference: file not found: data\/missing\.jsonl/);
  });
});
