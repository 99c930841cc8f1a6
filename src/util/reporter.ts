/**
 * How library code reports progress to the person running mlship, without knowing about the CLI:
 * information lines, warnings, verbose detail and progress indicators (a spinner on a terminal, plain
 * lines otherwise). The CLI's `Reporter` (src/cli/output.ts) implements it; tests pass a recorder.
 * Everything reported goes to stderr — results are the command's business, not the library's.
 */
import type { Writable } from 'node:stream';

/** A running progress indicator; plain lines when not interactive. */
export interface Progress {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export interface Reporter {
  /** `--verbose`: subprocess output is forwarded to `stderr`. */
  readonly verbose: boolean;
  /** A progress or information line. */
  info(text: string): void;
  warn(text: string): void;
  /** Detail shown only with `--verbose`. */
  debug(text: string): void;
  /** Start a progress indicator. */
  progress(text: string): Promise<Progress>;
  /** Raw stream for subprocess output forwarded on `--verbose`. */
  readonly stderr: Writable;
}

/** A reporter that drops everything (tests, library use without a terminal). */
export const silentReporter: Reporter = {
  verbose: false,
  info: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  progress: async () => ({ update: () => undefined, succeed: () => undefined, fail: () => undefined, stop: () => undefined }),
  get stderr(): Writable {
    return process.stderr;
  },
};
