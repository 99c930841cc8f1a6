/**
 * Running the retraining pipeline on SageMaker: start an execution of the project's pipeline (which
 * `deploy` created from `retraining.schedule`) and follow it with the shared poller until it ends. A
 * successful run has registered a new model package, pending approval, in the project's group.
 */
import { OperationError } from '../../util/errors.js';
import type { Reporter } from '../../util/reporter.js';
import { pollUntil, type Clock } from '../../deploy/poll.js';
import type { RetrainingRun } from '../../deploy/types.js';
import { ifExists } from './aws-client.js';
import type { Session } from './session.js';

const RUNNING = new Set(['Executing', 'Stopping']);

/** Start the project's retraining pipeline and wait for it (`timeoutS`), reporting each status change. */
export async function runRetrainingPipeline(
  session: Session,
  reporter: Reporter,
  options: { timeoutS: number; clock: Clock; maxPollMs?: number },
): Promise<RetrainingRun> {
  const { api, r } = session;
  if (!(await ifExists(() => api.describePipeline({ PipelineName: r.pipeline })))) {
    throw new OperationError('pipeline_missing', `there is no retraining pipeline ${r.pipeline} in ${r.region}`, {
      hint: 'Set retraining.schedule in mlship.yaml and run `mlship deploy --target sagemaker`, which creates it.',
    });
  }
  const started = await api.startPipelineExecution({
    PipelineName: r.pipeline,
    PipelineExecutionDisplayName: `mlship-${options.clock
      .now()
      .toISOString()
      .replace(/[^0-9]/g, '')
      .slice(0, 14)}`,
    PipelineExecutionDescription: 'started by mlship retrain',
  });
  const arn = started.PipelineExecutionArn;
  if (!arn) throw new OperationError('aws_error', `SageMaker returned no execution for pipeline ${r.pipeline}`);
  const what = `pipeline ${r.pipeline}`;
  const { value: status, seconds } = await pollUntil({
    what,
    start: `${what}: started`,
    read: () => api.describePipelineExecution({ PipelineExecutionArn: arn }),
    classify: (run) => {
      const s = run.PipelineExecutionStatus ?? 'Unknown';
      if (RUNNING.has(s)) return { kind: 'pending', status: s };
      if (s === 'Succeeded')
        return { kind: 'done', value: s, message: `${what}: Succeeded; the new version waits for approval in model package group ${r.packageGroup}` };
      return {
        kind: 'failed',
        message: `${what}: ${s}`,
        error: new OperationError('pipeline_failed', `the retraining pipeline ${r.pipeline} ended ${s}${run.FailureReason ? `: ${run.FailureReason}` : ''}`, {
          hint: `See the execution's steps in SageMaker Studio (${arn}); the training step's logs are in CloudWatch under /aws/sagemaker/TrainingJobs.`,
          details: { executionId: arn, status: s },
        }),
      };
    },
    timeoutSeconds: options.timeoutS,
    onTimeout: (s, secs) =>
      new OperationError('pipeline_timeout', `the retraining pipeline ${r.pipeline} is still ${s} after ${secs}s; it keeps running on SageMaker`, {
        hint: `Follow it in SageMaker Studio (${arn}), or wait longer with a larger --timeout.`,
      }),
    clock: options.clock,
    reporter,
    firstPollMs: 2000,
    maxPollMs: options.maxPollMs ?? 30_000,
  });
  return { pipeline: r.pipeline, executionId: arn, status, seconds };
}
