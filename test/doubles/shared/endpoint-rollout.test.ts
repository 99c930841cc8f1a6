/** The shared endpoint-rollout state machine behind the in-memory cloud fakes (ENDPOINT-ROLLOUT.md). */
import { describe, expect, it } from 'vitest';
import { EndpointRollout, type Behaviour } from './endpoint-rollout.js';

function machine(behaviours: Record<string, Partial<Behaviour>> = {}) {
  return new EndpointRollout((id) => ({ healthy: true, errorRate: 0, latencyMs: 10, ...behaviours[id] }), {
    provisionTicks: 2,
  });
}

function settle(m: EndpointRollout, ticks = 10) {
  let s;
  for (let i = 0; i < ticks; i++) s = m.observe();
  return s;
}

describe('endpoint rollout state machine', () => {
  it('creates, then serves the deployment whole; a second change while one runs is a conflict', () => {
    const m = machine();
    m.create('a');
    expect(m.observe()).toMatchObject({ status: 'Creating' });
    expect(() => m.update('b', { kind: 'all-at-once' })).toThrow(/Creating/);
    expect(m.observe()).toMatchObject({ status: 'InService', serving: { a: 100 } });
  });

  it('an unhealthy first deployment fails the endpoint; an unhealthy update rolls back to the old split', () => {
    const m = machine({ bad: { healthy: false } });
    m.create('bad');
    expect(settle(m)).toMatchObject({ status: 'Failed', serving: {} });
    const n = machine({ bad: { healthy: false } });
    n.create('a');
    settle(n);
    n.update('bad', { kind: 'all-at-once' });
    expect(n.observe()).toMatchObject({ status: 'Updating', serving: { a: 100 } });
    expect(settle(n)).toMatchObject({ status: 'InService', serving: { a: 100 }, failureReason: expect.stringContaining('health check') });
  });

  it("metrics: a deployment's share of the requests by the split, its 5xx and latency; none while it takes no traffic", () => {
    const m = machine({ b: { errorRate: 0.2 } });
    m.deploy('a');
    m.deploy('b');
    settle(m, 2);
    m.setTraffic({ a: 90, b: 10 });
    expect(m.metrics('b', 1000)).toEqual({ requests: 100, errors5xx: 20, latencyMs: 10 });
    m.setTraffic({ a: 100 });
    expect(m.metrics('b', 1000)).toEqual({ requests: 0, errors5xx: 0, latencyMs: undefined });
  });

  it('controller-driven: deployments provision, traffic moves only to ready ones, and deletes settle', () => {
    const m = machine({ bad: { healthy: false } });
    m.deploy('a');
    expect(() => m.setTraffic({ a: 100 })).toThrow(/not ready/);
    settle(m, 2);
    m.setTraffic({ a: 100 });
    m.deploy('bad');
    settle(m, 2);
    expect(m.deployments.get('bad')?.state).toBe('Failed');
    expect(() => m.setTraffic({ a: 50, bad: 50 })).toThrow(/not ready/);
    expect(() => m.setTraffic({ a: 50 })).toThrow(/sums to 50/);
    expect(m.servingAll()).toBe('a');
    m.delete();
    expect(m.observe()).toBeUndefined();
  });
});
