import { afterEach, describe, expect, it } from 'vitest';
import { urlClient } from '../../src/budget/budget.js';
import { lanesFor, runLoadTest } from '../../src/budget/load-test.js';
import { OperationError } from '../../src/util/errors.js';
import { startTimingServer, type TimingServer } from './timing-server.js';

let server: TimingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('lanesFor', () => {
  it('splits a rate into whole per-lane rates over at most the connections', () => {
    expect(lanesFor(50, 16)).toEqual([4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    expect(lanesFor(50, 16).reduce((a, b) => a + b)).toBe(50);
    expect(lanesFor(3, 16)).toEqual([1, 1, 1]);
    expect(lanesFor(0.2, 4)).toEqual([1]);
  });
});

describe('runLoadTest', () => {
  it('reads every response’s Server-Timing stages at a bounded rate', async () => {
    server = await startTimingServer({ stages: { validate: 0.2, features: 0.4, model: 1.1 } });
    const r = await runLoadTest({
      client: urlClient(`${server.url}/predict`),
      bodies: ['{"a":1}', '{"a":2}'],
      durationSeconds: 1,
      connections: 2,
      rps: 40,
      warmupRequests: 2,
    });
    expect(r.responses).toBeGreaterThan(10);
    expect(r.responses).toBeLessThanOrEqual(45);
    expect(r.statusCounts['200']).toBe(r.responses);
    expect(r.samples.every((s) => s.stages.model === 1.1 && s.stages.features === 0.4 && s.totalMs > 0)).toBe(true);
    expect(r.generator.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(r.generator.saturated).toBe(false);
    // Two warm-up requests, then the measured ones (a request in flight when the test stops is not counted).
    expect(server.requests() - 2 - r.responses).toBeGreaterThanOrEqual(0);
    expect(server.requests() - 2 - r.responses).toBeLessThanOrEqual(2);
  });

  it('fails clearly when the endpoint rejects the request or is unreachable', async () => {
    server = await startTimingServer({ status: 422 });
    await expect(runLoadTest({ client: urlClient(`${server.url}/predict`), bodies: ['{}'], durationSeconds: 1, connections: 1 })).rejects.toThrow(
      /answered 422/,
    );
    const url = server.url;
    await server.close();
    server = undefined;
    const error = await runLoadTest({ client: urlClient(`${url}/predict`), bodies: ['{}'], durationSeconds: 1, connections: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).code).toBe('endpoint_unreachable');
  });
});
