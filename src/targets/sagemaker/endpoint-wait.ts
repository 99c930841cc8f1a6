/**
 * Waiting on a SageMaker endpoint with progress (a spinner with status and elapsed time on a
 * terminal, plain lines otherwise). Polls start after a second and back off to `maxPollMs`;
 * SageMaker takes minutes, and a re-run of an interrupted deploy picks the wait up again.
 */
import type { Reporter } from '../../core/reporter.js';
import { OperationError } from '../../core/errors.js';
import { endpointState, TRANSITIONAL, type Session } from './session.js';

export interface WaitOptions {
  /** Longest pause between polls. */
  maxPollMs?: number;
  /** Pause function (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
}

/** Waits on one project's endpoint. */
export class EndpointWaiter {
  constructor(
    private readonly session: Session,
    private readonly output: Reporter,
    private readonly options: WaitOptions = {},
  ) {}

  private sleep(ms: number): Promise<void> {
    return this.options.sleep ? this.options.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Wait until a deleted endpoint is gone. */
  async gone(timeoutS: number): Promise<void> {
    const started = Date.now();
    let pause = 1000;
    while (await endpointState(this.session)) {
      if ((Date.now() - started) / 1000 >= timeoutS) {
        throw new OperationError('deploy_timeout', `endpoint ${this.session.r.endpoint} is still being deleted after ${timeoutS}s`, { hint: 'Run `mlship deploy` again later.' });
      }
      await this.sleep(pause);
      pause = Math.min(pause * 2, this.options.maxPollMs ?? 15_000);
    }
  }

  /** Wait until the endpoint leaves a transitional status. */
  async settled(timeoutS: number): Promise<void> {
    const started = Date.now();
    const progress = await this.output.progress(`endpoint ${this.session.r.endpoint}: waiting for the running update to finish`);
    let pause = 1000;
    for (;;) {
      const state = await endpointState(this.session);
      if (!state || !TRANSITIONAL.has(state.status)) {
        progress.stop();
        return;
      }
      const elapsed = Math.round((Date.now() - started) / 1000);
      progress.update(`endpoint ${this.session.r.endpoint}: ${state.status} (${elapsed}s)`);
      if (elapsed >= timeoutS) {
        progress.fail();
        throw new OperationError('deploy_timeout', `endpoint ${this.session.r.endpoint} is still ${state.status} after ${timeoutS}s`, { hint: 'Run the command again later (or with a larger --timeout); it continues where this one stopped.' });
      }
      await this.sleep(pause);
      pause = Math.min(pause * 2, this.options.maxPollMs ?? 15_000);
    }
  }

  /**
   * Wait until the endpoint serves `config` and is InService, with progress; a failure (or an
   * automatic rollback) reports SageMaker's FailureReason and leaves the previous config serving.
   */
  async inService(config: string, timeoutS: number): Promise<void> {
    const { r } = this.session;
    const started = Date.now();
    const progress = await this.output.progress(`endpoint ${r.endpoint}: deploying ${config}`);
    let pause = 1000;
    let sawTransition = false;
    for (;;) {
      const state = await endpointState(this.session);
      const elapsed = Math.round((Date.now() - started) / 1000);
      if (!state) {
        progress.fail();
        throw new OperationError('endpoint_missing', `endpoint ${r.endpoint} disappeared while deploying`, { hint: 'Run `mlship deploy` again.' });
      }
      if (state.status === 'InService' && state.config === config) {
        progress.succeed(`endpoint ${r.endpoint}: InService on ${config} (${elapsed}s)`);
        return;
      }
      const rolledBack = state.status === 'InService' && state.config !== config && (sawTransition || state.failureReason);
      if (state.status === 'Failed' || state.status === 'OutOfService' || rolledBack) {
        progress.fail(`endpoint ${r.endpoint}: ${state.status}`);
        const kept = state.config && state.config !== config ? ` The endpoint still serves ${state.config}${state.version ? ` (${state.version})` : ''}.` : '';
        throw new OperationError('deploy_failed', `SageMaker could not put ${config} into service on endpoint ${r.endpoint}: ${state.failureReason ?? `status ${state.status}`}.${kept}`, {
          hint: 'Fix the cause named above (the container logs are in CloudWatch under /aws/sagemaker/Endpoints/' + r.endpoint + ') and deploy again.',
          details: { endpointStatus: state.status, failureReason: state.failureReason, endpointConfig: state.config },
        });
      }
      if (TRANSITIONAL.has(state.status)) sawTransition = true;
      progress.update(`endpoint ${r.endpoint}: ${state.status} (${elapsed}s)`);
      if (elapsed >= timeoutS) {
        progress.fail();
        throw new OperationError('deploy_timeout', `endpoint ${r.endpoint} is still ${state.status} after ${timeoutS}s; the previous configuration keeps serving until SageMaker finishes`, {
          hint: 'Run `mlship deploy` again (or with a larger --timeout) to keep waiting; it does not start a second update.',
        });
      }
      await this.sleep(pause);
      pause = Math.min(pause * 2, this.options.maxPollMs ?? 15_000);
    }
  }
}
