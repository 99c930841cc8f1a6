/** What the retraining library needs from its caller (the `retrain`, `quality` and `drift-check` commands). */
import type { Reporter } from '../util/reporter.js';
import type { Manifest } from '../manifest/types.js';
import type { Target } from '../deploy/types.js';
import type { LogSource, LogWindow } from '../logs/types.js';
import { localLogSources } from '../logs/readers.js';
import { feedbackSources } from '../logs/join.js';
import { OperationError } from '../util/errors.js';

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
