/**
 * What the cloud targets' LLM tests (vertex/llm.test.ts, azure/llm.test.ts) share: the project `mlship
 * init` writes for the tiny model (test/helpers/llm.ts) pointed at a cloud, with a reference of the
 * usual traffic named in `monitoring.drift.reference` (test/monitoring/drift/llm-traffic.ts), a chat
 * body, and the events of an event stream.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tinyLlmProject } from '../helpers/llm.js';
import { usual } from '../monitoring/drift/llm-traffic.js';

/** Requests the drift check needs on each side. */
export const DRIFT_N = 40;

/**
 * The tiny model's project for `target` with `block` as its `targets.<target>` lines, and the usual
 * traffic (plain requests, not streamed) as the drift reference in data/reference.jsonl.
 */
export async function cloudLlmProject(target: string, block?: string): Promise<{ dir: string; cleanup: () => void }> {
  const project = await tinyLlmProject(`mlship-llm-${target}-`);
  const manifest = path.join(project.dir, 'mlship.yaml');
  const text = readFileSync(manifest, 'utf8')
    .replace(/^target: local$/m, `target: ${target}`)
    .replace('  drift: { schedule: "0 2 * * *" }', '  drift: { schedule: "0 2 * * *", reference: data/reference.jsonl }');
  writeFileSync(manifest, text);
  if (block !== undefined) addTargets(project.dir, block);
  const reference = Array.from({ length: DRIFT_N }, (_, i) => JSON.stringify({ ...usual(i), stream: undefined }));
  mkdirSync(path.join(project.dir, 'data'), { recursive: true });
  writeFileSync(path.join(project.dir, 'data', 'reference.jsonl'), `${reference.join('\n')}\n`);
  return project;
}

/** Append the `targets:` block (its lines, indented) to the project's manifest. */
export function addTargets(dir: string, block: string): void {
  const manifest = path.join(dir, 'mlship.yaml');
  writeFileSync(manifest, `${readFileSync(manifest, 'utf8')}targets:\n${block}`);
}

/** A second build of the same model: another context per request (another serve.py, another build). */
export function changeContext(dir: string, context: number): void {
  const manifest = path.join(dir, 'mlship.yaml');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/^ {2}context: \d+$/m, `  context: ${context}`));
}

/** A chat body the tiny model answers in a few milliseconds. */
export const CHAT = { messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 8 };

/** The JSON of each `data:` event of an event stream, and whether it ended with `[DONE]`. */
export function sseEvents(text: string): { events: Record<string, unknown>[]; done: boolean } {
  const data = text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));
  return { events: data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Record<string, unknown>), done: data.at(-1) === '[DONE]' };
}
