/**
 * Typed errors. Every failure a user can cause or meet is one of these; the single handler in
 * `src/cli/main.ts` turns it into a message, a JSON error document and an exit code. Anything that is
 * not an `MlshipError` is a bug in mlship and is reported as one.
 */

/** Exit codes, as DESIGN.md fixes them. */
export const ExitCode = {
  ok: 0,
  /** An operation failed: cloud error, build failure, unreachable endpoint. */
  failed: 1,
  /** Usage or manifest error. */
  usage: 2,
  /** A check ran and failed: drift found, budget exceeded, parity mismatch. */
  checkFailed: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  /** How to fix it, one sentence. */
  hint?: string;
  /** Extra machine-readable facts for `--json` (must be JSON-serialisable). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * Marks an mlship error across copies of this module: a target loaded from outside mlship's own
 * files (`MLSHIP_EXTRA_TARGETS`) throws errors of its own copy of these classes.
 */
const MLSHIP_ERROR = Symbol.for('mlship.error');

/** Base class: a failure with a stable code, an exit code and a hint for the user. */
export abstract class MlshipError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly [MLSHIP_ERROR] = true;
  /** Stable, machine-readable code, e.g. `manifest_invalid`. */
  readonly code: string;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** Wrong flags, missing answers without a TTY, a command used the wrong way. Exit 2. */
export class UsageError extends MlshipError {
  readonly exitCode = ExitCode.usage;
  constructor(message: string, options: ErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'usage', message, options);
  }
}

/** The manifest (or another input file) is broken; `details.diagnostics` lists every problem. Exit 2. */
export class ManifestError extends MlshipError {
  readonly exitCode = ExitCode.usage;
  constructor(message: string, options: ErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'manifest_invalid', message, options);
  }
}

/** An operation ran and failed: a process, a cloud call, an unreachable endpoint. Exit 1. */
export class OperationError extends MlshipError {
  readonly exitCode = ExitCode.failed;
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * A check ran and its verdict is "no": drift found, budget exceeded, parity mismatch, a gate held a
 * model back. Exit 3. `details.result` carries the full result so `--json` still gets it.
 */
export class CheckFailedError extends MlshipError {
  readonly exitCode = ExitCode.checkFailed;
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Whether a value is one of mlship's typed errors (not a bug). */
export function isMlshipError(value: unknown): value is MlshipError {
  return value instanceof MlshipError || (typeof value === 'object' && value !== null && (value as { [MLSHIP_ERROR]?: unknown })[MLSHIP_ERROR] === true);
}
