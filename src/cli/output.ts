/**
 * Output discipline in one place: results go to stdout (one JSON document with `--json`), everything
 * else — progress, notes, warnings, spinners — to stderr. Spinners only on a TTY outside CI.
 */
import type { Writable } from 'node:stream';
import type { Progress, Reporter } from '../util/reporter.js';

export type { Progress } from '../util/reporter.js';

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
  color: boolean;
  /** stderr is an interactive terminal and we are not in CI: spinners allowed. */
  interactive: boolean;
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Writable & { isTTY?: boolean };
}

const codes = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1, cyan: 36 } as const;
export type Style = keyof typeof codes;

/** The CLI's reporter: library code sees it only as a `Reporter` (src/util/reporter.ts). */
export class Output implements Reporter {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
  readonly interactive: boolean;
  private readonly out: Writable;
  private readonly err: Writable;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.verbose = options.verbose;
    this.color = options.color;
    this.interactive = options.interactive;
    this.out = options.stdout ?? process.stdout;
    this.err = options.stderr ?? process.stderr;
  }

  /** Colour a piece of text when colour is on. */
  style(style: Style, text: string): string {
    return this.color ? `\u001b[${codes[style]}m${text}\u001b[0m` : text;
  }

  /** The command's result for humans (stdout). Ignored under `--json`. */
  result(text: string): void {
    if (!this.json && text.length > 0) this.out.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The one JSON document (stdout). */
  document(value: unknown): void {
    this.out.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A progress or information line (stderr). */
  info(text: string): void {
    this.err.write(`${text}\n`);
  }

  /** A warning (stderr). */
  warn(text: string): void {
    this.err.write(`${this.style('yellow', 'warning')} ${text}\n`);
  }

  /** Detail shown only with `--verbose` (stderr). */
  debug(text: string): void {
    if (this.verbose) this.err.write(`${this.style('dim', text)}\n`);
  }

  /** Raw stream for subprocess output forwarded on `--verbose`. */
  get stderr(): Writable {
    return this.err;
  }

  /**
   * Start a progress indicator: an ora spinner on an interactive terminal (loaded lazily, so
   * commands that never spin never pay for it), else one plain line per update.
   */
  async progress(text: string): Promise<Progress> {
    if (!this.interactive) {
      this.info(`… ${text}`);
      return {
        update: (t) => this.info(`… ${t}`),
        succeed: (t) => this.info(`${this.style('green', '✔')} ${t ?? text}`),
        fail: (t) => this.info(`${this.style('red', '✖')} ${t ?? text}`),
        stop: () => undefined,
      };
    }
    const { default: ora } = await import('ora');
    const spinner = ora({ text, stream: this.err, color: 'cyan', isEnabled: true }).start();
    return {
      update: (t) => {
        spinner.text = t;
      },
      succeed: (t) => void spinner.succeed(t ?? spinner.text),
      fail: (t) => void spinner.fail(t ?? spinner.text),
      stop: () => void spinner.stop(),
    };
  }
}

/** Decide colour and interactivity from flags and the environment (NO_COLOR, CI, TTY). */
export function resolveOutputOptions(
  flags: { json?: boolean; verbose?: boolean; color?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  streams: { stdout: { isTTY?: boolean }; stderr: { isTTY?: boolean } } = process,
): OutputOptions {
  const ci = isCi(env);
  const noColor = flags.color === false || (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb';
  const stderrTty = streams.stderr.isTTY === true;
  return {
    json: flags.json === true,
    verbose: flags.verbose === true,
    color: !noColor && !ci && stderrTty,
    interactive: stderrTty && !ci,
  };
}

/** CI is set to anything but "false"/"0". */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}
