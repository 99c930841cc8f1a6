/** One duration syntax for every flag that takes one (issue 17, item 6). */
import { describe, expect, it } from 'vitest';
import { durationSeconds, parseDuration } from '../../src/util/duration.js';
import { UsageError } from '../../src/util/errors.js';
import { copyExample, runCli } from '../helpers/cli.js';

describe('parseDuration', () => {
  it('reads a number with a unit, long unit names and sums', () => {
    expect(parseDuration('90s', '--x')).toBe(90_000);
    expect(parseDuration('500ms', '--x')).toBe(500);
    expect(parseDuration('30m', '--x')).toBe(1_800_000);
    expect(parseDuration('24h', '--x')).toBe(86_400_000);
    expect(parseDuration('7d', '--x')).toBe(7 * 86_400_000);
    expect(parseDuration('2w', '--x')).toBe(14 * 86_400_000);
    expect(parseDuration('1h30m', '--x')).toBe(5_400_000);
    expect(parseDuration('1h 30m', '--x')).toBe(5_400_000);
    expect(parseDuration(' 2 Hours ', '--x')).toBe(7_200_000);
    expect(parseDuration('1.5m', '--x')).toBe(90_000);
    expect(parseDuration('5min', '--x')).toBe(300_000);
  });

  it("reads a plain number in the flag's documented unit", () => {
    expect(durationSeconds('3', '--duration')).toBe(3);
    expect(durationSeconds('3s', '--duration')).toBe(3);
    expect(durationSeconds('2m', '--timeout')).toBe(120);
    expect(durationSeconds('10', '--bake', 'm')).toBe(600);
    expect(durationSeconds('90s', '--bake', 'm')).toBe(90);
    expect(durationSeconds(undefined, '--timeout')).toBeUndefined();
  });

  it('refuses what is not a positive duration, naming the flag (usage error)', () => {
    const bad: [string, string | undefined, RegExp][] = [
      ['24', undefined, /--since "24" needs a unit/],
      ['0', 's', /must be longer than zero/],
      ['0s', 's', /must be longer than zero/],
      ['-5s', 's', /is not a duration/],
      ['5 parsecs', 's', /unknown unit "parsecs"/],
      ['1h30', 's', /is not a duration/],
      ['', 's', /is not a duration/],
      ['soon', 's', /is not a duration/],
    ];
    for (const [text, unit, message] of bad) {
      const run = () => parseDuration(text, '--since', unit as 's' | undefined);
      expect(run).toThrow(UsageError);
      expect(run).toThrow(message);
    }
  });
});

describe('duration flags on the command line', () => {
  it("take units everywhere and fail with exit 2 and the flag's name otherwise", async () => {
    const project = copyExample();
    try {
      const since = await runCli(['drift-check', '--since', '24', '--logs', 'nowhere'], { cwd: project.dir });
      expect(since.code).toBe(2);
      expect(since.stderr).toMatch(/--since "24" needs a unit/);
      const timeout = await runCli(['rollback', '--timeout', 'soon'], { cwd: project.dir });
      expect(timeout.code).toBe(2);
      expect(timeout.stderr).toMatch(/--timeout "soon" is not a duration/);
      const budget = await runCli(['budget', '--url', 'http://127.0.0.1:9', '--duration', '0s'], { cwd: project.dir });
      expect(budget.code).toBe(2);
      expect(budget.stderr).toMatch(/--duration "0s" must be longer than zero/);
      expect(budget.stderr).not.toMatch(/\n\s+at /);
    } finally {
      project.cleanup();
    }
  });
});
