/**
 * The endpoint-rollout state machine every in-memory cloud fake drives (spec: ENDPOINT-ROLLOUT.md).
 * Time is counted in observations, never the wall clock.
 */

export type EndpointStatus = 'Creating' | 'Updating' | 'InService' | 'Failed' | 'Deleting';
export type DeploymentState = 'Provisioning' | 'Ready' | 'Failed';

export interface Behaviour {
  healthy: boolean;
  errorRate: number;
  latencyMs: number;
}

/** How `update` moves traffic: all at once once the new fleet passes its health check (canaries are the controller's: `setTraffic`). */
export type Strategy = { kind: 'all-at-once' };

type Pending =
  | { kind: 'create'; id: string; ticks: number }
  | { kind: 'update'; id: string; ticks: number; strategy: Strategy; old: Record<string, number> }
  | { kind: 'delete' };

export class ConflictError extends Error {
  readonly kind = 'conflict';
}

export class EndpointRollout {
  status: EndpointStatus | undefined;
  serving: Record<string, number> = {};
  failureReason: string | undefined;
  readonly deployments = new Map<string, { state: DeploymentState; ticks: number }>();
  private pending: Pending | undefined;

  constructor(
    private readonly behaviour: (id: string) => Behaviour,
    private readonly options: { provisionTicks?: number } = {},
  ) {}

  private get provisionTicks(): number {
    return this.options.provisionTicks ?? 2;
  }

  get exists(): boolean {
    return this.status !== undefined;
  }

  /** One observation: advance whatever is pending by one tick, then return the state. */
  observe(): { status: EndpointStatus; serving: Record<string, number>; failureReason?: string } | undefined {
    this.tick();
    return this.status === undefined
      ? undefined
      : { status: this.status, serving: { ...this.serving }, ...(this.failureReason && { failureReason: this.failureReason }) };
  }

  /** The deployment serving all traffic, if one does. */
  servingAll(): string | undefined {
    const entries = Object.entries(this.serving);
    return entries.length === 1 && entries[0]![1] === 100 ? entries[0]![0] : undefined;
  }

  create(id: string): void {
    if (this.status !== undefined) throw new ConflictError('the endpoint exists');
    this.status = 'Creating';
    this.failureReason = undefined;
    this.pending = { kind: 'create', id, ticks: this.provisionTicks };
  }

  update(id: string, strategy: Strategy): void {
    if (this.status !== 'InService') throw new ConflictError(`the endpoint is ${this.status ?? 'absent'}`);
    this.status = 'Updating';
    this.failureReason = undefined;
    this.pending = { kind: 'update', id, ticks: this.provisionTicks, strategy, old: { ...this.serving } };
  }

  delete(): void {
    if (this.status === undefined) throw new ConflictError('the endpoint does not exist');
    this.status = 'Deleting';
    this.pending = { kind: 'delete' };
  }

  /** Controller-driven clouds: add a deployment (provisions, then Ready or Failed). */
  deploy(id: string): void {
    this.status ??= 'InService';
    this.deployments.set(id, { state: 'Provisioning', ticks: this.provisionTicks });
  }

  undeploy(id: string): void {
    if ((this.serving[id] ?? 0) > 0) throw new ConflictError(`${id} still takes traffic`);
    this.deployments.delete(id);
  }

  /** Controller-driven clouds: move traffic at once, only to Ready deployments, summing to 100. */
  setTraffic(split: Record<string, number>): void {
    const total = Object.values(split).reduce((a, b) => a + b, 0);
    if (total !== 100) throw new Error(`traffic split sums to ${total}, not 100`);
    for (const [id, pct] of Object.entries(split)) {
      if (pct > 0 && this.deployments.get(id)?.state !== 'Ready') throw new Error(`deployment ${id} is not ready`);
    }
    this.serving = Object.fromEntries(Object.entries(split).filter(([, p]) => p > 0));
  }

  /** What monitoring reports for `requests` sent to the endpoint. */
  metrics(id: string, requests: number): { requests: number; errors5xx: number; latencyMs: number | undefined } {
    const share = Math.round((requests * (this.serving[id] ?? 0)) / 100);
    const b = this.behaviour(id);
    return { requests: share, errors5xx: Math.round(share * b.errorRate), latencyMs: share > 0 ? b.latencyMs : undefined };
  }

  private tick(): void {
    for (const [id, d] of this.deployments) {
      if (d.state === 'Provisioning' && --d.ticks <= 0) d.state = this.behaviour(id).healthy ? 'Ready' : 'Failed';
    }
    const p = this.pending;
    if (!p) return;
    if (p.kind === 'delete') {
      this.status = undefined;
      this.serving = {};
      this.failureReason = undefined;
      this.pending = undefined;
      return;
    }
    if (p.ticks > 0) p.ticks--;
    if (p.ticks > 0) return;
    if (!this.behaviour(p.id).healthy) {
      this.failureReason = `the primary container of ${p.id} did not pass the ping health check`;
      if (p.kind === 'create') {
        this.status = 'Failed';
        this.serving = {};
      } else {
        this.status = 'InService';
        this.serving = p.old;
      }
      this.pending = undefined;
      return;
    }
    this.finish(p.id);
  }

  private finish(id: string): void {
    this.status = 'InService';
    this.serving = { [id]: 100 };
    this.pending = undefined;
  }
}
