/**
 * The one poller. Everything that waits on a cloud (an endpoint going InService, a pipeline run, a
 * deletion) is `pollUntil`: read the state, `classify` it as done / pending / failed, report progress
 * with the elapsed time (a spinner on a terminal, plain lines otherwise), back off between reads, and
 * give up after an overall timeout that the SDK's own pollers never have. Time comes from an injected
 * `Clock`, so tests run instantly and never depend on the wall clock.
 */
import type { MlshipError } from '../util/errors.js';
import type { Reporter } from '../util/reporter.js';

/** Time as a target sees it: `now` from the command's context, `sleep` that tests make instant. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The clock of a command: its context's `now`, and its `sleep` (tests make it instant) or the wall clock's. */
export function contextClock(ctx: { now(): Date; sleep?: (ms: number) => Promise<void> }): Clock {
  return { now: ctx.now, sleep: ctx.sleep ?? systemClock.sleep };
}

/** A clock that only moves when slept on (tests, and the in-memory fakes). */
export function manualClock(start = new Date('2026-01-01T00:00:00Z')): Clock & { advance(ms: number): void } {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    sleep: async (ms) => {
      t += ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** What one read of the state means. */
export type PollVerdict<T> =
  | { kind: 'done'; value: T; message?: string }
  | { kind: 'pending'; status: string }
  | { kind: 'failed'; error: Error; message?: string };

export interface PollOptions<S, T> {
  /** What is waited on, for progress lines: `endpoint churn`. */
  what: string;
  /** The first progress line. */
  start?: string;
  read(): Promise<S>;
  classify(state: S): PollVerdict<T>;
  /** Overall limit, in seconds. */
  timeoutSeconds: number;
  /** The error to throw at the timeout, given the last status. */
  onTimeout(status: string, seconds: number): MlshipError;
  clock: Clock;
  reporter: Reporter;
  /** First pause between reads (default 1 s), doubled up to `maxPollMs` (default 15 s). */
  firstPollMs?: number;
  maxPollMs?: number;
}

/** What a finished wait returns: the value and how long it took. */
export interface PollResult<T> {
  value: T;
  seconds: number;
}

/** Poll until `classify` says done (returns), failed (throws its error) or the timeout passes (throws). */
export async function pollUntil<S, T>(options: PollOptions<S, T>): Promise<PollResult<T>> {
  const { clock, what } = options;
  const begin = clock.now().getTime();
  const elapsed = () => Math.round((clock.now().getTime() - begin) / 1000);
  const progress = await options.reporter.progress(options.start ?? `${what}: waiting`);
  let pause = options.firstPollMs ?? 1000;
  for (;;) {
    let verdict: PollVerdict<T>;
    try {
      verdict = options.classify(await options.read());
    } catch (error) {
      progress.fail(`${what}: ${(error as Error).message}`);
      throw error;
    }
    const seconds = elapsed();
    if (verdict.kind === 'done') {
      progress.succeed(verdict.message ?? `${what}: done (${seconds}s)`);
      return { value: verdict.value, seconds };
    }
    if (verdict.kind === 'failed') {
      progress.fail(verdict.message ?? `${what}: failed`);
      throw verdict.error;
    }
    progress.update(`${what}: ${verdict.status} (${seconds}s)`);
    if (seconds >= options.timeoutSeconds) {
      progress.fail(`${what}: still ${verdict.status} after ${seconds}s`);
      throw options.onTimeout(verdict.status, seconds);
    }
    await clock.sleep(Math.min(pause, Math.max(1, options.timeoutSeconds * 1000 - (clock.now().getTime() - begin))));
    pause = Math.min(pause * 2, options.maxPollMs ?? 15_000);
  }
}
