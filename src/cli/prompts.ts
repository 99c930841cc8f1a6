/**
 * Prompts that never hang in CI: on a TTY (and without `--yes`) they ask through @inquirer/prompts,
 * loaded lazily; otherwise they return the default, or fail naming the flag to pass.
 */
import { UsageError } from '../util/errors.js';
import { isCi } from './output.js';

export interface AskBase<T> {
  message: string;
  /** The flag that answers this question non-interactively, e.g. `--name`. */
  flag: string;
  default?: T;
}

export interface Choice<T> {
  value: T;
  name?: string;
  description?: string;
}

export class Prompter {
  readonly interactive: boolean;

  constructor(private readonly options: { yes: boolean; interactive: boolean; env: NodeJS.ProcessEnv }) {
    this.interactive = options.interactive && !options.yes;
  }

  async input(q: AskBase<string> & { validate?: (value: string) => string | true }): Promise<string> {
    if (!this.interactive) return this.fallback(q);
    const { input } = await import('@inquirer/prompts');
    return this.asked(input({ message: q.message, default: q.default, validate: q.validate }, this.streams()));
  }

  async select<T extends string>(q: AskBase<T> & { choices: Choice<T>[] }): Promise<T> {
    if (!this.interactive) return this.fallback(q);
    const { select } = await import('@inquirer/prompts');
    return this.asked(select<T>({ message: q.message, default: q.default, choices: q.choices, pageSize: 12 }, this.streams()));
  }

  async confirm(q: AskBase<boolean>): Promise<boolean> {
    if (!this.interactive) return this.fallback(q);
    const { confirm } = await import('@inquirer/prompts');
    return this.asked(confirm({ message: q.message, default: q.default }, this.streams()));
  }

  /** Prompts draw on stderr, so stdout keeps only the result (and `--json` stays one document). */
  private streams() {
    return { input: process.stdin, output: process.stderr };
  }

  /** Ctrl-C on a prompt is the user's choice, not a bug: report it as a cancelled command. */
  private async asked<T>(answer: Promise<T>): Promise<T> {
    try {
      return await answer;
    } catch (error) {
      if (error instanceof Error && error.name === 'ExitPromptError') {
        throw new UsageError('cancelled at a prompt', { code: 'cancelled', hint: 'Run the command again, or pass every answer as a flag with --yes.' });
      }
      throw error;
    }
  }

  private fallback<T>(q: AskBase<T>): T {
    if (q.default !== undefined) return q.default;
    const why = this.options.yes ? 'with --yes' : isCi(this.options.env) ? 'in CI (CI is set, so nothing prompts)' : 'without a terminal to ask on';
    throw new UsageError(`${q.message.replace(/[?:]\s*$/, '')}: no answer ${why}.`, {
      code: 'missing_answer',
      hint: `Pass ${q.flag}.`,
      details: { flag: q.flag },
    });
  }
}
