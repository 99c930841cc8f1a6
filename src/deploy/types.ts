/**
 * The one interface every target implements (local, SageMaker, Vertex, Azure). Commands talk to a
 * `Target` only; they never branch on which one it is. Targets return these mlship types, never SDK
 * types. What every target needs beside it (plan/steps, poller, history and rollback policy, object
 * store and registry, image push, cloud error categories, rollout controller, descriptors, neutral
 * log records) is the shared core in `shared/`; facts about a target that need no SDK are its
 * descriptor (`descriptors.ts`).
 */
import type { Reporter } from '../util/reporter.js';
import type { BaselineProfile } from '../baseline/profile.js';
import type { LogSource, LogWindow } from '../logs/types.js';
import type { Manifest, TargetName } from '../manifest/types.js';
import type { BuildRef } from '../packaging/index.js';

/** What a target needs from the outside world. */
export interface TargetContext {
  manifest: Manifest;
  /** Progress lines, warnings and spinners (stderr). */
  output: Reporter;
  env: NodeJS.ProcessEnv;
  /** The command that acts (`deploy`, `rollback`…), recorded in history. */
  command: string;
  now(): Date;
  /** Pause between polls (tests make it instant and move `now` with it); default: real time. */
  sleep?(ms: number): Promise<void>;
}

/** Who or what changed the live version, recorded in history. */
export interface Actor {
  command: string;
  user: string;
  host: string;
}

/** One registered version. */
export interface VersionInfo {
  /** `v1`, `v2`, … */
  version: string;
  buildId: string;
  createdAt: string;
  /** sha256 of the model artifact. */
  digest: string;
  gitCommit?: string;
  /** Training metrics (metrics.json) when the training code wrote them. */
  metrics?: Record<string, unknown>;
  /** Lineage: the version this one was retrained from, and the data it was trained on. */
  parent?: string;
  data?: { path: string; sha256: string }[];
  /** Outcome of a retraining gate, when one ran. */
  gate?: {
    promoted: boolean;
    metric: string;
    candidate: number;
    live?: number;
    /** The version the candidate was compared with, the required improvement and the holdout size. */
    liveVersion?: string;
    minDelta?: number;
    rows?: number;
  };
  /** Target-specific location (image URI, model package ARN…). */
  location?: Record<string, string>;
  live: boolean;
  /**
   * Registered by a retraining run on the target and not yet promoted: `mlship deploy --version vN`
   * makes it live; a deploy without --version does not pick it.
   */
  pending?: boolean;
}

/** One entry of the append-only history of which version was live when. */
export interface HistoryEntry {
  ts: string;
  action: 'deploy' | 'rollback' | 'stop';
  version?: string;
  previous?: string;
  by: Actor;
  /** Free-form facts: URL, pid, endpoint config… */
  details?: Record<string, unknown>;
}

export interface PushOptions {
  /** An image URI already pushed by a builder (clouds without Docker). */
  image?: string;
  /** `--builder`: the tool that pushes the image (default: the one that built it, else the first that works). */
  builder?: string;
  requireApproval?: boolean;
  /** Lineage facts to record (retraining). */
  parent?: string;
  data?: { path: string; sha256: string }[];
  /** The retraining gate's outcome, recorded on the new version. */
  gate?: VersionInfo['gate'];
  /** Register it pending promotion (a retraining pipeline's result): a deploy without --version passes over it. */
  pending?: boolean;
}

export interface PushResult {
  version: VersionInfo;
  /** False when an identical build was already registered (no duplicate version). */
  created: boolean;
}

export type { ComputeChoice, ComputeSizing, ServingRuntime } from '../compute/types.js';
import type { ComputeChoice } from '../compute/types.js';

export interface DeployRequest {
  /** `vN`; undefined = newest. */
  version?: string;
  timeoutSeconds?: number;
  /** Local: the stable port. */
  port?: number;
  strategy?:
    | { kind: 'all-at-once' }
    | {
        kind: 'canary';
        percent: number;
        bakeMinutes: number;
        /** Answered requests the canary needs over the bake to be promoted; default `rollout.canary.min_requests`. */
        minRequests?: number;
        /** Promote a canary without enough evidence (with a warning in the output and the history) instead of reverting it. */
        promoteInconclusive?: boolean;
      };
}

/** One step a deploy would take (a process to start, an API call to make). */
export interface PlanStep {
  action: string;
  resource: string;
  details?: Record<string, unknown>;
}

export interface DeployPlan {
  target: TargetName;
  /** The live version now, if any. */
  from?: string;
  to: string;
  compute?: ComputeChoice;
  url?: string;
  /** Prediction logging on, and where. */
  logging: { enabled: boolean; destination: string };
  steps: PlanStep[];
  /** Nothing to do (the version is already live and healthy). */
  noop: boolean;
  /** What the deploy will not do that the manifest asks for (e.g. alert e-mail on a target that sends none). */
  warnings?: string[];
  /** A canary: its share, bake and the evidence its promotion needs (filled by `deploy --plan` from the request). */
  rollout?: Extract<NonNullable<DeployRequest['strategy']>, { kind: 'canary' }>;
}

export interface LiveInfo {
  version: string;
  url: string;
  since: string;
  healthy: boolean;
  /** Local: process id of the router/app; clouds: endpoint name. */
  details?: Record<string, unknown>;
}

export interface DeployResult {
  live: LiveInfo;
  previous?: string;
  /** False when the version was already live (converged, nothing changed). */
  changed: boolean;
}

export interface RollbackRequest {
  to?: string;
  timeoutSeconds?: number;
}

export interface TargetStatus {
  target: TargetName;
  live?: LiveInfo;
  history: HistoryEntry[];
  versions: VersionInfo[];
  /** Target-specific facts (instance, capture destination, alarms…). */
  details?: Record<string, unknown>;
}

export interface StopResult {
  stopped: boolean;
  version?: string;
}

/** A run of a target's own retraining pipeline (clouds), followed to its end. */
export interface RetrainingRun {
  pipeline: string;
  /** The platform's id of the execution (an ARN on SageMaker, a resource name on Vertex, a job name on Azure). */
  executionId: string;
  status: string;
  seconds: number;
  /** The version the run registered, pending promotion (when the target knows it). */
  version?: string;
}

/**
 * The live version as its callers reach it, through the platform's own route and credentials (SigV4
 * on SageMaker's runtime, a Google token, the endpoint's key): what `mlship budget` load-tests. A
 * prediction is one JSON record (the platform's envelope added, e.g. Vertex's `instances`); a chat
 * is an OpenAI-compatible body asking for `stream: true`, sent as it is. The answer is a fetch
 * `Response` (a model's own error status included) whose body arrives as the platform delivers it —
 * for a chat, its event stream. Built by `live-client.ts`.
 */
export interface LiveClient {
  /** The version serving, when the target knows it (not for a --url). */
  version?: string;
  /** Where a prediction goes and where a streamed chat goes, for messages. */
  predictRoute: string;
  chatRoute: string;
  predict(record: string, options: { signal: AbortSignal }): Promise<Response>;
  streamChat(body: string, options: { signal: AbortSignal }): Promise<Response>;
}

export interface Target {
  readonly name: TargetName;
  /** Register a build as a new version; an identical build returns the existing version. */
  push(build: BuildRef, options: PushOptions): Promise<PushResult>;
  /** What `deploy` would do; changes nothing. */
  plan(request: DeployRequest): Promise<DeployPlan>;
  /** Make a version live; a failed deploy leaves the previous version serving. */
  deploy(request: DeployRequest): Promise<DeployResult>;
  /** Make the previous live (or the named) version live again. */
  rollback(request: RollbackRequest): Promise<DeployResult>;
  status(): Promise<TargetStatus>;
  /** A client of the live version (undefined when nothing is live). */
  liveClient(): Promise<LiveClient | undefined>;
  /** Stop serving (local); clouds may delete the endpoint. */
  stop(): Promise<StopResult>;
  /** The registered versions, oldest first. */
  versions(): Promise<VersionInfo[]>;
  /** The baseline profile stored with a version (default: the live one). */
  baseline(version?: string): Promise<BaselineProfile>;
  /** Prediction logs in a window, for drift-check and quality. */
  predictionLogs(window: LogWindow): Promise<LogSource[]>;
  /**
   * Ground-truth feedback logs (`{"ts", "id", "label"}` lines, what `POST /feedback` appends) that
   * can hold labels for predictions in the window; targets without them leave this out.
   */
  feedbackLogs?(window: LogWindow): Promise<LogSource[]>;
  /**
   * Targets with a managed retraining pipeline (SageMaker Pipelines…): start it and follow it to its
   * end; failures throw. Absent on targets that retrain where mlship runs (local). The timeout has no
   * default here: `mlship retrain` passes `--timeout` or the one shared default (RETRAINING_TIMEOUT_S).
   */
  startRetraining?(timeoutSeconds: number): Promise<RetrainingRun>;
}
