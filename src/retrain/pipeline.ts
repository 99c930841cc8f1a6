/**
 * `mlship retrain`: one retraining run, the same whether a person, cron (`mlship schedule`) or a
 * drift alert (`drift-check --on-drift retrain`, `retraining.on_drift`) starts it.
 *
 *   1. data: `retraining.data`, or with `--from-logs` logged inputs joined with feedback labels
 *   2. train: `retraining.command` in the project folder, told where things are by environment:
 *        MLSHIP_DATA     the training files, separated by ':' (path.delimiter)
 *        MLSHIP_HOLDOUT  where to write the holdout rows (CSV: raw fields + label) it scored on
 *      it writes the model (model.path) and metrics.json, as `python train.py` always does
 *   3. build: `buildProject` (the parity check runs), as `mlship build` does; with `--from-logs` the
 *      assembled data is the new version's baseline (drift is then measured against what it learnt)
 *   4. gate: candidate and live scored on that holdout, with `retraining.gate.metric`
 *   5. push: a new version with metrics, lineage (data + sha256, git commit, parent) and the gate
 *   6. promote: deploy through the target when the gate passes and `--deploy` / `auto_deploy` ask;
 *      a held-back candidate stays registered, not live (exit 3), and the project's model file and
 *      metrics.json are put back as they were, so the working copy keeps matching the live model.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../util/errors.js';
import { readJson, withLock } from '../util/fs.js';
import { buildProject, imageWanted } from '../packaging/index.js';
import { descriptorOf } from '../targets/descriptors.js';
import type { VersionInfo } from '../deploy/types.js';
import type { LogWindow } from '../logs/types.js';
import { labelledLogs, type RetrainContext } from './context.js';
import { assembleFromLogs, lineage, resolveDataFiles, type DataFile } from './dataset.js';
import { decideGate, fmt, type GateDecision } from './gate.js';
import type { JoinStats } from '../logs/join.js';
import { asMetric } from './metrics.js';
import { buildDirOf, holdoutLabels, holdoutOutputs, scoreTogether } from './score.js';

/** How long a run waits for another one on the same project before giving up. */
const LOCK_WAIT_MS = 10_000;

export interface RetrainFlags {
  fromLogs: boolean;
  deploy: boolean;
  dryRun: boolean;
  /** Window of logs for `--from-logs`. */
  window: LogWindow;
  /** `--logs <folder>` instead of the target's logs. */
  logs?: string;
  /** `--no-image` (false); otherwise the build makes an image only when the target deploys one. */
  image?: boolean;
  /** `--builder`: the image tool. */
  builder?: string;
  /** Deploy health timeout. */
  timeoutSeconds?: number;
}

export interface RetrainResult {
  dryRun: boolean;
  command: string;
  /** The training data and its digests (the lineage). */
  data: DataFile[];
  fromLogs?: { rows: number; labels: JoinStats };
  /** The run's folder (assembled data, holdout) under .mlship/retrain/. */
  runDir?: string;
  parent?: string;
  metrics?: Record<string, unknown>;
  build?: { id: string; reused: boolean };
  version?: string;
  /** False when an identical build was already registered. */
  created?: boolean;
  gate?: GateDecision & { rows: number; liveVersion?: string };
  /** Whether the candidate was made live. */
  deployed: boolean;
  /** The live version when the run ended. */
  live?: string;
  /** What `--dry-run` would do, in order. */
  steps?: string[];
}

/** Run (or with dryRun, describe) one retraining. `result.gate.promoted === false` is the held-back case (exit 3). */
export async function retrain(ctx: RetrainContext, flags: RetrainFlags): Promise<{ result: RetrainResult; text: string }> {
  const { manifest, output } = ctx;
  const metric = asMetric(manifest.retraining.gate.metric);
  const minDelta = manifest.retraining.gate.min_delta;
  const deploy = flags.deploy || manifest.retraining.auto_deploy;
  const command = manifest.retraining.command;
  const target = await ctx.target();
  const liveBefore = (await target.versions()).find((v) => v.live);
  const runId = `${ctx.now().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${process.pid}`;
  const runDir = path.join(manifest.projectDir, '.mlship', 'retrain', runId);
  const holdout = path.join(runDir, 'holdout.csv');

  let files: string[];
  let fromLogs: RetrainResult['fromLogs'];
  if (flags.fromLogs) {
    const sources = await labelledLogs(ctx, flags.window, flags.logs);
    const file = path.join(runDir, 'from-logs.csv');
    const assembled = await assembleFromLogs(manifest, sources, flags.window, flags.dryRun ? undefined : file);
    fromLogs = { rows: assembled.rows, labels: assembled.stats };
    files = [file];
    output.info(`training set: ${assembled.rows} logged predictions with feedback labels${flags.dryRun ? '' : ` → ${rel(manifest.projectDir, file)}`}`);
  } else {
    files = resolveDataFiles(manifest);
  }

  if (flags.dryRun) {
    const data = flags.fromLogs ? [] : await lineage(manifest, files);
    const steps = [
      `train: ${command}  (MLSHIP_DATA=${files.map((f) => rel(manifest.projectDir, f)).join(path.delimiter)} MLSHIP_HOLDOUT=${rel(manifest.projectDir, holdout)})`,
      'build: render the serving context, run the feature-parity check',
      `gate: score the candidate and ${liveBefore ? `the live ${liveBefore.version}` : 'the live version (none now: the candidate passes)'} on the holdout with ${metric}; promote when candidate ${metric} ${higherWord(metric)} by at least ${minDelta}`,
      `push: register the candidate with its metrics, data lineage${liveBefore ? ` and parent ${liveBefore.version}` : ''}`,
      deploy ? 'deploy: make the candidate live when it passes the gate' : 'deploy: no (pass --deploy or set retraining.auto_deploy: true)',
    ];
    const result: RetrainResult = {
      dryRun: true,
      command,
      data,
      ...(fromLogs && { fromLogs }),
      ...(liveBefore && { parent: liveBefore.version, live: liveBefore.version }),
      deployed: false,
      steps,
    };
    return { result, text: ['retrain (dry run: nothing was run or changed)', ...steps.map((s, i) => `  ${i + 1}. ${s}`)].join('\n') };
  }

  // One run at a time per project: runs share the project's model file and metrics.json.
  return withLock(
    path.join(manifest.projectDir, '.mlship', 'retrain', '.lock'),
    async () => {
      mkdirSync(runDir, { recursive: true });
      const data = await lineage(manifest, files);
      const restore = backupOutputs(manifest.model.path, path.join(manifest.projectDir, 'metrics.json'), path.join(runDir, 'previous'));
      let keep = false;
      try {
        await runCommand(ctx, command, files, holdout);
        if (!existsSync(manifest.model.path)) {
          throw new OperationError('retrain_no_model', `the retraining command did not write the model ${manifest.model.relativePath}`, {
            hint: 'The command must write the model where model.path in mlship.yaml says.',
          });
        }
        if (!existsSync(holdout)) {
          throw new OperationError(
            'retrain_no_holdout',
            `the retraining command did not write its holdout to MLSHIP_HOLDOUT (${rel(manifest.projectDir, holdout)})`,
            {
              hint: 'The gate scores the candidate and the live model on the rows the training code held out: write them (raw fields and the label column) as CSV to the path in $MLSHIP_HOLDOUT (python train.py --holdout PATH does).',
            },
          );
        }
        const metrics = readJson<Record<string, unknown>>(path.join(manifest.projectDir, 'metrics.json'));

        // Trained on logged traffic: that traffic is the new version's drift baseline and parity rows.
        const buildManifest = fromLogs
          ? { ...manifest, features: { ...manifest.features, baseline: files[0]!, baselineRelative: path.relative(manifest.projectDir, files[0]!) } }
          : manifest;
        const built = await buildProject(
          buildManifest,
          {
            image: imageWanted(flags.image, descriptorOf(manifest.target)),
            ...(flags.builder && { builder: flags.builder }),
            platform: 'linux/amd64',
            env: ctx.env,
          },
          output,
        );
        output.info(`built ${built.id}${built.reused ? ' (reused: same inputs)' : ''}`);

        const labels = holdoutLabels(manifest, holdout);
        const progress = await output.progress(
          `gate: scoring the candidate${liveBefore ? ` and ${liveBefore.version}` : ''} on ${labels.length} holdout rows (${metric})`,
        );
        let decision: GateDecision;
        let rows: number;
        try {
          const builds = [built.dir, ...(liveBefore ? [buildDirOf(manifest, liveBefore.buildId, liveBefore.version)] : [])];
          const outputs: unknown[][] = [];
          for (const buildDir of builds) outputs.push(await holdoutOutputs({ manifest, buildDir, holdout, env: ctx.env }));
          const [candidate, live] = scoreTogether(metric, manifest.model.output, labels, outputs);
          decision = decideGate({ metric, minDelta, candidate: candidate!.value, ...(live && { live: live.value }) });
          rows = candidate!.rows;
          if (candidate!.skipped > 0) output.warn(`${candidate!.skipped} holdout rows were left out of the gate (no label, or a build's schema rejects them)`);
        } catch (error) {
          progress.fail();
          throw error;
        }
        (decision.promoted ? progress.succeed : progress.fail)(`gate: ${decision.reason}`);
        const gate = { ...decision, rows, ...(liveBefore && { liveVersion: liveBefore.version }) };

        const pushed = await target.push(
          { id: built.id, dir: built.dir },
          {
            ...(liveBefore && { parent: liveBefore.version }),
            data,
            gate: {
              promoted: decision.promoted,
              metric,
              candidate: decision.candidate,
              ...(decision.live !== undefined && { live: decision.live }),
              ...(liveBefore && { liveVersion: liveBefore.version }),
              minDelta,
              rows,
            },
            // A candidate its gate did not promote waits, as a cloud pipeline's result does: only `deploy --version` takes it.
            ...(!decision.promoted && { pending: true }),
          },
        );
        const version = pushed.version.version;
        if (!pushed.created) output.warn(`the candidate is identical to ${version}, already registered; its record is unchanged`);
        else output.info(`registered ${version}${liveBefore ? ` (parent ${liveBefore.version})` : ''}`);

        let deployed = false;
        let liveAfter = liveBefore?.version;
        if (decision.promoted) {
          keep = true;
          if (deploy && liveBefore?.version !== version) {
            const done = await target.deploy({ version, ...(flags.timeoutSeconds !== undefined && { timeoutSeconds: flags.timeoutSeconds }) });
            deployed = done.changed;
            liveAfter = done.live.version;
            output.info(`${version} is live on ${done.live.url}`);
          }
        }
        const result: RetrainResult = {
          dryRun: false,
          command,
          data,
          ...(fromLogs && { fromLogs }),
          runDir,
          ...(liveBefore && { parent: liveBefore.version }),
          ...(metrics && { metrics }),
          build: { id: built.id, reused: built.reused },
          version,
          created: pushed.created,
          gate,
          deployed,
          ...(liveAfter && { live: liveAfter }),
        };
        let text = formatRetrain(result, deploy);
        if (!decision.promoted) {
          text += `\n${version} stays registered but not live${liveBefore ? `; ${liveBefore.version} keeps serving` : ''}. Deploy it anyway with \`mlship deploy --version ${version}\`.`;
        }
        return { result, text };
      } finally {
        if (!keep) restore();
        rmSync(path.join(runDir, 'previous'), { recursive: true, force: true });
      }
    },
    LOCK_WAIT_MS,
  );
}

/** Run the training command with its data and holdout paths; its output goes to stderr. */
async function runCommand(ctx: RetrainContext, command: string, files: string[], holdout: string): Promise<void> {
  const { execa } = await import('execa');
  ctx.output.info(`training: ${command}`);
  const r = await execa(command, {
    shell: true,
    cwd: ctx.manifest.projectDir,
    env: { ...ctx.env, MLSHIP_DATA: files.join(path.delimiter), MLSHIP_HOLDOUT: holdout, MLSHIP_RETRAIN: '1' },
    stdin: 'ignore',
    stdout: 2,
    stderr: 2,
    reject: false,
  });
  if (r.exitCode !== 0) {
    throw new OperationError('retrain_command_failed', `the retraining command failed (exit ${r.exitCode ?? 'none'}): ${command}`, {
      hint: 'Its output is above. Fix it and run `mlship retrain` again; the project was left as it was.',
    });
  }
}

/** Copy the project's model file and metrics.json aside; the returned function puts them back. */
function backupOutputs(model: string, metrics: string, dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const saved = [model, metrics].map((file, i) => {
    const copy = path.join(dir, `${i}-${path.basename(file)}`);
    const had = existsSync(file);
    if (had) copyFileSync(file, copy);
    return { file, copy, had };
  });
  return () => {
    for (const s of saved) {
      if (s.had) copyFileSync(s.copy, s.file);
      else rmSync(s.file, { force: true });
    }
  };
}

function rel(from: string, file: string): string {
  return path.relative(from, file) || file;
}

function higherWord(metric: string): string {
  return metric === 'rmse' || metric === 'mae' ? 'is lower' : 'is higher';
}

/** The run's summary for humans. */
export function formatRetrain(r: RetrainResult, deployAsked: boolean): string {
  const lines: string[] = [];
  const g = r.gate;
  if (g) {
    const verdict = g.promoted
      ? r.deployed
        ? 'promoted and live'
        : deployAsked
          ? 'promoted'
          : 'passed the gate (not deployed: pass --deploy)'
      : 'HELD BACK by the gate';
    lines.push(`${r.version}: ${verdict}`);
    lines.push(
      `  gate      ${g.metric} candidate ${fmt(g.candidate)} vs live${g.liveVersion ? ` ${g.liveVersion}` : ''} ${fmt(g.live)} on ${g.rows} holdout rows (min_delta ${g.minDelta})`,
    );
  }
  if (r.parent) lines.push(`  parent    ${r.parent}`);
  lines.push(`  data      ${r.data.map((d) => `${d.path} (sha256 ${d.sha256.slice(0, 12)})`).join(', ')}`);
  if (r.fromLogs)
    lines.push(
      `  from logs ${r.fromLogs.rows} labelled predictions (${r.fromLogs.labels.unknownIds} labels for unknown ids, ${r.fromLogs.labels.duplicateLabels} superseded)`,
    );
  if (r.build) lines.push(`  build     ${r.build.id}`);
  if (r.live) lines.push(`  live      ${r.live}`);
  return lines.join('\n');
}

/** Whether a version record carries a gate verdict (for status lines). */
export function gateWords(v: Pick<VersionInfo, 'gate'>): string {
  if (!v.gate) return '';
  return `${v.gate.promoted ? 'promoted' : 'held back'} (${v.gate.metric} ${fmt(v.gate.candidate)} vs ${fmt(v.gate.live)})`;
}
