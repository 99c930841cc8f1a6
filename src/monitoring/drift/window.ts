/** The time window of logs to check, from `--since`, `--from` and `--to`. */
import { parseDuration } from '../../util/duration.js';
import { UsageError } from '../../util/errors.js';
import type { LogWindow } from '../../logs/types.js';

function parseTime(flag: string, text: string): Date {
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new UsageError(`${flag} ${text} is not a date or time`, {
      code: 'bad_time',
      hint: `Use ISO-8601, e.g. ${flag} 2026-11-01 or ${flag} 2026-11-01T12:00:00Z.`,
    });
  return new Date(t);
}

/** The window the flags describe; open ends stay undefined. */
export function windowFromFlags(flags: { since?: string; from?: string; to?: string }, now: Date): LogWindow {
  if (flags.since && flags.from) throw new UsageError('--since and --from both set the window start', { code: 'bad_window', hint: 'Pass one of them.' });
  const window: LogWindow = {};
  if (flags.since) window.from = new Date(now.getTime() - parseDuration(flags.since, '--since'));
  if (flags.from) window.from = parseTime('--from', flags.from);
  if (flags.to) window.to = parseTime('--to', flags.to);
  if (window.from && window.to && window.from >= window.to)
    throw new UsageError('the window is empty: --from is not before --to', { code: 'bad_window', hint: 'Swap or widen the times.' });
  return window;
}
