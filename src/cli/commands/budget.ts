/**
 * `mlship budget` — load-test the live deployment (or --url) and judge the latency and cost budgets;
 * for an LLM, a streaming load test judged per token.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { measureBudget, measureLlmBudget, planLlmLoad, planLoad, urlClient } from '../../budget/budget.js';
import { renderBudget, renderLlmBudget } from '../../budget/render.js';
import { durationSeconds } from '../../util/duration.js';
import { ExitCode, OperationError, UsageError } from '../../util/errors.js';
import type { Manifest } from '../../manifest/types.js';
import type { LiveClient } from '../../deploy/types.js';
import type { CommandModule, Context } from '../context.js';

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const manifest = await ctx.manifest();
  if (manifest.model.flavor === 'llm') return runLlm(ctx, manifest, options);
  const client = typeof options.url === 'string' ? urlClient(checkUrl(options.url)) : await liveClient(ctx, manifest);
  const plan = planLoad(manifest, {
    client,
    ...numberOption(options.rps, '--rps', 'rps'),
    ...numberOption(options.connections, '--connections', 'connections', true),
    ...(options.duration !== undefined && { durationSeconds: durationSeconds(options.duration, '--duration') }),
  });
  const progress = await ctx.output.progress(
    `load-testing ${client.version ? `${client.version} at ` : ''}${client.predictRoute} for ${plan.durationSeconds} s${plan.rps === undefined ? '' : ` at ${plan.rps} rps`}`,
  );
  let result;
  try {
    result = await measureBudget(manifest, plan);
  } catch (error) {
    progress.fail();
    throw error;
  }
  progress.succeed(`${result.load.responses} responses in ${result.load.durationSeconds} s`);
  if (result.load.generator.saturated)
    ctx.output.warn(`the load generator used ${result.load.generator.cpuPercent}% of a core: it may be the bottleneck, lower --rps`);
  if (typeof options.report === 'string') {
    const { renderReport } = await import('../../budget/report.js');
    writeReport(ctx, options.report, renderReport(result, { name: manifest.name, generatedAt: new Date() }));
  }
  return {
    data: result,
    text: renderBudget(result, (style, text) => ctx.output.style(style, text)),
    exitCode: result.verdict === 'over' ? ExitCode.checkFailed : ExitCode.ok,
  };
};

/** An LLM: `budget.concurrency` streams (--connections overrides) for a while, judged per token. */
async function runLlm(ctx: Context, manifest: Manifest, options: Record<string, unknown>): ReturnType<CommandModule['run']> {
  if (options.rps !== undefined)
    throw new UsageError('--rps does not apply to an LLM: its load is a number of streams at once', {
      hint: 'set budget.concurrency in mlship.yaml, or pass --connections N',
    });
  const live = typeof options.url !== 'string';
  const client = live ? await liveClient(ctx, manifest) : urlClient(checkUrl(options.url as string));
  const plan = planLlmLoad(manifest, {
    client,
    ...numberOption(options.connections, '--connections', 'connections', true),
    ...(options.duration !== undefined && { durationSeconds: durationSeconds(options.duration, '--duration') }),
  });
  const progress = await ctx.output.progress(
    `streaming ${plan.concurrency} at once to ${client.version ? `${client.version} at ` : ''}${client.chatRoute} for ${plan.durationSeconds} s`,
  );
  let result;
  try {
    result = await measureLlmBudget(manifest, plan, { record: live });
  } catch (error) {
    progress.fail();
    throw error;
  }
  progress.succeed(`${result.load.requests} completions in ${(result.load.wallMs / 1000).toFixed(1)} s`);
  if (result.load.generator.saturated)
    ctx.output.warn(`the load generator used ${result.load.generator.cpuPercent}% of a core: it may be the bottleneck, lower --connections`);
  if (typeof options.report === 'string') {
    const { renderLlmReport } = await import('../../budget/report.js');
    writeReport(ctx, options.report, renderLlmReport(result, { name: manifest.name, generatedAt: new Date() }));
  }
  return {
    data: result,
    text: renderLlmBudget(result, (style, text) => ctx.output.style(style, text)),
    exitCode: result.verdict === 'over' ? ExitCode.checkFailed : ExitCode.ok,
  };
}

/** Write `--report`'s HTML and say where. */
function writeReport(ctx: Context, name: string, html: string): void {
  const file = path.resolve(ctx.cwd, name);
  writeFileSync(file, html);
  ctx.output.info(`report written to ${path.relative(ctx.cwd, file) || file}`);
}

/** The live deployment as its callers reach it (the platform's route and credentials); a clear error when nothing is live. */
async function liveClient(ctx: Context, manifest: Manifest): Promise<LiveClient> {
  const { createTarget } = await import('../../targets/index.js');
  const target = await createTarget({ manifest, output: ctx.output, env: ctx.env, command: 'budget', now: () => new Date() });
  const client = await target.liveClient();
  if (!client) {
    throw new OperationError('nothing_live', `no version is live on the ${manifest.target} target`, {
      hint: 'run `mlship deploy` first, or pass --url of a running endpoint',
    });
  }
  return client;
}

function checkUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new UsageError(`--url: "${value}" is not an http(s) URL`, { hint: 'e.g. --url http://127.0.0.1:8080' });
}

function numberOption<K extends string>(value: unknown, flag: string, key: K, integer = false): Partial<Record<K, number>> {
  if (value === undefined) return {};
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: expected a positive ${integer ? 'integer' : 'number'}, got "${String(value)}"`);
  }
  return { [key]: n } as Partial<Record<K, number>>;
}
