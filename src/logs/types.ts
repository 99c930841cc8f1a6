/** Where prediction logs come from: a window of time and a source of raw lines in a named format. */

/** A time window of logs; undefined ends are open. */
export interface LogWindow {
  from?: Date;
  to?: Date;
}

/**
 * A stream of raw prediction-log lines and the name of their format, one of the `LogFormat`s the
 * target's descriptor lists (src/logs/format.ts), which turns lines into neutral records.
 * Targets plug their storage (local files, S3, GCS, Blob) in here.
 */
export interface LogSource {
  readonly description: string;
  /** A `LogFormat.name`: `mlship`, `sagemaker-capture`, … */
  readonly format: string;
  lines(): AsyncIterable<string>;
  /**
   * The same lines as raw UTF-8 bytes (newline-separated, decompressed), when the source can give
   * them: drift-check hands byte chunks to its parser threads without making strings first.
   */
  bytes?(): AsyncIterable<Uint8Array>;
}
