/**
 * What "waiting on the endpoint" means on SageMaker, as `classify` functions for the shared poller
 * (src/deploy/poll.ts, which owns the loop, the overall timeout, the clock and progress):
 * gone after a delete, settled after an update already running, InService on the wanted
 * configuration after a deploy, InService with the weights a canary asked for. An update whose new
 * fleet failed its health check leaves the previous configuration serving and is reported as such.
 */
import { OperationError } from '../../util/errors.js';
import type { Reporter } from '../../util/reporter.js';
import { pollUntil, type Clock, type PollVerdict } from '../../deploy/poll.js';
import { endpointState, TRANSITIONAL, type Session } from './session.js';

type State = Awaited<ReturnType<typeof endpointState>>;

/** Longest pause between polls, from the target's options. */
export interface WaitOptions {
  maxPollMs?: number;
}

/** Waits on one project's endpoint. */
export class EndpointWaiter {
  constructor(
    private readonly session: Session,
    private readonly reporter: Reporter,
    private readonly clock: Clock,
    private readonly options: WaitOptions = {},
  ) {}

  private get what(): string {
    return `endpoint ${this.session.r.endpoint}`;
  }

  private poll<T>(start: string, timeoutS: number, classify: (s: State) => PollVerdict<T>, onTimeout: (status: string, s: number) => OperationError) {
    return pollUntil<State, T>({
      what: this.what,
      start,
      read: () => endpointState(this.session),
      classify,
      timeoutSeconds: timeoutS,
      onTimeout,
      clock: this.clock,
      reporter: this.reporter,
      ...(this.options.maxPollMs !== undefined && { maxPollMs: this.options.maxPollMs }),
    });
  }

  /** Wait until a deleted endpoint is gone. */
  async gone(timeoutS: number): Promise<void> {
    await this.poll<void>(
      `${this.what}: waiting for the delete to finish`,
      timeoutS,
      (s) => (s ? { kind: 'pending', status: s.status } : { kind: 'done', value: undefined, message: `${this.what}: deleted` }),
      (status, seconds) =>
        new OperationError('deploy_timeout', `${this.what} is still ${status} after ${seconds}s`, { hint: 'Run `mlship deploy` again later.' }),
    );
  }

  /** Wait until the endpoint leaves a transitional status. */
  async settled(timeoutS: number): Promise<void> {
    await this.poll<void>(
      `${this.what}: waiting for the running update to finish`,
      timeoutS,
      (s) =>
        !s || !TRANSITIONAL.has(s.status)
          ? { kind: 'done', value: undefined, message: `${this.what}: ${s?.status ?? 'gone'}` }
          : { kind: 'pending', status: s.status },
      (status, seconds) =>
        new OperationError('deploy_timeout', `${this.what} is still ${status} after ${seconds}s`, {
          hint: 'Run the command again later (or with a larger --timeout); it continues where this one stopped.',
        }),
    );
  }

  /**
   * Wait until the endpoint serves `config` and is InService; a failure (or an automatic rollback)
   * reports SageMaker's FailureReason and that the previous config keeps serving.
   */
  async inService(config: string, timeoutS: number): Promise<void> {
    const { r } = this.session;
    let sawTransition = false;
    await this.poll<void>(
      `${this.what}: deploying ${config}`,
      timeoutS,
      (state) => {
        if (!state)
          return {
            kind: 'failed',
            error: new OperationError('endpoint_missing', `${this.what} disappeared while deploying`, { hint: 'Run `mlship deploy` again.' }),
          };
        if (state.status === 'InService' && state.config === config) return { kind: 'done', value: undefined, message: `${this.what}: InService on ${config}` };
        const rolledBack = state.status === 'InService' && state.config !== config && (sawTransition || state.failureReason !== undefined);
        if (state.status === 'Failed' || state.status === 'OutOfService' || rolledBack) {
          const kept =
            state.config && state.config !== config ? ` The endpoint still serves ${state.config}${state.version ? ` (${state.version})` : ''}.` : '';
          const reason = state.failureReason ?? `status ${state.status}`;
          return {
            kind: 'failed',
            message: `${this.what}: ${state.status}`,
            error: new OperationError('deploy_failed', `SageMaker could not put ${config} into service on ${this.what}: ${reason}.${kept}`, {
              hint: `Fix the cause named above (the container logs are in CloudWatch under /aws/sagemaker/Endpoints/${r.endpoint}) and deploy again.`,
              details: { endpointStatus: state.status, failureReason: state.failureReason, endpointConfig: state.config },
            }),
          };
        }
        if (TRANSITIONAL.has(state.status)) sawTransition = true;
        return { kind: 'pending', status: state.status };
      },
      (status, seconds) =>
        new OperationError(
          'deploy_timeout',
          `${this.what} is still ${status} after ${seconds}s; the previous configuration keeps serving until SageMaker finishes`,
          {
            hint: 'Run `mlship deploy` again (or with a larger --timeout) to keep waiting; it does not start a second update.',
          },
        ),
    );
  }

  /** Wait until the endpoint is InService with the variants' weights in these proportions (UpdateEndpointWeightsAndCapacities). */
  async weighted(weights: Record<string, number>, timeoutS: number): Promise<void> {
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    const applied = (s: NonNullable<State>) => {
      const sum = s.variants.reduce((a, v) => a + v.weight, 0);
      return Object.entries(weights).every(([name, w]) => {
        const running = s.variants.find((v) => v.name === name);
        return running !== undefined && Math.abs((sum > 0 ? running.weight / sum : 0) - (total > 0 ? w / total : 0)) < 0.005;
      });
    };
    const split = Object.entries(weights)
      .map(([name, w]) => `${name} ${w}%`)
      .join(', ');
    await this.poll<void>(
      `${this.what}: moving traffic (${split})`,
      timeoutS,
      (s) => {
        if (!s)
          return {
            kind: 'failed',
            error: new OperationError('endpoint_missing', `${this.what} disappeared while moving traffic`, { hint: 'Run `mlship deploy` again.' }),
          };
        if (s.status === 'InService' && applied(s)) return { kind: 'done', value: undefined, message: `${this.what}: ${split}` };
        if (s.status === 'Failed' || s.status === 'OutOfService' || s.status === 'InService')
          return {
            kind: 'failed',
            error: new OperationError(
              'traffic_not_applied',
              `${this.what} is ${s.status} without the traffic split ${split}${s.failureReason ? `: ${s.failureReason}` : ''}`,
              {
                hint: 'Run `mlship status` to see the endpoint, then deploy again.',
              },
            ),
          };
        return { kind: 'pending', status: s.status };
      },
      (status, seconds) =>
        new OperationError('deploy_timeout', `${this.what} is still ${status} after ${seconds}s moving traffic (${split})`, {
          hint: 'Run `mlship deploy` again (or with a larger --timeout).',
        }),
    );
  }
}
