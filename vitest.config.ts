import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration tests spawn Python servers and the CLI; two cores do not want more than two at once.
    maxWorkers: 2,
    minWorkers: 1,
    // The targets the CLI registers at start-up (test/helpers/targets.ts).
    setupFiles: ['test/helpers/targets.ts'],
    reporters: ['default', './test/helpers/slowest-reporter.ts'],
  },
});
