/**
 * The rollback choice (src/deploy/history.ts `chooseRollback`), the same on every target: `--to`, the
 * version live before the live one, else the newest older one not rejected; one typed error per
 * situation, each exit 2.
 */
import { describe, expect, it } from 'vitest';
import { chooseRollback, historyEntry, liveSince, recentHistory, STATUS_HISTORY_LIMIT } from '../../src/deploy/history.js';
import type { HistoryEntry } from '../../src/deploy/types.js';

const by = { command: 'test', user: 'u', host: 'h' };
const entry = (action: HistoryEntry['action'], version: string | undefined, previous?: string, ts = '2026-01-01T00:00:00Z'): HistoryEntry => ({
  ts,
  action,
  ...(version && { version }),
  ...(previous && { previous }),
  by,
});
const versions = (...names: string[]) => names.map((version) => ({ version }));
const where = 'the test target';

function refusal(fn: () => unknown): { code: string; exitCode: number; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; exitCode: number; message: string };
  }
  throw new Error('expected a refusal');
}

describe('chooseRollback', () => {
  it('goes back to the version that was live before the live one (from the history entry that made it live)', () => {
    const history = [entry('deploy', 'v1'), entry('deploy', 'v3', 'v1')];
    expect(chooseRollback({ where, live: 'v3', history, versions: versions('v1', 'v2', 'v3') })).toBe('v1');
  });

  it('after a rollback, a second rollback follows the rollback entry, not the deploy order', () => {
    const history = [entry('deploy', 'v1'), entry('deploy', 'v2', 'v1'), entry('deploy', 'v3', 'v2'), entry('rollback', 'v2', 'v3')];
    expect(chooseRollback({ where, live: 'v2', history, versions: versions('v1', 'v2', 'v3') })).toBe('v3');
  });

  it('without a usable history entry: the newest older version that was not rejected', () => {
    const history = [entry('deploy', 'v4')];
    expect(
      chooseRollback({ where, live: 'v4', history, versions: [{ version: 'v1' }, { version: 'v2' }, { version: 'v3', rejected: true }, { version: 'v4' }] }),
    ).toBe('v2');
  });

  it('a previous version that is no longer registered is passed over', () => {
    const history = [entry('deploy', 'v3', 'v9')];
    expect(chooseRollback({ where, live: 'v3', history, versions: versions('v1', 'v3') })).toBe('v1');
  });

  it('--to names the version, registered and not live', () => {
    expect(chooseRollback({ where, live: 'v3', to: 'v2', history: [], versions: versions('v1', 'v2', 'v3') })).toBe('v2');
    expect(refusal(() => chooseRollback({ where, live: 'v3', to: 'v7', history: [], versions: versions('v1', 'v3') }))).toMatchObject({
      code: 'version_not_found',
      exitCode: 2,
    });
    expect(refusal(() => chooseRollback({ where, live: 'v3', to: 'v3', history: [], versions: versions('v3') }))).toMatchObject({
      code: 'already_live',
      exitCode: 2,
    });
  });

  it('nothing live, or nothing before the live one: its own error, exit 2, naming the target', () => {
    const none = refusal(() => chooseRollback({ where, live: undefined, history: [], versions: versions('v1') }));
    expect(none).toMatchObject({ code: 'nothing_live', exitCode: 2 });
    expect(none.message).toContain(where);
    const first = refusal(() => chooseRollback({ where, live: 'v1', history: [entry('deploy', 'v1')], versions: versions('v1', 'v2') }));
    expect(first).toMatchObject({ code: 'no_previous_version', exitCode: 2 });
  });
});

describe('history entries', () => {
  it('are stamped with the context clock and actor; previous only when it differs', () => {
    const ctx = { command: 'deploy', env: { USER: 'x' }, now: () => new Date('2026-02-03T04:05:06Z') };
    const e = historyEntry(ctx, 'deploy', 'v2', 'v2', { url: 'u' });
    expect(e).toMatchObject({ ts: '2026-02-03T04:05:06.000Z', action: 'deploy', version: 'v2', details: { url: 'u' } });
    expect(e.previous).toBeUndefined();
    expect(e.by.command).toBe('deploy');
  });

  it('live since is the newest deploy or rollback to the version; status shows the newest entries only', () => {
    const history = [
      entry('deploy', 'v1', undefined, 't1'),
      entry('deploy', 'v2', 'v1', 't2'),
      entry('rollback', 'v1', 'v2', 't3'),
      entry('stop', 'v1', undefined, 't4'),
    ];
    expect(liveSince(history, 'v1')).toBe('t3');
    expect(liveSince(history, 'v9')).toBeUndefined();
    const long = Array.from({ length: STATUS_HISTORY_LIMIT + 5 }, (_, i) => entry('deploy', `v${i + 1}`));
    expect(recentHistory(long).map((e) => e.version)).toEqual(long.slice(5).map((e) => e.version));
  });
});
