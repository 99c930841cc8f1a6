/**
 * A GGUF model on the local target end to end, through the spawned CLI as a user runs it, with a
 * real llama-server behind mlship's gateway: init → build → push → deploy → chat (streamed and not)
 * → status → a second version → rollback, every request in the prediction log; and the clear error
 * when no llama-server can be found (nothing changes).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/targets/local/processes.js';
import { json, python, runCli } from '../../helpers/cli.js';
import { postJson } from '../../helpers/http.js';
import { chat, tinyLlmProject } from '../../helpers/llm.js';

let dir: string;
let cleanup: () => void;
let url: string;
const env = { MLSHIP_PYTHON: python, MLSHIP_LLAMA_THREADS: '1' };
const cli = (...args: string[]) => runCli(args, { cwd: dir, env, timeoutMs: 120_000 });

interface LogLine {
  version: string;
  input: { endpoint: string; messages: unknown };
  output: string;
  llm: Record<string, unknown>;
}
const logLines = (): LogLine[] => {
  const logs = path.join(dir, '.mlship', 'logs');
  return readdirSync(logs)
    .filter((f) => f.startsWith('predictions-'))
    .flatMap((f) => readFileSync(path.join(logs, f), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as LogLine);
};

beforeAll(async () => {
  ({ dir, cleanup } = await tinyLlmProject());
  url = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await cli('stop');
  cleanup();
});

describe('an LLM on the local target', () => {
  it('builds the gateway and pushes it as v1', async () => {
    const build = await cli('build', '--json');
    expect(build.code, build.stderr).toBe(0);
    const out = json<{ dir: string; build: Record<string, any> }>(build);
    expect(out.build).toMatchObject({ llm: { server: 'llama.cpp' }, model: { flavor: 'llm', file: 'model/tiny.gguf' } });
    expect(readFileSync(path.join(out.dir, 'serve.py'), 'utf8')).toContain('LlmSpec(');
    const push = await cli('push', '--json');
    expect(push.code, push.stderr).toBe(0);
    expect(json(push)).toMatchObject({ version: { version: 'v1' } });
  }, 300_000);

  it('deploys v1 and answers chats, whole and streamed, each one logged with its tokens and timings', async () => {
    const deploy = await cli('deploy', '--port', url.split(':')[2]!, '--json');
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(json(deploy)).toMatchObject({ live: { version: 'v1', url, healthy: true } });

    const whole = await chat(url, 'hello');
    expect(whole.status, whole.body).toBe(200);
    expect(JSON.parse(whole.body)).toMatchObject({ object: 'chat.completion', model: 'tiny', usage: { completion_tokens: expect.any(Number) } });

    const streamed = await chat(url, 'hello again', { stream: true, maxTokens: 5 });
    expect(streamed.status).toBe(200);
    expect(streamed.events.at(-1)).toBe('[DONE]');
    expect(streamed.text.length).toBeGreaterThan(0);

    // Bad input is the client's fault: a 400 in OpenAI's shape, never a 5xx.
    const bad = await postJson(`${url}/v1/chat/completions`, { messages: 'not a list' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.type).toBe('invalid_request_error');

    const lines = logLines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ version: 'v1', input: { endpoint: 'chat', messages: [{ role: 'user', content: 'hello' }] }, output: whole.text });
    expect(lines[1]).toMatchObject({ version: 'v1', output: streamed.text, llm: { stream: true, status: 200, completion_tokens: expect.any(Number) } });
    for (const { llm } of lines) {
      expect(llm.prompt_tokens).toBeGreaterThan(0);
      expect(llm.e2e_ms).toBeGreaterThan(0);
      expect(llm.queue_ms).toBeGreaterThanOrEqual(0);
    }
    expect(lines[1]!.llm.ttft_ms).toBeGreaterThan(0);

    const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^mlship_llm_time_to_first_token_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^mlship_llm_queue_time_seconds_count [1-9]/m);
    expect(metrics).toContain('llamacpp:'); // the backend's own metrics, passed through
  }, 300_000);

  it('status says v1 is live and healthy', async () => {
    const status = await cli('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(json(status)).toMatchObject({ live: { version: 'v1', url, healthy: true } });
  });

  it('switches to v2 (prompts logged hashed) and rolls back to v1', async () => {
    const manifest = path.join(dir, 'mlship.yaml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('log_content: full', 'log_content: hashed'));
    expect((await cli('build')).code).toBe(0);
    expect(json(await cli('push', '--json'))).toMatchObject({ version: { version: 'v2' } });
    const deploy = await cli('deploy', '--port', url.split(':')[2]!, '--json');
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(json(deploy)).toMatchObject({ live: { version: 'v2' } });
    expect((await chat(url, 'secret')).status).toBe(200);
    const v2 = logLines().at(-1)!;
    expect(v2.version).toBe('v2');
    expect(JSON.stringify(v2.input)).not.toContain('secret');
    expect(String(v2.output)).toMatch(/^sha256:/);

    const rollback = await cli('rollback', '--json');
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(json(rollback)).toMatchObject({ live: { version: 'v1' } });
    expect((await chat(url, 'back')).status).toBe(200);
    expect(logLines().at(-1)).toMatchObject({ version: 'v1', input: { messages: [{ content: 'back' }] } });
  }, 300_000);

  it('says how to get llama-server when none is found, and changes nothing', async () => {
    const deploy = await runCli(['deploy', '--version', 'v2', '--json'], {
      cwd: dir,
      env: { ...env, MLSHIP_LLAMA_SERVER: undefined, PATH: path.dirname(process.execPath) },
      timeoutMs: 60_000,
    });
    expect(deploy.code, deploy.stderr).toBe(1);
    const { error } = json<{ error: { code: string; message: string; hint: string } }>(deploy);
    expect(error.code).toBe('llama_server_missing');
    expect(error.message).toMatch(/no llama-server on PATH/);
    expect(error.hint).toMatch(/targets\.local\.llama_server/);
    expect(json(await cli('status', '--json'))).toMatchObject({ live: { version: 'v1', healthy: true } });
  }, 120_000);

  it('retrain says it does not retrain a language model, and how to ship a new one', async () => {
    const retrain = await cli('retrain', '--json');
    expect(retrain.code).toBe(2);
    const { error } = json<{ error: { code: string; message: string; hint: string } }>(retrain);
    expect(error.code).toBe('retrain_llm');
    expect(error.hint).toContain('mlship build && mlship push && mlship deploy');
  }, 60_000);
});
