/**
 * The step runner that is also the plan. A deploy is a list of `Step`s read from the target's current
 * state: `toPlan` shows them (`deploy --plan`), `runSteps` runs exactly those, so the plan and the
 * deploy can never disagree. `converge` turns "describe → create or update if it differs" into zero
 * or one step, so a re-run converges instead of duplicating.
 */
import type { Reporter } from '../util/reporter.js';
import type { PlanStep } from './types.js';

export type { PlanStep } from './types.js';

/** A planned step and the call that carries it out (`plan` shows the first, `deploy` runs the second). */
export interface Step extends PlanStep {
  run(): Promise<void>;
}

/** The plan's view of steps: what each would do, without the means to do it. */
export function toPlan(steps: readonly Step[]): PlanStep[] {
  return steps.map(({ action, resource, details }) => ({ action, resource, ...(details && { details }) }));
}

/** Run steps in order; each is named on `--verbose`. A failing step stops the run (the caller reports). */
export async function runSteps(steps: readonly Step[], reporter: Reporter): Promise<void> {
  for (const step of steps) {
    reporter.debug(`${step.action} ${step.resource}`);
    await step.run();
  }
}

/** One resource to converge: read it, then create it when absent or update it when it differs. */
export interface ConvergeSpec<Current> {
  /** The resource's name, as the plan shows it. */
  resource: string;
  /** The resource as it is now; undefined when it does not exist. */
  describe(): Promise<Current | undefined>;
  create: { action: string; details?: Record<string, unknown>; run(): Promise<void> };
  /**
   * How to bring an existing resource in line; absent = resources of this kind are immutable (exists
   * → converged). `details` and `resource` may depend on what exists (an update mask, its full name).
   */
  update?: {
    action: string;
    details?: Record<string, unknown> | ((current: Current) => Record<string, unknown>);
    resource?: (current: Current) => string;
    run(current: Current): Promise<void>;
  };
  /**
   * Whether the existing resource differs from what is wanted: false (or absent) = converged; a
   * string says what differs and becomes the step's `details.reason`.
   */
  differs?(current: Current): boolean | string;
}

/** Zero or one step that brings a resource to the wanted state (state read now, at plan time). */
export async function converge<Current>(spec: ConvergeSpec<Current>): Promise<Step | undefined> {
  const current = await spec.describe();
  if (current === undefined) {
    return { action: spec.create.action, resource: spec.resource, ...(spec.create.details && { details: spec.create.details }), run: spec.create.run };
  }
  const update = spec.update;
  const differs = spec.differs?.(current) ?? false;
  if (!update || differs === false) return undefined;
  const own = typeof update.details === 'function' ? update.details(current) : update.details;
  const details = { ...own, ...(typeof differs === 'string' && { reason: differs }) };
  return {
    action: update.action,
    resource: update.resource?.(current) ?? spec.resource,
    ...(Object.keys(details).length > 0 && { details }),
    run: () => update.run(current),
  };
}

/** Converge several resources in order, keeping only the steps that change something. */
export async function convergeAll(specs: readonly ConvergeSpec<unknown>[]): Promise<Step[]> {
  const steps: Step[] = [];
  for (const spec of specs) {
    const step = await converge(spec);
    if (step) steps.push(step);
  }
  return steps;
}
