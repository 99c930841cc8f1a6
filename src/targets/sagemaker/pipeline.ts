/**
 * The retraining pipeline: a SageMaker Pipeline definition rendered from
 * `templates/sagemaker/pipeline.json.hbs` (a training step that runs the project's own training
 * command in the built image, then a step registering the result as a new model package, pending
 * approval), and the EventBridge Scheduler schedule that starts it. The template only lays out JSON;
 * every value is decided and JSON-encoded here, so no manifest value can break the document.
 */
import path from 'node:path';
import type * as SCH from '@aws-sdk/client-scheduler';
import type * as SM from '@aws-sdk/client-sagemaker';
import { renderTemplate } from '../../util/templates.js';
import type { Manifest } from '../../manifest/types.js';
import type { ComputeChoice } from '../../deploy/types.js';
import { schedulerCron } from './cron.js';
import { keys, s3Uri, type Resources } from './resources.js';
import { shellQuote } from '../../deploy/source.js';

/** The folder the training command reads its data from, relative to the project (from `retraining.data`). */
function dataFolder(manifest: Manifest): string {
  const first = manifest.retraining.data[0];
  if (!first) return 'data';
  const rel = path.isAbsolute(first) ? path.relative(manifest.projectDir, first) : first;
  const dir = path.posix.dirname(rel.split(path.sep).join('/'));
  return dir === '.' || dir.startsWith('..') ? 'data' : dir;
}

/**
 * The shell script of the training step: unpack the project source, add the new data from the
 * `train` channel, run the training command, and leave the model in /opt/ml/model (which SageMaker
 * packs as model.tar.gz for the register step).
 */
export function trainingScript(manifest: Manifest): string {
  const data = dataFolder(manifest);
  const model = manifest.model.relativePath.split(path.sep).join('/');
  return [
    'set -eu',
    'mkdir -p /tmp/project',
    'tar -xzf /opt/ml/input/data/code/source.tar.gz -C /tmp/project',
    'cd /tmp/project',
    `mkdir -p ${shellQuote(data)}`,
    `cp -R /opt/ml/input/data/train/. ${shellQuote(data)}/`,
    manifest.retraining.command,
    `cp ${shellQuote(model)} /opt/ml/model/`,
  ].join('\n');
}

/** The pipeline definition (a JSON string) for a project, image and role. */
export function renderPipelineDefinition(manifest: Manifest, r: Resources, input: { image: string; role: string; compute: ComputeChoice }): string {
  const j = (v: unknown) => JSON.stringify(v);
  const text = renderTemplate('sagemaker/pipeline.json.hbs', {
    project: j(manifest.name),
    trainingData: j(`${s3Uri(r, keys.trainingData(r))}/`),
    image: j(input.image),
    script: j(trainingScript(manifest)),
    role: j(input.role),
    source: j(s3Uri(r, keys.pipelineSource(r))),
    output: j(s3Uri(r, keys.trainingOutput(r))),
    trainingInstance: j(input.compute.gpu ? input.compute.instanceType : 'ml.m5.xlarge'),
    group: j(r.packageGroup),
    description: j(`${manifest.name} retrained by the ${r.pipeline} pipeline`),
    instanceTypes: j([input.compute.instanceType]),
  });
  // Parse once: a template mistake fails here, not in SageMaker.
  return JSON.stringify(JSON.parse(text));
}

/** CreatePipeline / UpdatePipeline body. */
export function pipelineRequest(manifest: Manifest, r: Resources, definition: string, role: string): SM.CreatePipelineCommandInput {
  return {
    PipelineName: r.pipeline,
    PipelineDisplayName: r.pipeline,
    PipelineDescription: `mlship retraining of ${manifest.name}: train with "${manifest.retraining.command}", register a new version for approval`,
    PipelineDefinition: definition,
    RoleArn: role,
  };
}

/** The EventBridge Scheduler schedule starting the pipeline on `retraining.schedule` (UTC). */
export function scheduleRequest(manifest: Manifest, r: Resources, pipelineArn: string, role: string): SCH.CreateScheduleCommandInput | undefined {
  if (!manifest.retraining.schedule) return undefined;
  return {
    Name: r.schedule,
    Description: `mlship: retrain ${manifest.name} (${manifest.retraining.schedule})`,
    ScheduleExpression: schedulerCron(manifest.retraining.schedule),
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: 'ENABLED',
    Target: { Arn: pipelineArn, RoleArn: role, SageMakerPipelineParameters: { PipelineParameterList: [] } },
  };
}

/** The ARN of the project's pipeline (known before it exists, for the plan). */
export function pipelineArn(r: Resources): string {
  return `arn:aws:sagemaker:${r.region}:${r.account}:pipeline/${r.pipeline}`;
}
