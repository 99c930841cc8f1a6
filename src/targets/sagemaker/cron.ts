/**
 * The manifest's five-field cron expressions (`0 2 * * *`) in the two dialects AWS speaks: EventBridge
 * Scheduler's six-field `cron(min hour dom month dow year)` with `?` and Sunday = 1, and Model
 * Monitor's, which only runs hourly or daily.
 */
import { UsageError } from '../../util/errors.js';

function fields(expr: string, where: string): [string, string, string, string, string] {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new UsageError(`${where}: "${expr}" is not a five-field cron expression`, {
      hint: 'Use minute hour day-of-month month day-of-week, e.g. "0 2 * * *".',
    });
  }
  return parts as [string, string, string, string, string];
}

/** Unix day-of-week (0 or 7 = Sunday) to AWS (1 = Sunday); names and lists pass through mapped. */
function awsDayOfWeek(dow: string): string {
  return dow.replace(/\d+/g, (d) => String((Number(d) % 7) + 1));
}

/** `0 3 * * 0` → `cron(0 3 ? * 1 *)` for EventBridge Scheduler (UTC). */
export function schedulerCron(expr: string, where = 'retraining.schedule'): string {
  const [min, hour, dom, month, dow] = fields(expr, where);
  // AWS requires exactly one of day-of-month and day-of-week to be '?'.
  const awsDom = dow !== '*' ? '?' : dom;
  const awsDow = dow !== '*' ? awsDayOfWeek(dow) : '?';
  return `cron(${min} ${hour} ${awsDom} ${month} ${awsDow} *)`;
}

/**
 * Model Monitor runs hourly (`cron(0 * ? * * *)`) or daily at an hour (`cron(0 H ? * * *)`); any
 * other manifest schedule becomes the nearest of those, and `note` says so.
 */
export function monitorCron(expr: string, where = 'monitoring.drift.schedule'): { expression: string; note?: string } {
  const [min, hour, dom, month, dow] = fields(expr, where);
  const everyDay = dom === '*' && month === '*' && dow === '*';
  if (everyDay && hour === '*' && (min === '0' || min === '*')) return { expression: 'cron(0 * ? * * *)' };
  if (everyDay && /^\d+$/.test(hour) && min === '0') return { expression: `cron(0 ${Number(hour)} ? * * *)` };
  const h = /^\d+$/.test(hour) ? Number(hour) : 0;
  return {
    expression: `cron(0 ${h} ? * * *)`,
    note: `SageMaker Model Monitor runs only hourly or daily; ${where} "${expr}" runs daily at ${String(h).padStart(2, '0')}:00 UTC instead`,
  };
}
