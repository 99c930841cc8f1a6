/**
 * LLM projects for the tests: the tiny random-weight GGUF model (test/fixtures/llm/make_tiny_gguf.py,
 * 572 KB, ASCII-only output) made by the suite's Python into a temporary project folder, with the
 * manifest `mlship init` writes for it; and the one OpenAI chat call the tests make, streamed or not.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { python, repoRoot, runCli, tempDir } from './cli.js';
import { postJson } from './http.js';

const MAKER = path.join(repoRoot, 'test', 'fixtures', 'llm', 'make_tiny_gguf.py');

/** Make the tiny model at `file` (about a second). */
export function makeTinyGguf(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  execFileSync(python, [MAKER, file], { stdio: 'ignore' });
}

/** A project holding the tiny model at model/tiny.gguf and the manifest `mlship init --yes` writes for it. */
export async function tinyLlmProject(prefix = 'mlship-llm-'): Promise<{ dir: string; cleanup: () => void }> {
  const t = tempDir(prefix);
  makeTinyGguf(path.join(t.dir, 'model', 'tiny.gguf'));
  const init = await runCli(['init', '--yes', '--name', 'tiny'], { cwd: t.dir });
  if (init.code !== 0) throw new Error(`mlship init failed:\n${init.stderr}`);
  return t;
}

/** The answer to one chat request: the status, the completion text and, streamed, the raw events. */
export interface ChatResult {
  status: number;
  text: string;
  body: string;
  events: string[];
}

/** POST one chat completion to `url` (the deployment's base URL); `stream` collects the SSE events. */
export async function chat(url: string, content: string, options: { stream?: boolean; maxTokens?: number } = {}): Promise<ChatResult> {
  const body = { messages: [{ role: 'user', content }], max_tokens: options.maxTokens ?? 8, ...(options.stream && { stream: true }) };
  const res = await postJson(`${url}/v1/chat/completions`, body);
  if (!options.stream) {
    const parsed = res.status === 200 ? (JSON.parse(res.body) as { choices: { message: { content: string } }[] }) : undefined;
    return { status: res.status, text: parsed?.choices[0]?.message.content ?? '', body: res.body, events: [] };
  }
  const events = res.body
    .split('\n\n')
    .map((e) => e.trim())
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length));
  const text = events
    .filter((e) => e !== '[DONE]')
    .map((e) => (JSON.parse(e) as { choices?: { delta?: { content?: string | null } }[] }).choices?.[0]?.delta?.content ?? '')
    .join('');
  return { status: res.status, text, body: res.body, events };
}
