/** What the retraining library needs from its caller (the `retrain`, `quality` and `drift-check` commands). */
import type { Context } from '../cli/context.js';
import type { Reporter } from '../core/reporter.js';
import type { Manifest } from '../manifest/types.js';
import type { LogSource, LogWindow, Target } from '../targets/types.js';
import { localLogSources } from '../drift/readers.js';
import { feedbackSources } from './join.js';
import { OperationError } from '../core/errors.js';

export interface RetrainContext {
  manifest: Manifest;
  output: Reporter;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now(): Date;
  /** The manifest's target, created once on first use. */
  target(): Promise<Target>;
}

/**
 * Predictions and their feedback for a window: from `--logs <folder>` (both logs side by side, as the
 * serving app writes them), else from the target.
 */
export async function labelledLogs(ctx: RetrainContext, window: LogWindow, logs?: string): Promise<{ predictions: LogSource[]; feedback: LogSource[] }> {
  if (logs) {
    const path = await import('node:path');
    const dir = path.resolve(ctx.cwd, logs);
    return { predictions: localLogSources(dir, window, ctx.cwd), feedback: feedbackSources(dir, window) };
  }
  const target = await ctx.target();
  if (!target.feedbackLogs) {
    throw new OperationError('feedback_unavailable', `the ${target.name} target does not keep ground-truth feedback`, {
      hint: 'Pass --logs <folder> holding predictions-*.jsonl and feedback-*.jsonl.',
    });
  }
  return { predictions: await target.predictionLogs(window), feedback: await target.feedbackLogs(window) };
}

/** The library context from the CLI's: the manifest, output, environment, a clock and the target (made once, lazily). */
export async function retrainContext(ctx: Context, command: string): Promise<RetrainContext> {
  const manifest = await ctx.manifest();
  return {
    manifest,
    output: ctx.output,
    env: ctx.env,
    cwd: ctx.cwd,
    now: () => new Date(),
    target: () => ctx.target(command),
  };
}
