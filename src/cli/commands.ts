/**
 * The one table of commands. Each entry declares its help and options and how to load its handler;
 * handlers (and whatever they import: SDKs, prompts, spinners) load only when the command runs, so
 * `mlship --help` pays for none of them.
 */
import type { CommandModule } from './context.js';

export interface OptionSpec {
  /** commander flag syntax, e.g. `--since <duration>` or `--plan`. */
  flags: string;
  description: string;
  default?: string | boolean;
}

export interface CommandSpec {
  name: string;
  /** `[dir]`, `<version>`… in commander syntax. */
  args?: string;
  summary: string;
  /** Extra help text shown under `mlship <command> --help`. */
  help?: string;
  options?: OptionSpec[];
  /** Whether the command reads the manifest (and so validates it first). */
  readsManifest: boolean;
  load(): Promise<CommandModule>;
}

export const commands: CommandSpec[] = [
  {
    name: 'init',
    args: '[dir]',
    summary: 'scaffold a project: mlship.yaml, the shared features package, train.py and a CI workflow',
    help: [
      'Interactive on a terminal; with --yes (or without a terminal) every answer comes from flags or defaults, and a missing one is an error naming its flag. Paths are relative to the project folder [dir].',
      'Notebook cells tagged "mlship:features" / "mlship:train" (or whose first line is "# mlship: features" / "# mlship: train") are lifted into the features package (transform(df) -> DataFrame) and train.py (train(X, y) -> model).',
      'The request schema is inferred from the baseline CSV; the label column is --label, or the first column named label, target, y, class, outcome, churned, churn, converted, fraud or is_fraud (or ending in _label / _target).',
      'Existing files are never overwritten without --force.',
    ].join('\n\n'),
    options: [
      { flags: '--name <name>', description: 'project name (lowercase letters, digits, -)' },
      { flags: '--model <path>', description: 'model artifact, relative to the project folder' },
      { flags: '--flavor <flavor>', description: 'sklearn | xgboost | lightgbm | onnx | pytorch | llm' },
      { flags: '--baseline <path>', description: 'training data sample (CSV) used for the schema, drift baseline and parity check' },
      { flags: '--notebook <path>', description: 'lift marked cells of this notebook into features/ and train.py' },
      { flags: '--label <column>', description: 'label column in the baseline data (excluded from the feature schema)' },
      { flags: '--force', description: 'overwrite files that already exist' },
    ],
    readsManifest: false,
    load: () => import('./commands/init.js'),
  },
  {
    name: 'validate',
    summary: 'check mlship.yaml and print every problem with file:line:col',
    readsManifest: true,
    load: () => import('./commands/validate.js'),
  },
  {
    name: 'build',
    summary: 'render the serving container context, run the feature-parity check, prepare the local runtime',
    options: [
      { flags: '--image', description: 'build the image even when the target does not deploy one (the local target)' },
      { flags: '--no-image', description: 'skip the image even for a target that deploys one' },
      { flags: '--builder <tool>', description: 'docker | podman | buildah (default: the first that works)' },
      { flags: '--platform <platform>', description: 'image platform', default: 'linux/amd64' },
      { flags: '--tolerance <n>', description: 'float tolerance of the parity check (overrides the manifest)' },
    ],
    readsManifest: true,
    load: () => import('./commands/build.js'),
  },
  {
    name: 'push',
    summary: "register the current build as a new version in the target's registry",
    options: [
      { flags: '--build <id>', description: 'push this build (an id under .mlship/build) instead of the current one' },
      { flags: '--image <uri>', description: 'an image already pushed by a builder (cloud targets without Docker)' },
      { flags: '--builder <tool>', description: 'docker | podman | buildah: the tool that pushes the image (default: the one that built it)' },
      { flags: '--require-approval', description: 'register the version as pending manual approval (cloud targets)' },
    ],
    readsManifest: true,
    load: () => import('./commands/push.js'),
  },
  {
    name: 'deploy',
    summary: 'make a version live: serving, prediction logging, monitoring, autoscaling',
    options: [
      { flags: '--version <vN>', description: 'version to deploy (default: the newest)' },
      { flags: '--plan', description: 'print what would change and change nothing' },
      { flags: '--port <port>', description: 'local target: the stable port to serve on' },
      { flags: '--timeout <duration>', description: 'how long to wait for the new version to become healthy, e.g. 90s, 10m (a plain number: seconds)' },
      { flags: '--strategy <strategy>', description: 'all-at-once | canary', default: 'all-at-once' },
      { flags: '--canary-percent <n>', description: 'canary: share of traffic on the new version first' },
      {
        flags: '--bake <duration>',
        description:
          "canary: how long to watch the new version's errors and latency before shifting the rest, e.g. 10m, 90s (a plain number: minutes; default 10m)",
      },
      { flags: '--bake-minutes <duration>', description: 'the former name of --bake' },
      {
        flags: '--min-requests <n>',
        description: 'canary: requests the new version must answer during the bake before it is promoted (default: rollout.canary.min_requests, 100)',
      },
      { flags: '--promote-inconclusive', description: 'canary: promote it even when it saw fewer requests than the minimum (with a warning)' },
    ],
    readsManifest: true,
    load: () => import('./commands/deploy.js'),
  },
  {
    name: 'rollback',
    summary: 'make the previous (or --to) version live again',
    options: [
      { flags: '--to <vN>', description: 'the version to make live' },
      { flags: '--timeout <duration>', description: 'how long to wait for it to become healthy, e.g. 90s, 10m (a plain number: seconds)' },
    ],
    readsManifest: true,
    load: () => import('./commands/rollback.js'),
  },
  {
    name: 'status',
    summary: 'which version is live, where, since when, its URL and health, recent history',
    readsManifest: true,
    load: () => import('./commands/status.js'),
  },
  {
    name: 'drift-check',
    summary: 'compare logged inputs and outputs with the training baseline (an LLM: its traffic with a reference or its first week)',
    options: [
      { flags: '--since <duration>', description: 'window of logs to read, e.g. 24h, 7d' },
      { flags: '--from <time>', description: 'window start (ISO-8601)' },
      { flags: '--to <time>', description: 'window end (ISO-8601)' },
      { flags: '--logs <path>', description: 'read these logs instead (file, folder or glob)' },
      {
        flags: '--baseline <path>',
        description: "baseline profile or data file (CSV / JSON Lines); an LLM's: reference requests or an exported log (JSON Lines)",
      },
      { flags: '--reference <kind>', description: 'first-week: use the first 7 days of logs as the baseline' },
      { flags: '--report <file>', description: 'write a self-contained HTML report' },
      { flags: '--on-drift <command>', description: 'run this command when drift is found' },
    ],
    readsManifest: true,
    load: () => import('./commands/drift-check.js'),
  },
  {
    name: 'quality',
    summary: 'live quality: the metric on predictions joined with their feedback labels vs the validation metric',
    help: 'Labels come from POST /feedback ({"id": <prediction id>, "label": ...}) and are joined with the prediction log by id; a later label for the same id replaces an earlier one. Exits 3 when the live metric is worse than the validation metric (metrics.json of the version) by more than quality.max_drop.',
    options: [
      { flags: '--since <duration>', description: 'window of predictions, e.g. 24h, 7d' },
      { flags: '--from <time>', description: 'window start (ISO-8601)' },
      { flags: '--to <time>', description: 'window end (ISO-8601)' },
      { flags: '--logs <folder>', description: 'read predictions-*.jsonl and feedback-*.jsonl from this folder' },
      { flags: '--version <vN>', description: 'score this version (default: the live one)' },
    ],
    readsManifest: true,
    load: () => import('./commands/quality.js'),
  },
  {
    name: 'retrain',
    summary: 'retrain: run retraining.command on new data, build, push with lineage, promote through the gate',
    help: [
      'The command runs in the project folder with MLSHIP_DATA (training files, separated by ":") and MLSHIP_HOLDOUT (where to write the holdout rows, as CSV with the label column) in its environment; it writes the model and metrics.json.',
      'The gate scores the candidate and the live version on that holdout with retraining.gate.metric; the candidate becomes live (with --deploy or retraining.auto_deploy) only if it is better by at least retraining.gate.min_delta. Otherwise it stays registered, not live, and the command exits 3.',
    ].join('\n\n'),
    options: [
      { flags: '--from-logs', description: 'train on logged inputs joined with their feedback labels' },
      { flags: '--local', description: 'train here even when the target has its own retraining pipeline (SageMaker)' },
      { flags: '--deploy', description: 'make the candidate live when it passes the gate' },
      { flags: '--dry-run', description: 'show what would run and change nothing' },
      { flags: '--since <duration>', description: '--from-logs: window of predictions, e.g. 30d' },
      { flags: '--from <time>', description: '--from-logs: window start (ISO-8601)' },
      { flags: '--to <time>', description: '--from-logs: window end (ISO-8601)' },
      { flags: '--logs <folder>', description: '--from-logs: read the logs from this folder instead of the target' },
      { flags: '--no-image', description: 'skip the image even for a target that deploys one' },
      { flags: '--builder <tool>', description: 'docker | podman | buildah (default: the first that works)' },
      { flags: '--timeout <duration>', description: 'how long to wait for the new version to become healthy, e.g. 90s, 10m (a plain number: seconds)' },
    ],
    readsManifest: true,
    load: () => import('./commands/retrain.js'),
  },
  {
    name: 'schedule',
    summary: 'crontab lines for monitoring.drift.schedule and retraining.schedule; --install writes them',
    help: 'Installing replaces this project\'s block (between "# >>> mlship" marker comments) and keeps every other line, so running it again leaves one entry per schedule. Times are the machine\'s local time.',
    options: [
      { flags: '--install', description: "write the lines into the user's crontab (crontab -l / crontab -)" },
      { flags: '--crontab <file>', description: 'install into this crontab file instead (implies --install)' },
    ],
    readsManifest: true,
    load: () => import('./commands/schedule.js'),
  },
  {
    name: 'budget',
    summary: 'latency budget per stage (an LLM: per token) allocated vs measured, and cost budget (instance, $/month, CPU vs GPU)',
    options: [
      { flags: '--url <url>', description: 'measure this endpoint instead of the live deployment' },
      { flags: '--rps <n>', description: 'request rate of the load test (default: serving.expected_rps; not for an LLM)' },
      {
        flags: '--connections <n>',
        description: 'connections of the load test (alone: as fast as they go); an LLM: streams at once (default budget.concurrency)',
      },
      { flags: '--duration <duration>', description: 'load test duration, e.g. 3s, 1m (a plain number: seconds; default 5s, an LLM 10s)' },
      { flags: '--report <file>', description: 'write a self-contained HTML report' },
    ],
    readsManifest: true,
    load: () => import('./commands/budget.js'),
  },
  {
    name: 'serve',
    summary: 'run the built serving app in the foreground on localhost',
    options: [{ flags: '--port <port>', description: 'port to listen on', default: '8080' }],
    readsManifest: true,
    load: () => import('./commands/serve.js'),
  },
  {
    name: 'stop',
    summary: 'stop the local deployment (drain, then stop)',
    readsManifest: true,
    load: () => import('./commands/stop.js'),
  },
];
