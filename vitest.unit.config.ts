/**
 * `npm run test:unit`: the inner loop. Tests that need no Python, no spawned CLI and no server (pure
 * functions, in-memory fakes, golden renders), without the global set-up, in well under a minute.
 * `npm test` runs them too, with everything else.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/budget/{cost,latency,render,plan,manifest-compute}.test.ts',
      'test/compute/**/*.test.ts',
      'test/deploy/**/*.test.ts',
      'test/doubles/shared/*.test.ts',
      'test/init/units.test.ts',
      'test/logs/**/*.test.ts',
      'test/monitoring/drift/{categorical,check,numeric,stats}.test.ts',
      'test/retrain/{gate,dataset}.test.ts',
      'test/targets/azure/data-collector.test.ts',
      'test/util/**/*.test.ts',
    ],
    // The targets the CLI registers at start-up (test/helpers/targets.ts).
    setupFiles: ['test/helpers/targets.ts'],
    reporters: ['default', './test/helpers/slowest-reporter.ts'],
  },
});
