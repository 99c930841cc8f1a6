/**
 * The parts of a deploy that converge around the endpoint once it serves: the Model Monitor
 * data-quality schedule and the retraining pipeline with its schedule. Each is created when missing
 * and updated when it differs, so re-running a deploy changes nothing that is already right.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ComputeChoice, TargetContext } from '../types.js';
import { ifExists } from './aws-client.js';
import { monitorCron } from './cron.js';
import { pipelineArn, pipelineRequest, renderPipelineDefinition, scheduleRequest } from './pipeline.js';
import { dataQualityJobRequest, monitorImage, monitoringScheduleConfig, type VersionRecord } from './requests.js';
import { keys, s3Uri } from './resources.js';
import { converge, type Step } from '../shared/steps.js';
import { SOURCE_EXCLUDES } from '../shared/source.js';
import type { Session } from './session.js';

/** Model Monitor: the data-quality job definition of the version's baseline and the schedule running it. */
export async function monitoringSteps(session: Session, ctx: TargetContext, rec: VersionRecord, role: string): Promise<Step[]> {
  const { api, r } = session;
  const image = monitorImage(r.region);
  if (!rec.baseline || !image) {
    ctx.output.debug(!rec.baseline ? `no baseline stored with ${rec.version}: Model Monitor schedule skipped` : `no Model Monitor image known for ${r.region}: schedule skipped`);
    return [];
  }
  const job = dataQualityJobRequest(r, rec.version, rec.baseline, image, role);
  const cron = monitorCron(ctx.manifest.monitoring.drift.schedule);
  const config = monitoringScheduleConfig(job.JobDefinitionName!, cron.expression);
  const scheduleDetails = { schedule: cron.expression, jobDefinition: job.JobDefinitionName, ...(cron.note && { note: cron.note }) };
  const steps = [
    await converge({
      // Job definitions are immutable: one per version's baseline.
      resource: job.JobDefinitionName!,
      describe: () => ifExists(() => api.describeDataQualityJobDefinition({ JobDefinitionName: job.JobDefinitionName })),
      create: {
        action: 'sagemaker:CreateDataQualityJobDefinition',
        details: { baseline: rec.baseline.statistics, reports: job.DataQualityJobOutputConfig?.MonitoringOutputs?.[0]?.S3Output?.S3Uri },
        run: async () => void (await api.createDataQualityJobDefinition(job)),
      },
    }),
    await converge({
      resource: r.monitoringSchedule,
      describe: () => ifExists(() => api.describeMonitoringSchedule({ MonitoringScheduleName: r.monitoringSchedule })),
      differs: (existing) => {
        const current = existing.MonitoringScheduleConfig;
        return current?.MonitoringJobDefinitionName !== config.MonitoringJobDefinitionName || current?.ScheduleConfig?.ScheduleExpression !== cron.expression;
      },
      create: {
        action: 'sagemaker:CreateMonitoringSchedule',
        details: scheduleDetails,
        run: async () => {
          if (cron.note) ctx.output.warn(cron.note);
          await api.createMonitoringSchedule({ MonitoringScheduleName: r.monitoringSchedule, MonitoringScheduleConfig: config, Tags: [{ Key: 'mlship:project', Value: r.endpoint }] });
        },
      },
      update: {
        action: 'sagemaker:UpdateMonitoringSchedule',
        details: scheduleDetails,
        run: async () => {
          if (cron.note) ctx.output.warn(cron.note);
          await api.updateMonitoringSchedule({ MonitoringScheduleName: r.monitoringSchedule, MonitoringScheduleConfig: config });
        },
      },
    }),
  ];
  return steps.filter((step): step is Step => step !== undefined);
}

/** Retraining: the project source for the training step, the pipeline, and the schedule starting it. */
export async function retrainingSteps(session: Session, ctx: TargetContext, rec: VersionRecord, role: string, compute: ComputeChoice): Promise<Step[]> {
  const { api, r } = session;
  const manifest = ctx.manifest;
  if (!manifest.retraining.schedule) return [];
  const definition = renderPipelineDefinition(manifest, r, { image: rec.image, role, compute });
  const pipeline = pipelineRequest(manifest, r, definition, role);
  const existing = await ifExists(() => api.describePipeline({ PipelineName: r.pipeline }));
  const steps: Step[] = [
    {
      action: 's3:PutObject',
      resource: s3Uri(r, keys.pipelineSource(r)),
      details: { contents: 'project source for the training step (without .mlship, .git, node_modules)' },
      run: () => uploadSource(session, ctx.manifest.projectDir),
    },
  ];
  const pipelineDetails = { steps: ['Train', 'Register'], image: rec.image, command: manifest.retraining.command };
  const pipelineStep = await converge({
    resource: r.pipeline,
    describe: async () => existing,
    differs: (current) => current.PipelineDefinition !== definition,
    create: { action: 'sagemaker:CreatePipeline', details: pipelineDetails, run: async () => void (await api.createPipeline({ ...pipeline, ClientRequestToken: `${r.pipeline}-${ctx.now().getTime()}` })) },
    update: {
      action: 'sagemaker:UpdatePipeline',
      details: pipelineDetails,
      run: async () => void (await api.updatePipeline({ PipelineName: pipeline.PipelineName, PipelineDefinition: pipeline.PipelineDefinition, PipelineDescription: pipeline.PipelineDescription, RoleArn: pipeline.RoleArn })),
    },
  });
  if (pipelineStep) steps.push(pipelineStep);
  const schedule = scheduleRequest(manifest, r, existing?.PipelineArn ?? pipelineArn(r), role);
  if (schedule) {
    const scheduleDetails = { expression: schedule.ScheduleExpression, timezone: 'UTC', target: r.pipeline };
    // The pipeline's ARN is known only once it exists: read when the step runs.
    const body = async () => ({ ...schedule, Target: { ...schedule.Target!, Arn: (await api.describePipeline({ PipelineName: r.pipeline })).PipelineArn ?? pipelineArn(r) } });
    const scheduleStep = await converge({
      resource: schedule.Name!,
      describe: () => ifExists(() => api.getSchedule({ Name: schedule.Name })),
      differs: (current) => current.ScheduleExpression !== schedule.ScheduleExpression || current.Target?.Arn !== schedule.Target?.Arn,
      create: { action: 'scheduler:CreateSchedule', details: scheduleDetails, run: async () => void (await api.createSchedule(await body())) },
      update: { action: 'scheduler:UpdateSchedule', details: scheduleDetails, run: async () => void (await api.updateSchedule(await body())) },
    });
    if (scheduleStep) steps.push(scheduleStep);
  }
  return steps;
}

/** The project's source (what the training command needs) as `source.tar.gz` in S3. */
async function uploadSource(session: Session, projectDir: string): Promise<void> {
  const { execa } = await import('execa');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(path.join(tmpdir(), 'mlship-source-'));
  const file = path.join(dir, 'source.tar.gz');
  try {
    const excludes = SOURCE_EXCLUDES.map((e) => `--exclude=${e}`);
    await execa('tar', ['-czf', file, ...excludes, '-C', projectDir, '.']);
    await session.api.putObject({ Bucket: session.r.bucket, Key: keys.pipelineSource(session.r), Body: readFileSync(file), ContentType: 'application/gzip' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
