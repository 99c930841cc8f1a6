/**
 * SageMaker's native blue/green canary promotes on its rollback alarms alone, so the evidence minimum
 * the other targets check (rollout.canary.min_requests) is not checked here: said in the plan and on
 * every canary deploy, never ignored silently. (The conformance suite's evidence scenarios are
 * expected to fail for SageMaker until its canary feeds the shared controller.)
 */
import { describe, expect, it } from 'vitest';
import { harness } from '../conformance/sagemaker.js';

describe('SageMaker canary evidence', () => {
  it('the plan of a canary says the minimum is not checked on SageMaker; an all-at-once plan says nothing', async () => {
    const w = await harness.start();
    try {
      await w.target.push(await w.build(1), w.pushOptions);
      await w.target.deploy({ timeoutSeconds: w.timeoutSeconds });
      await w.target.push(await w.build(2), w.pushOptions);
      const plan = await w.target.plan({ version: 'v2', strategy: { kind: 'canary', percent: 10, bakeMinutes: 5, minRequests: 40 } });
      expect(plan.warnings).toEqual([expect.stringMatching(/minimum of 40 requests is not checked on this target/)]);
      expect((await w.target.plan({ version: 'v2' })).warnings).toBeUndefined();
    } finally {
      await w.close();
    }
  });
});
