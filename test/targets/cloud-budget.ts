/**
 * `mlship budget` on a cloud's live tabular deployment, as the cloud tests run it: two connections for
 * two seconds through the platform's own prediction route and credentials (the target's LiveClient),
 * every request answered, and the verdict's exit code.
 */
import { expect } from 'vitest';

interface Doc {
  url: string;
  verdict: 'within' | 'over';
  load: { responses: number; errors: number; timeouts: number; statusCounts: Record<string, number> };
  latency: { client: { count: number; p50: number } };
}

export async function expectTabularBudget(cli: (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>, route: string): Promise<Doc> {
  const r = await cli('budget', '--connections', '2', '--duration', '2', '--json');
  expect([0, 3], r.stderr).toContain(r.code);
  const doc = JSON.parse(r.stdout) as Doc;
  expect(r.code).toBe(doc.verdict === 'over' ? 3 : 0);
  expect(doc.url).toBe(route);
  expect(doc.load.responses).toBeGreaterThanOrEqual(4);
  expect(doc.load.statusCounts['200']).toBe(doc.load.responses);
  expect(doc.load.errors + doc.load.timeouts).toBe(0);
  expect(doc.latency.client.count).toBe(doc.load.responses);
  expect(doc.latency.client.p50).toBeGreaterThan(0);
  return doc;
}
