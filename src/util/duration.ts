/**
 * One duration syntax for every flag that takes one (`--duration`, `--since`, `--timeout`, `--bake`):
 * a number with a unit — `500ms`, `90s`, `30m`, `24h`, `7d`, `2w`, long forms (`5min`, `2 hours`) and
 * sums (`1h30m`) — or a plain number, read in the flag's documented unit. A flag without a
 * documented unit (a window such as `--since`) wants the unit written.
 */
import { UsageError } from './errors.js';

const MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ALIASES: Record<string, string> = {
  msec: 'ms',
  millisecond: 'ms',
  milliseconds: 'ms',
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  day: 'd',
  days: 'd',
  week: 'w',
  weeks: 'w',
};
/** Units a plain number may be read in. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w';
const UNIT_WORDS: Record<DurationUnit, string> = { ms: 'milliseconds', s: 'seconds', m: 'minutes', h: 'hours', d: 'days', w: 'weeks' };

const NUMBER = /^\d+(?:\.\d+)?$|^\.\d+$/;
const PART = /(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)/gy;

/**
 * Parse a duration given to `flag`; milliseconds. `unit` is how a plain number is read (undefined:
 * a plain number is an error). Zero, negative and malformed durations are usage errors (exit 2).
 */
export function parseDuration(text: string, flag: string, unit?: DurationUnit): number {
  const t = text.trim().toLowerCase();
  const fail = (why: string): never => {
    throw new UsageError(`${flag} ${JSON.stringify(text)} ${why}`, {
      code: 'bad_duration',
      hint: `Use a number with a unit: 90s, 30m, 24h, 7d, 2w or a sum such as 1h30m${unit ? `; a plain number is ${UNIT_WORDS[unit]}` : ''}.`,
    });
  };
  let ms = 0;
  if (NUMBER.test(t)) {
    if (!unit) fail('needs a unit');
    ms = Number(t) * MS[unit!]!;
  } else {
    PART.lastIndex = 0;
    let end = 0;
    for (let m = PART.exec(t); m; m = PART.exec(t)) {
      const u = MS[m[2]!] !== undefined ? m[2]! : ALIASES[m[2]!];
      if (!u) fail(`has an unknown unit "${m[2]!}"`);
      ms += Number(m[1]) * MS[u!]!;
      end = PART.lastIndex;
      while (t[end] === ' ') end++;
      PART.lastIndex = end;
    }
    if (end === 0 || end !== t.length) fail('is not a duration');
  }
  if (!(ms > 0) || !Number.isFinite(ms)) fail('must be longer than zero');
  return ms;
}

/** A duration flag's value in seconds, or undefined when the flag was not given. */
export function durationSeconds(value: unknown, flag: string, unit: DurationUnit = 's'): number | undefined {
  if (value === undefined) return undefined;
  return parseDuration(String(value), flag, unit) / 1000;
}
