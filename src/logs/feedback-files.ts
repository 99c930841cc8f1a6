/** Which ground-truth files can hold labels for a window, by name: local folders and cloud datastores alike. */
import path from 'node:path';
import type { LogWindow } from '../logs/types.js';

const FEEDBACK_FILE = /^feedback-(\d{4}-\d{2}-\d{2})\.jsonl$/;

/**
 * The feedback files (`feedback-YYYY-MM-DD.jsonl`, by file name) that can hold labels for predictions
 * in the window: every day from the window's start on (labels come late, so the window's end does not
 * limit them), oldest first.
 */
export function feedbackFileNames(names: string[], window: LogWindow): string[] {
  const fromDay = window.from?.toISOString().slice(0, 10);
  return names
    .map((name) => ({ name, day: FEEDBACK_FILE.exec(path.posix.basename(name))?.[1] }))
    .filter((x): x is { name: string; day: string } => x.day !== undefined && (!fromDay || x.day >= fromDay))
    .sort((a, b) => a.day.localeCompare(b.day))
    .map((x) => x.name);
}
