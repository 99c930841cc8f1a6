/**
 * Ground truth joined with predictions. The serving app appends labels (`POST /feedback`) to
 * `feedback-YYYY-MM-DD.jsonl` beside the prediction log, one line `{"ts", "id", "label"}` each.
 *
 * The join loads the labels (a map id → label: labels are far fewer than predictions) and streams
 * the predictions past it, so memory grows with the labels, never with the prediction log. Rules:
 *
 * - late labels: a label joins its prediction whatever day either was written, so feedback files
 *   are read from the window's start with no end (labels arrive after their predictions);
 * - duplicate labels for one id: the last one wins (latest `ts`; equal times, the one read last),
 *   so a client can correct a label by sending it again; each extra one is counted;
 * - labels for ids with no prediction in the window (unknown ids, predictions in logs already
 *   rotated away or outside the window) are counted, never an error;
 * - a prediction is joined once per line; predictions without a label are counted as unlabelled.
 */
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { logFormat } from './formats/index.js';
import type { PredictionRecord } from './format.js';
import type { LogSource, LogWindow } from '../logs/types.js';
import { feedbackFileNames } from './feedback-files.js';

/** One prediction with its label. */
export interface JoinedRow {
  id: string;
  /** Epoch milliseconds of the prediction. */
  time?: number;
  input: Record<string, unknown>;
  output: unknown;
  label: unknown;
  /** The version that answered. */
  version?: string;
}

/** What the join read, and what it could not use. */
export interface JoinStats {
  /** Prediction lines inside the window. */
  predictions: number;
  /** Label lines read (all of them, duplicates included). */
  labelLines: number;
  /** Distinct ids with a label. */
  labelledIds: number;
  /** Label lines superseded by a later label for the same id. */
  duplicateLabels: number;
  /** Predictions joined with a label. */
  matched: number;
  /** Predictions in the window without a label. */
  unlabelled: number;
  /** Labelled ids with no prediction in the window (unknown, rotated or outside the window). */
  unknownIds: number;
  /** Lines that were not JSON objects of the expected shape. */
  malformed: number;
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

/** The feedback logs in a folder that can hold labels for predictions in the window (`feedbackFileNames`). */
export function feedbackSources(dir: string, window: LogWindow): LogSource[] {
  if (!existsSync(dir)) return [];
  return feedbackFileNames(readdirSync(dir), window).map((f) => fileSource(path.join(dir, f)));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Read the labels: id → the last label (latest ts, then the last read). */
export async function readLabels(sources: LogSource[], stats: JoinStats): Promise<Map<string, { label: unknown; ts: number }>> {
  const labels = new Map<string, { label: unknown; ts: number }>();
  for (const source of sources) {
    for await (const line of source.lines()) {
      if (line.trim() === '') continue;
      const obj = parse(line);
      if (!obj || typeof obj.id !== 'string' || !('label' in obj) || obj.label === null || typeof obj.label === 'object') {
        stats.malformed++;
        continue;
      }
      stats.labelLines++;
      const parsed = typeof obj.ts === 'string' ? Date.parse(obj.ts) : Number.NaN;
      const ts = Number.isNaN(parsed) ? -Infinity : parsed;
      const previous = labels.get(obj.id);
      if (previous) {
        stats.duplicateLabels++;
        if (ts < previous.ts) continue;
      }
      labels.set(obj.id, { label: obj.label, ts });
    }
  }
  stats.labelledIds = labels.size;
  return labels;
}

/** An empty set of counts. */
export function emptyJoinStats(): JoinStats {
  return { predictions: 0, labelLines: 0, labelledIds: 0, duplicateLabels: 0, matched: 0, unlabelled: 0, unknownIds: 0, malformed: 0 };
}

/**
 * Stream the predictions in the window past the labels, calling `onRow` for every labelled one.
 * Returns the counts; `onRow` decides what to keep (a metric's pairs, a training CSV's rows).
 */
export async function joinFeedback(
  predictions: LogSource[],
  feedback: LogSource[],
  window: LogWindow,
  onRow: (row: JoinedRow) => void,
  options: { csvFields: readonly string[] } = { csvFields: [] },
): Promise<JoinStats> {
  const stats = emptyJoinStats();
  const labels = await readLabels(feedback, stats);
  const seen = new Set<string>();
  const from = window.from?.getTime();
  const to = window.to?.getTime();
  for (const source of predictions) {
    // Each target's log format, read into neutral records (a line may hold a batch).
    const parseLine = logFormat(source.format).parser({ csvFields: options.csvFields });
    const onRecord = (p: PredictionRecord): void => {
      const time = typeof p.ts === 'string' ? Date.parse(p.ts) : Number.NaN;
      if (typeof p.id !== 'string' || ((from !== undefined || to !== undefined) && Number.isNaN(time))) {
        stats.malformed++;
        return;
      }
      if ((from !== undefined && time < from) || (to !== undefined && time >= to)) return;
      stats.predictions++;
      const label = labels.get(p.id);
      if (!label) {
        stats.unlabelled++;
        return;
      }
      seen.add(p.id);
      stats.matched++;
      onRow({
        id: p.id,
        ...(!Number.isNaN(time) && { time }),
        input: { ...p.input },
        output: p.output,
        label: label.label,
        ...(typeof p.version === 'string' && { version: p.version }),
      });
    };
    for await (const line of source.lines()) {
      if (line.trim() === '') continue;
      if (parseLine(line, onRecord) !== undefined) stats.malformed++;
    }
  }
  stats.unknownIds = labels.size - seen.size;
  return stats;
}
