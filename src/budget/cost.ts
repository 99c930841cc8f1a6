/**
 * Cost arithmetic, pure: the selected instance and replica range → $/hour, $/month and $ per million
 * predictions at the measured throughput; the same for the nearest CPU and GPU alternatives; the
 * GPU break-even rate; and the comparison with `budget.monthly_usd`.
 */
import type { ComputeChoice } from '../compute/types.js';
import { estimateCpuMs, TARGET_UTILIZATION } from '../compute/estimate.js';
import { evaluateOptions, rank, selectCompute, type Option, type SelectionInput } from '../compute/select.js';

/** Hours in an average month (8760 / 12), the figure cloud price pages use. */
export const HOURS_PER_MONTH = 730;

/** Cost of serving on one instance type. */
export interface CostLine {
  instanceType: string;
  gpu: boolean;
  usdPerHour: number;
  replicas: { min: number; max: number };
  /** Instances the expected rate needs (within the replica range). */
  instancesAtExpectedRps: number;
  /** Requests per second one instance carries at the target utilisation; null when not sized by load. */
  perInstanceRps: number | null;
  hourlyUsd: { min: number; expected: number; max: number };
  monthlyUsd: { min: number; expected: number; max: number };
  /** $ per million predictions: instances busy at the target utilisation, and at the expected rate. */
  usdPerMillion: { atCapacity: number | null; atExpectedRps: number };
}

/** The cost budget: the selected instance, its alternatives and the monthly ceiling. */
export interface CostReport {
  target: string;
  pricing: string;
  pricesAsOf: string;
  priceSource: string;
  expectedRps: number;
  /** Per-request service time the estimate used, and where it came from. */
  msPerRequest: number;
  msPerRequestSource: 'measured' | 'estimated';
  /** Requests per second one worker serves at that time per request (1000 / ms). */
  rpsPerWorker: number;
  selected: CostLine;
  alternatives: { cpu?: CostLine; gpu?: CostLine };
  gpuBreakEvenRps: number | null;
  monthlyBudgetUsd?: number;
  /** Whether the expected monthly cost fits `budget.monthly_usd` (undefined without a budget). */
  withinBudget?: boolean;
  findings: string[];
}

/** The cost report for a selection input; `choice` is what `selectCompute` returned for it. */
export function estimateCost(input: SelectionInput, choice: ComputeChoice = selectCompute(input), monthlyBudgetUsd?: number): CostReport {
  const catalog = input.catalog;
  const msPerRequest = input.cpuMsPerRequest ?? estimateCpuMs(input.flavor, input.params, input.quantization);
  const options = evaluateOptions(input, msPerRequest);
  const fixed = catalog.sizing === 'fixed' || input.flavor === 'llm';
  const selectedOption = options.find((o) => o.instance.type === choice.instanceType)!;
  // An LLM with a measured throughput: the replicas the expected rate needs, not only the minimum.
  const measuredLlm = input.flavor === 'llm' && choice.sizing?.tokensPerSecondPerReplica !== undefined;
  const selected = line(selectedOption, choice.replicas, input, fixed, measuredLlm ? choice.sizing!.instancesForExpectedRps : undefined);

  const others = rank(options.filter((o) => o.fits && o.instance.type !== choice.instanceType && o.instance.usdPerHour > 0));
  const cpuAlt = others.find((o) => !o.gpu);
  const gpuAlt = others.find((o) => o.gpu);
  const replicasFor = (o: Option) => ({ min: input.replicas.min, max: Math.max(input.replicas.max, fixed ? 0 : o.instances) });
  const alternatives = {
    ...(cpuAlt && { cpu: line(cpuAlt, replicasFor(cpuAlt), input, fixed) }),
    ...(gpuAlt && { gpu: line(gpuAlt, replicasFor(gpuAlt), input, fixed) }),
  };

  const findings: string[] = [];
  const withinBudget = monthlyBudgetUsd === undefined ? undefined : selected.monthlyUsd.expected <= monthlyBudgetUsd;
  if (monthlyBudgetUsd !== undefined) {
    findings.push(
      `${selected.instanceType} ×${selected.instancesAtExpectedRps} at ${input.expectedRps} rps: $${money(selected.monthlyUsd.expected)}/month ${withinBudget ? '<=' : '>'} the budget of $${money(monthlyBudgetUsd)}`,
    );
    if (withinBudget && selected.monthlyUsd.max > monthlyBudgetUsd) {
      findings.push(`at max replicas (${selected.replicas.max}) it would cost $${money(selected.monthlyUsd.max)}/month, over the budget`);
    }
  }
  const breakEven = choice.sizing?.gpuBreakEvenRps ?? null;
  if (breakEven !== null && !choice.gpu) findings.push(`a GPU would cost less per prediction above ~${breakEven} rps`);

  return {
    target: catalog.target,
    pricing: catalog.pricing,
    pricesAsOf: catalog.asOf,
    priceSource: catalog.source,
    expectedRps: input.expectedRps,
    msPerRequest: round2(msPerRequest),
    msPerRequestSource: input.cpuMsPerRequest === undefined ? 'estimated' : 'measured',
    rpsPerWorker: round2(1000 / msPerRequest),
    selected,
    alternatives,
    gpuBreakEvenRps: breakEven,
    ...(monthlyBudgetUsd !== undefined && { monthlyBudgetUsd, withinBudget }),
    findings,
  };
}

function line(option: Option, replicas: { min: number; max: number }, input: SelectionInput, fixed: boolean, instances?: number): CostLine {
  const price = option.instance.usdPerHour;
  const expected = instances ?? (fixed ? replicas.min : Math.min(replicas.max, Math.max(replicas.min, option.instances)));
  const hourly = { min: price * replicas.min, expected: price * expected, max: price * replicas.max };
  const perSecondAtExpected = input.expectedRps * 3600;
  return {
    instanceType: option.instance.type,
    gpu: option.gpu,
    usdPerHour: price,
    replicas,
    instancesAtExpectedRps: expected,
    perInstanceRps: fixed ? null : round2(option.perInstanceRps),
    hourlyUsd: { min: round4(hourly.min), expected: round4(hourly.expected), max: round4(hourly.max) },
    monthlyUsd: { min: round2(hourly.min * HOURS_PER_MONTH), expected: round2(hourly.expected * HOURS_PER_MONTH), max: round2(hourly.max * HOURS_PER_MONTH) },
    usdPerMillion: {
      atCapacity: fixed ? null : round4((price / (option.perInstanceRps * 3600)) * 1e6),
      atExpectedRps: round4((hourly.expected / perSecondAtExpected) * 1e6),
    },
  };
}

/** Utilisation the capacity figures assume, for report footnotes. */
export const CAPACITY_UTILIZATION = TARGET_UTILIZATION;

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
function round4(n: number): number {
  return Math.round(n * 10000) / 10000;
}
/** `1,234.56` */
export function money(n: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
