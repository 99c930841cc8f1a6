/**
 * The drift check: stream every prediction of the log sources once, feed each feature's
 * accumulator, then score every feature and the model's output against the baseline profile and
 * give a per-feature and a dataset verdict.
 */
import { OperationError } from '../../util/errors.js';
import type { FieldSpec, Manifest } from '../../manifest/types.js';
import type { LogSource, LogWindow } from '../../logs/types.js';
import { CategoricalAccumulator, type CategoricalStats } from './categorical.js';
import { chooseMethod, isDrift, METHOD_INFO, type ConcreteMethod, type FeatureKind, type MethodDefaults } from './methods.js';
import { NumericAccumulator, type NumericStats } from './numeric.js';
import type { BaselineProfile, FeatureProfile } from '../../baseline/profile.js';
import { parseBatch, type BatchSpec, type CategoryCounts, type ParsedBatch } from './batch.js';
import { ParsePool, parserThreads } from './parse-pool.js';
import type { ParseResponse } from './parse-worker.js';
import { ReadStats } from '../../logs/readers.js';
import { SpillDir } from './spill.js';

/** Everything one check needs: the baseline, the logs, the window, the schema and the settings. */
export interface DriftCheckInput {
  baseline: BaselineProfile;
  /** Where the baseline came from, for the result. */
  baselineSource: string;
  sources: LogSource[];
  window?: LogWindow;
  /** The feature schema, in declaration order (field order of CSV captures). */
  schema: Record<string, FieldSpec>;
  settings: Manifest['monitoring']['drift'];
  /** Parser threads for large logs (default: from the cores, the memory and MLSHIP_DRIFT_WORKERS; 0 = inline). */
  workers?: number;
  /** What the features are: input fields (default) or an LLM's derived features (llm-values.ts). */
  view?: BatchSpec['view'];
  /** Defaults that kind of check changes (the method `auto` takes, features critical by default). */
  defaults?: MethodDefaults;
}

/**
 * Bytes (or characters) per parse batch, about 4,500 lines of the example's log; a log longer than
 * one batch is parsed on worker threads.
 */
const BATCH_BYTES = 1 << 20;

/** One feature's (or the output's) verdict. The first six keys are the `--json` contract. */
export interface FeatureResult {
  name: string;
  kind: FeatureKind;
  method: ConcreteMethod | null;
  /** The method's score (p-value or distance); null when it could not be computed. */
  score: number | null;
  threshold: number | null;
  drift: boolean;
  /** What the score is: a p-value (drift below the threshold) or a distance (drift at or above). */
  score_kind: 'p_value' | 'distance' | null;
  critical: boolean;
  counts: { baseline: number; current: number };
  missing: { baseline: number; current: number };
  invalid: number;
  /** Every statistic, whichever method decides. */
  statistics: Record<string, number | string | null>;
  unseen?: Record<string, number>;
  /** Distributions for charts: numeric per baseline-quantile bin, categorical per category. */
  distribution:
    | { kind: 'bins'; edges: number[]; baseline: number[]; current: number[] }
    | { kind: 'categories'; categories: string[]; baseline: number[]; current: number[] };
  note?: string;
}

/** The model output's verdict, or why the output could not be compared. */
export interface OutputResult extends Partial<FeatureResult> {
  supported: boolean;
  drift: boolean;
  reason?: string;
}

/** The whole result: the `--json` document of `mlship drift-check`. */
export interface DriftResult {
  drift: boolean;
  /** Share of evaluated input features that drifted. */
  share: number;
  rows: number;
  malformed: number;
  features: FeatureResult[];
  output: OutputResult;
  threshold_share: number;
  drifted: string[];
  critical_drifted: string[];
  malformed_reasons: Record<string, number>;
  malformed_examples: string[];
  outside_window: number;
  baseline: { source: string; rows: number };
  window: { from?: string; to?: string };
  sources: string[];
}

interface Slot {
  name: string;
  profile: FeatureProfile;
  numeric?: NumericAccumulator;
  categorical?: CategoricalAccumulator;
  missing: number;
  invalid: number;
}

function makeSlot(name: string, profile: FeatureProfile, spill: SpillDir): Slot {
  return profile.kind === 'numeric'
    ? { name, profile, numeric: new NumericAccumulator(profile, spill.spool()), missing: 0, invalid: 0 }
    : { name, profile, categorical: new CategoricalAccumulator(profile), missing: 0, invalid: 0 };
}

/** Run the check. Throws OperationError when there is nothing to compare. */
export async function runDriftCheck(input: DriftCheckInput): Promise<DriftResult> {
  const schemaOrder = Object.keys(input.schema);
  const names = [...schemaOrder.filter((n) => n in input.baseline.features), ...Object.keys(input.baseline.features).filter((n) => !schemaOrder.includes(n))];
  if (names.length === 0) {
    throw new OperationError('baseline_empty', `the baseline (${input.baselineSource}) profiles none of the schema's features`, {
      hint: 'Rebuild with `mlship build` so the baseline is profiled from features.baseline, or pass --baseline with a profile or data file.',
    });
  }
  const spill = new SpillDir();
  try {
    const slots = names.map((n) => makeSlot(n, input.baseline.features[n]!, spill));
    const outputSlot = input.baseline.output ? makeSlot('output', input.baseline.output, spill) : undefined;
    let outputUnsupported = 0;
    let outputAbsent = 0;
    const stats = new ReadStats();
    const csvFields = schemaOrder.length > 0 ? schemaOrder : names;

    const spec: BatchSpec = {
      fields: names,
      csvFields,
      kinds: slots.map((sl) => sl.profile.kind),
      output: outputSlot?.profile.kind,
      from: input.window?.from?.getTime(),
      to: input.window?.to?.getTime(),
      ...(input.view && { view: input.view }),
    };
    // Batches are consumed in log order, whichever thread parsed them, so the accumulators see the
    // values in the same order either way. `lineOffset` places a batch's problems in its source.
    let lineOffset = 0;
    let consumedSource: LogSource | undefined;
    const consume = (b: ParsedBatch, source: LogSource): void => {
      if (source !== consumedSource) {
        consumedSource = source;
        lineOffset = 0;
      }
      slots.forEach((slot, i) => {
        slot.invalid += b.invalid[i]!;
        slot.missing += b.missing[i]!;
        const col = b.numeric[i];
        if (col) slot.numeric!.addAll(col);
        else addCounts(slot.categorical!, b.categorical[i]!);
      });
      if (outputSlot && b.output) {
        outputAbsent += b.outputAbsent;
        outputUnsupported += b.outputUnsupported;
        outputSlot.missing += b.outputMissing;
        if (b.output instanceof Float64Array) outputSlot.numeric!.addAll(b.output);
        else addCounts(outputSlot.categorical!, b.output);
      }
      stats.lines += b.lines;
      stats.records += b.records;
      stats.outsideWindow += b.outsideWindow;
      stats.malformed += b.malformed;
      for (const [k, v] of Object.entries(b.reasons)) stats.reasons[k] = (stats.reasons[k] ?? 0) + v;
      for (const p of b.problems) stats.example(p.reason, source.description, lineOffset + p.line, p.detail);
      lineOffset += b.lineCount;
    };

    // Read each source once, in batches of whole lines; past the first full batch, parse on worker
    // threads (in order, at most two batches in flight per thread) while this thread accumulates.
    const threads = input.workers ?? parserThreads(process.env);
    let pool: ParsePool | undefined;
    const inFlight: { parsed: Promise<ParseResponse>; source: LogSource }[] = [];
    // Batch buffers back from parsing, for the next batches (memory stays a few buffers however
    // long the log; fresh buffers per batch piled up outside the threads' small heaps).
    const spare: Uint8Array[] = [];
    const next = async (): Promise<void> => {
      const { parsed, source } = inFlight.shift()!;
      const { batch, payload } = await parsed;
      consume(batch, source);
      if (payload) spare.push(new Uint8Array(payload.buffer));
    };
    try {
      for (const source of input.sources) {
        for await (const { payload, full } of batches(source, spare)) {
          if (!pool && full && threads > 0) pool = new ParsePool(threads);
          if (!pool) {
            consume(parseBatch(spec, source.format, source.description, payload), source);
            if (typeof payload !== 'string') spare.push(new Uint8Array(payload.buffer));
            continue;
          }
          inFlight.push({ parsed: pool.run({ spec, format: source.format, description: source.description, payload }), source });
          while (inFlight.length > 2 * threads) await next();
        }
      }
      while (inFlight.length > 0) await next();
    } finally {
      await pool?.close();
    }

    if (stats.records === 0) {
      throw new OperationError('no_predictions', `no predictions to check in ${describeSources(input.sources)}${describeWindow(input.window)}`, {
        hint:
          stats.malformed > 0
            ? `All ${stats.malformed} lines were malformed (${Object.keys(stats.reasons).join(', ')}).`
            : 'Send some predictions first, or widen the window with --since / --from / --to.',
        details: { malformed: stats.malformed, outside_window: stats.outsideWindow },
      });
    }

    const features = slots.map((s) => ordered(scoreSlot(s, input.settings, input.defaults)));
    const output = outputSlot
      ? scoreOutput(outputSlot, input.settings, outputUnsupported, outputAbsent)
      : { supported: false, drift: false, reason: 'the baseline has no model outputs to compare with' };
    const evaluated = features.filter((f) => f.method !== null);
    const drifted = features.filter((f) => f.drift);
    const share = evaluated.length === 0 ? 0 : drifted.length / evaluated.length;
    const criticalDrifted = drifted.filter((f) => f.critical);
    return {
      drift: (evaluated.length > 0 && share >= input.settings.share) || criticalDrifted.length > 0,
      share,
      rows: stats.records,
      malformed: stats.malformed,
      features,
      output,
      threshold_share: input.settings.share,
      drifted: drifted.map((f) => f.name),
      critical_drifted: criticalDrifted.map((f) => f.name),
      malformed_reasons: stats.reasons,
      malformed_examples: stats.examples,
      outside_window: stats.outsideWindow,
      baseline: { source: input.baselineSource, rows: input.baseline.rows },
      window: { from: input.window?.from?.toISOString(), to: input.window?.to?.toISOString() },
      sources: input.sources.map((s) => s.description),
    };
  } finally {
    spill.dispose();
  }
}

/** A batch's category counts into an accumulator, in the batch's order of first appearance. */
function addCounts(acc: CategoricalAccumulator, c: CategoryCounts): void {
  for (let j = 0; j < c.values.length; j++) acc.addCount(c.values[j]!, c.counts[j]!);
}

/**
 * A source as batches of whole lines of about BATCH_BYTES: its bytes when it has them (each batch
 * in a buffer of its own, taken from `spare` when one is back, which moves to a parser thread
 * without a copy), else its lines joined.
 * `full` is false for the last, shorter batch.
 */
async function* batches(source: LogSource, spare: Uint8Array[]): AsyncGenerator<{ payload: Uint8Array | string; full: boolean }> {
  const buffer = (size: number): Uint8Array => {
    const b = spare.pop();
    return b && b.length >= size ? b : new Uint8Array(size);
  };
  if (source.bytes) {
    let buf = buffer(BATCH_BYTES);
    let used = 0;
    for await (const chunk of source.bytes()) {
      for (let from = 0; from < chunk.length; ) {
        const n = Math.min(chunk.length - from, buf.length - used);
        buf.set(chunk.subarray(from, from + n), used);
        used += n;
        from += n;
        if (used < buf.length) continue;
        const cut = buf.lastIndexOf(10) + 1;
        if (cut === 0) {
          // One line longer than the batch: let the batch grow until the line ends.
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf);
          buf = bigger;
          continue;
        }
        // The part line after the cut starts the next batch (copied now: the batch's buffer moves).
        const rest = used - cut;
        const nextBuf = buffer(Math.max(BATCH_BYTES, 2 * rest));
        nextBuf.set(buf.subarray(cut, used));
        yield { payload: buf.subarray(0, cut), full: true };
        buf = nextBuf;
        used = rest;
      }
    }
    if (used > 0) yield { payload: buf.subarray(0, used), full: false };
    return;
  }
  let lines: string[] = [];
  let size = 0;
  for await (const line of source.lines()) {
    lines.push(line);
    size += line.length + 1;
    if (size >= BATCH_BYTES) {
      yield { payload: `${lines.join('\n')}\n`, full: true };
      lines = [];
      size = 0;
    }
  }
  if (lines.length > 0) yield { payload: `${lines.join('\n')}\n`, full: false };
}

function describeSources(sources: LogSource[]): string {
  if (sources.length === 0) return 'the logs (no log files found)';
  return sources.length === 1 ? sources[0]!.description : `${sources.length} log files`;
}

function describeWindow(w: LogWindow | undefined): string {
  if (!w || (!w.from && !w.to)) return '';
  return ` between ${w.from?.toISOString() ?? 'the beginning'} and ${w.to?.toISOString() ?? 'now'}`;
}

function rate(missing: number, present: number): number {
  return missing + present === 0 ? 0 : missing / (missing + present);
}

function scoreSlot(slot: Slot, settings: Manifest['monitoring']['drift'], defaults?: MethodDefaults): FeatureResult {
  const p = slot.profile;
  const kind: FeatureKind = p.kind;
  const choice = chooseMethod(slot.name, kind, p.count, settings, defaults);
  const numeric = slot.numeric?.finish();
  const categorical = slot.categorical?.finish();
  const current = numeric?.count ?? categorical?.count ?? 0;
  const base = {
    name: slot.name,
    kind,
    critical: choice.critical,
    counts: { baseline: p.count, current },
    missing: { baseline: rate(p.missing, p.count), current: rate(slot.missing, current) },
    invalid: slot.invalid,
  };
  const distribution: FeatureResult['distribution'] = numeric
    ? { kind: 'bins', ...numeric.bins }
    : categorical
      ? { kind: 'categories', ...categorical.distribution }
      : p.kind === 'numeric'
        ? { kind: 'bins', edges: p.edges, baseline: p.counts, current: p.counts.map(() => 0) }
        : {
            kind: 'categories',
            categories: Object.keys(p.frequencies),
            baseline: Object.values(p.frequencies),
            current: Object.values(p.frequencies).map(() => 0),
          };
  if (p.count === 0) {
    return {
      ...base,
      method: null,
      score: null,
      threshold: null,
      score_kind: null,
      drift: false,
      statistics: {},
      distribution,
      note: 'the baseline has no values for this feature; nothing to compare',
    };
  }
  if (current === 0) {
    // Every logged value is missing where training had values: a broken upstream, not a subtle drift.
    return {
      ...base,
      method: choice.method,
      score: null,
      threshold: choice.threshold,
      score_kind: METHOD_INFO[choice.method].score,
      drift: true,
      statistics: {},
      distribution,
      note: 'no logged value for this feature (all missing)',
    };
  }
  const statistics = numeric ? numericStatistics(numeric) : categoricalStatistics(categorical!);
  const score = scoreOf(choice.method, numeric, categorical);
  const result: FeatureResult = {
    ...base,
    method: choice.method,
    score,
    threshold: choice.threshold,
    score_kind: METHOD_INFO[choice.method].score,
    drift: score === null ? false : isDrift(choice.method, score, choice.threshold),
    statistics,
    distribution,
  };
  if (categorical && Object.keys(categorical.unseen).length > 0) result.unseen = categorical.unseen;
  if (score === null) result.note = 'chi-square needs at least two baseline categories and current values among them';
  return result;
}

/** The `--json` contract's keys first, in the documented order. */
function ordered(f: FeatureResult): FeatureResult {
  const { name, kind, method, score, threshold, drift, ...rest } = f;
  return { name, kind, method, score, threshold, drift, ...rest };
}

function scoreOf(method: ConcreteMethod, n: NumericStats | undefined, c: CategoricalStats | undefined): number | null {
  switch (method) {
    case 'ks':
      return n!.ks.pvalue;
    case 'wasserstein':
      return n!.wassersteinNorm;
    case 'psi':
      return n!.psi;
    case 'chi2':
      return c!.chi2?.pvalue ?? null;
    case 'jensenshannon':
      return c!.jensenShannon;
    case 'linf':
      return c!.lInfinity;
  }
}

function numericStatistics(n: NumericStats): Record<string, number | string | null> {
  return {
    ks_statistic: n.ks.statistic,
    ks_pvalue: n.ks.pvalue,
    ks_method: n.ks.method,
    wasserstein: n.wasserstein,
    wasserstein_norm: n.wassersteinNorm,
    psi: n.psi,
    ks_baseline_values: n.baselineCount,
    current_mean: n.current.mean,
    current_std: n.current.std,
    current_min: n.current.min,
    current_max: n.current.max,
  };
}

function categoricalStatistics(c: CategoricalStats): Record<string, number | string | null> {
  return {
    chi2_statistic: c.chi2?.statistic ?? null,
    chi2_pvalue: c.chi2?.pvalue ?? null,
    chi2_df: c.chi2?.df ?? null,
    jensenshannon: c.jensenShannon,
    linf: c.lInfinity,
  };
}

function scoreOutput(slot: Slot, settings: Manifest['monitoring']['drift'], unsupported: number, absent: number): OutputResult {
  const scored = scoreSlot(slot, settings);
  const counted = scored.counts.current + slot.missing;
  if (counted === 0 && unsupported > 0) {
    return {
      supported: false,
      drift: false,
      reason: `outputs are objects or arrays (multi-output); output drift supports a number or a label (${unsupported} predictions)`,
    };
  }
  const out: OutputResult = { supported: true, ...ordered(scored) };
  if (unsupported > 0) out.note = `${unsupported} outputs were not a number or label and were left out`;
  if (absent > 0 && counted === 0) return { supported: false, drift: false, reason: 'the logs have no outputs' };
  return out;
}
