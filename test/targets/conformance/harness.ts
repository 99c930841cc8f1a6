/**
 * What a target brings to the conformance suite (conformance.test.ts): a harness that starts a fresh
 * world — a project, the target constructed on its fakes, a clock that only moves when slept on —
 * and the few levers the scenarios pull. Each target's harness is its own file in this folder
 * (`local.ts`, `sagemaker.ts`, `vertex.ts`, `azure.ts`) exporting `harness`; joining the suite is
 * adding that file and one line in `targets.ts`. Scenarios talk to the `Target` interface only.
 */
import type { TargetDescriptor } from '../../../src/deploy/descriptor.js';
import type { CloudErrorKind } from '../../../src/deploy/cloud-errors.js';
import type { PushOptions, Target } from '../../../src/deploy/types.js';
import type { BuildRef } from '../../../src/packaging/index.js';
import type { Manifest } from '../../../src/manifest/types.js';

/** How a version behaves once it runs (the fakes and the local stub app read it). */
export interface VersionBehaviour {
  /** False: it never passes its health check. */
  healthy?: boolean;
  /** Share of requests answered 5xx while it serves. */
  errorRate?: number;
  /** Latency of its answers, ms. */
  latencyMs?: number;
}

export interface ConformanceWorld {
  readonly target: Target;
  /** The n-th distinct build of the project (1, 2, …); pushed in order, build n becomes version `vn`. */
  build(n: number): Promise<BuildRef>;
  /** Options every push passes (an `--image` for clouds without an engine here). */
  readonly pushOptions: PushOptions;
  /** How version `vn` behaves when it serves (set before deploying it). */
  behave(version: string, behaviour: VersionBehaviour): void;
  /**
   * Requests per minute that reach the endpoint from now on, split between the versions by the
   * traffic split (100 when a world starts); 0: nobody calls it (a night with no traffic).
   */
  traffic(requestsPerMinute: number): void;
  /** A deploy timeout (seconds) long enough for a healthy version and short enough to give up on a broken one. */
  readonly timeoutSeconds: number;
  /** The version that serves all traffic now, as the platform itself (the fake) says. */
  serving(): Promise<string | undefined>;
  /** The next call to the cloud fails with the provider's error of this kind (clouds only). */
  failNextCall?(kind: CloudErrorKind): void;
  /**
   * Write a ground-truth file (`feedback-YYYY-MM-DD.jsonl`) where the README tells users to put it:
   * the serving app's log folder locally, the `feedback/` folder beside mlship's registry on a cloud.
   */
  uploadFeedback(file: string, text: string): Promise<void>;
  /** The project's manifest (drift-check and quality read it beside the target). */
  readonly manifest: Manifest;
  /**
   * What the target's own retraining leaves behind: a new version trained from `parent`, registered
   * the way that pipeline registers it (SageMaker: a model package pending approval; Vertex: a model
   * version uploaded with the alias `candidate`; Azure: a model version a command job registered;
   * local: `mlship retrain`'s push of a candidate it does not deploy).
   */
  registerRetrained(parent: string): Promise<void>;
  /** How many state-changing calls the target has made so far (no-ops make none). */
  mutations(): number;
  close(): Promise<void>;
}

export interface ConformanceHarness {
  readonly descriptor: TargetDescriptor;
  /** A cloud is behind the target: `failNextCall` injects its errors (the error-category scenarios run). */
  readonly cloud: boolean;
  start(): Promise<ConformanceWorld>;
}
