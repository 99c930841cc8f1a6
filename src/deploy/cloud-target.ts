/**
 * The skeleton every cloud target shares: the command's context, the target's own options (test
 * doubles, poll pace), one lazy connection made on first use by `connect` (SDK clients, resolved
 * names, registry: `LazySession`), and the command's clock (its `now`; the sleep tests make instant).
 */
import { contextClock, type Clock } from './poll.js';
import { LazySession } from './session.js';
import type { TargetContext } from './types.js';

/** What every cloud target's options have: a sleep that tests make instant (default: the command's). */
export interface CloudTargetOptions {
  sleep?: Clock['sleep'];
}

export abstract class CloudTarget<Session, Options extends CloudTargetOptions> {
  private readonly session = new LazySession(() => this.connect());
  protected readonly clock: Clock;

  constructor(
    protected readonly ctx: TargetContext,
    protected readonly options: Options,
  ) {
    this.clock = contextClock({ now: ctx.now, sleep: options.sleep ?? ctx.sleep });
  }

  /** Connect: the SDK clients, the resolved resource names and the registry. */
  protected abstract connect(): Promise<Session>;

  /** The connection, made on the first call and shared by every later one. */
  protected open(): Promise<Session> {
    return this.session.get();
  }

  /** The connection if one was started (to close it), else undefined. */
  protected get started(): Promise<Session> | undefined {
    return this.session.started;
  }
}
