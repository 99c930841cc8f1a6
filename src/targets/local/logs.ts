/**
 * The local prediction logs (`.mlship/logs/predictions-YYYY-MM-DD.jsonl`, one file per UTC day) as
 * `LogSource`s for a time window; files of days outside the window are not opened.
 */
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { LogSource, LogWindow } from '../types.js';

const FILE = /^predictions-(\d{4}-\d{2}-\d{2})\.jsonl$/;

export function localLogSources(dir: string, window: LogWindow): LogSource[] {
  if (!existsSync(dir)) return [];
  const fromDay = window.from?.toISOString().slice(0, 10);
  const toDay = window.to?.toISOString().slice(0, 10);
  return readdirSync(dir)
    .map((f) => ({ f, day: FILE.exec(f)?.[1] }))
    .filter((x): x is { f: string; day: string } => x.day !== undefined && (!fromDay || x.day >= fromDay) && (!toDay || x.day <= toDay))
    .sort((a, b) => a.day.localeCompare(b.day))
    .map(({ f }) => fileSource(path.join(dir, f)));
}

function fileSource(file: string): LogSource {
  return {
    description: file,
    format: 'mlship',
    async *lines() {
      const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
      for await (const line of rl) if (line.length > 0) yield line;
    },
  };
}
