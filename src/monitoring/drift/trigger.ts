/**
 * What runs when drift is found: `--on-drift "<command>"`, else `mlship retrain` when the manifest
 * says `retraining.on_drift: true`. `--on-drift retrain` runs the same retraining path in process
 * (src/retrain/pipeline.ts): train, build, push, gate, promote.
 */
import type { Manifest } from '../../manifest/types.js';

/** What ran on drift and how it ended. */
export interface TriggerResult {
  command: string;
  /** Where the command came from. */
  source: '--on-drift' | 'retraining.on_drift';
  exit_code: number;
  /** When the trigger was a retraining run: the candidate version and whether the gate promoted it; on a target's own pipeline, its execution. */
  retrain?: { version?: string; promoted?: boolean; live?: string; error?: string; pipeline?: string; executionId?: string; status?: string };
}

/** The word that runs mlship's own retraining (`mlship retrain`) instead of a shell command. */
export const RETRAIN = 'retrain';

/**
 * The command to run on drift, if any: `--on-drift "<command>"` (the word `retrain` runs
 * `mlship retrain`), else `retrain` when the manifest says `retraining.on_drift: true`.
 */
export function driftCommand(flag: string | undefined, manifest: Manifest): { command: string; source: TriggerResult['source'] } | undefined {
  if (flag && flag.trim() !== '') return { command: flag.trim(), source: '--on-drift' };
  if (manifest.retraining.on_drift) return { command: RETRAIN, source: 'retraining.on_drift' };
  return undefined;
}

/**
 * Run the drift command through the shell in the project folder. Its output goes to stderr so
 * stdout keeps only the check's result; MLSHIP_DRIFT_REPORT names the HTML report when written.
 */
export async function runDriftTrigger(
  trigger: { command: string; source: TriggerResult['source'] },
  options: { cwd: string; env: NodeJS.ProcessEnv; report?: string },
): Promise<TriggerResult> {
  const { execa } = await import('execa');
  const result = await execa(trigger.command, {
    shell: true,
    cwd: options.cwd,
    env: { ...options.env, MLSHIP_DRIFT: '1', ...(options.report && { MLSHIP_DRIFT_REPORT: options.report }) },
    stdin: 'ignore',
    // fd 2 for both: the child's output lands on our stderr, never on stdout.
    stdout: 2,
    stderr: 2,
    reject: false,
  });
  return { command: trigger.command, source: trigger.source, exit_code: result.exitCode ?? 1 };
}
