/**
 * Running the retraining pipeline on SageMaker: start an execution of the project's pipeline (which
 * `deploy` created from `retraining.schedule`) and follow it with progress until it ends. A
 * successful run has registered a new model package, pending approval, in the project's group.
 */
import type { Reporter } from '../../core/reporter.js';
import { OperationError } from '../../core/errors.js';
import { ifExists } from './aws-client.js';
import type { WaitOptions } from './endpoint-wait.js';
import type { RetrainingRun } from '../types.js';
import type { Session } from './session.js';

/** How a pipeline execution ended. */
/** What a followed pipeline execution ended as (the Target interface's `RetrainingRun`). */
export type PipelineRun = RetrainingRun;

const RUNNING = new Set(['Executing', 'Stopping']);

/** Start the project's retraining pipeline and wait for it (`timeoutS`), reporting each status change. */
export async function runRetrainingPipeline(session: Session, output: Reporter, options: WaitOptions & { timeoutS: number; now: () => Date }): Promise<PipelineRun> {
  const { api, r } = session;
  if (!(await ifExists(() => api.describePipeline({ PipelineName: r.pipeline })))) {
    throw new OperationError('pipeline_missing', `there is no retraining pipeline ${r.pipeline} in ${r.region}`, {
      hint: 'Set retraining.schedule in mlship.yaml and run `mlship deploy --target sagemaker`, which creates it.',
    });
  }
  const started = await api.startPipelineExecution({
    PipelineName: r.pipeline,
    PipelineExecutionDisplayName: `mlship-${options.now().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}`,
    PipelineExecutionDescription: 'started by mlship retrain',
  });
  const arn = started.PipelineExecutionArn;
  if (!arn) throw new OperationError('aws_error', `SageMaker returned no execution for pipeline ${r.pipeline}`);
  const begin = Date.now();
  const progress = await output.progress(`pipeline ${r.pipeline}: started`);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let pause = 2000;
  for (;;) {
    const run = await api.describePipelineExecution({ PipelineExecutionArn: arn });
    const status = run.PipelineExecutionStatus ?? 'Unknown';
    const seconds = Math.round((Date.now() - begin) / 1000);
    if (!RUNNING.has(status)) {
      if (status === 'Succeeded') {
        progress.succeed(`pipeline ${r.pipeline}: Succeeded (${seconds}s); the new version waits for approval in model package group ${r.packageGroup}`);
        return { pipeline: r.pipeline, executionId: arn, status, seconds };
      }
      progress.fail(`pipeline ${r.pipeline}: ${status}`);
      throw new OperationError('pipeline_failed', `the retraining pipeline ${r.pipeline} ended ${status}${run.FailureReason ? `: ${run.FailureReason}` : ''}`, {
        hint: `See the execution's steps in SageMaker Studio (${arn}); the training step's logs are in CloudWatch under /aws/sagemaker/TrainingJobs.`,
        details: { executionId: arn, status },
      });
    }
    progress.update(`pipeline ${r.pipeline}: ${status} (${seconds}s)`);
    if (seconds >= options.timeoutS) {
      progress.fail();
      throw new OperationError('pipeline_timeout', `the retraining pipeline ${r.pipeline} is still ${status} after ${options.timeoutS}s; it keeps running on SageMaker`, {
        hint: `Follow it in SageMaker Studio (${arn}), or wait longer with a larger --timeout.`,
      });
    }
    await sleep(pause);
    pause = Math.min(pause * 2, options.maxPollMs ?? 30_000);
  }
}
