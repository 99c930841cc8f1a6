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
import type { Session, Step } from './session.js';

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
  const steps: Step[] = [];
  if (!(await ifExists(() => api.describeDataQualityJobDefinition({ JobDefinitionName: job.JobDefinitionName })))) {
    steps.push({
      action: 'sagemaker:CreateDataQualityJobDefinition',
      resource: job.JobDefinitionName!,
      details: { baseline: rec.baseline.statistics, reports: job.DataQualityJobOutputConfig?.MonitoringOutputs?.[0]?.S3Output?.S3Uri },
      run: async () => void (await api.createDataQualityJobDefinition(job)),
    });
  }
  const existing = await ifExists(() => api.describeMonitoringSchedule({ MonitoringScheduleName: r.monitoringSchedule }));
  const current = existing?.MonitoringScheduleConfig;
  if (!existing || current?.MonitoringJobDefinitionName !== config.MonitoringJobDefinitionName || current?.ScheduleConfig?.ScheduleExpression !== cron.expression) {
    steps.push({
      action: existing ? 'sagemaker:UpdateMonitoringSchedule' : 'sagemaker:CreateMonitoringSchedule',
      resource: r.monitoringSchedule,
      details: { schedule: cron.expression, jobDefinition: job.JobDefinitionName, ...(cron.note && { note: cron.note }) },
      run: async () => {
        if (cron.note) ctx.output.warn(cron.note);
        if (existing) await api.updateMonitoringSchedule({ MonitoringScheduleName: r.monitoringSchedule, MonitoringScheduleConfig: config });
        else await api.createMonitoringSchedule({ MonitoringScheduleName: r.monitoringSchedule, MonitoringScheduleConfig: config, Tags: [{ Key: 'mlship:project', Value: r.endpoint }] });
      },
    });
  }
  return steps;
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
  if (!existing || existing.PipelineDefinition !== definition) {
    steps.push({
      action: existing ? 'sagemaker:UpdatePipeline' : 'sagemaker:CreatePipeline',
      resource: r.pipeline,
      details: { steps: ['Train', 'Register'], image: rec.image, command: manifest.retraining.command },
      run: async () => {
        if (existing) await api.updatePipeline({ PipelineName: pipeline.PipelineName, PipelineDefinition: pipeline.PipelineDefinition, PipelineDescription: pipeline.PipelineDescription, RoleArn: pipeline.RoleArn });
        else await api.createPipeline({ ...pipeline, ClientRequestToken: `${r.pipeline}-${Date.now()}` });
      },
    });
  }
  const schedule = scheduleRequest(manifest, r, existing?.PipelineArn ?? pipelineArn(r), role);
  if (schedule) {
    const current = await ifExists(() => api.getSchedule({ Name: schedule.Name }));
    if (!current || current.ScheduleExpression !== schedule.ScheduleExpression || current.Target?.Arn !== schedule.Target?.Arn) {
      steps.push({
        action: current ? 'scheduler:UpdateSchedule' : 'scheduler:CreateSchedule',
        resource: schedule.Name!,
        details: { expression: schedule.ScheduleExpression, timezone: 'UTC', target: r.pipeline },
        run: async () => {
          const arn = (await api.describePipeline({ PipelineName: r.pipeline })).PipelineArn ?? pipelineArn(r);
          const body = { ...schedule, Target: { ...schedule.Target!, Arn: arn } };
          if (current) await api.updateSchedule(body);
          else await api.createSchedule(body);
        },
      });
    }
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
    const excludes = ['.mlship', '.git', 'node_modules', '__pycache__', '.venv', 'venv'].flatMap((e) => [`--exclude=${e}`]);
    await execa('tar', ['-czf', file, ...excludes, '-C', projectDir, '.']);
    await session.api.putObject({ Bucket: session.r.bucket, Key: keys.pipelineSource(session.r), Body: readFileSync(file), ContentType: 'application/gzip' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
