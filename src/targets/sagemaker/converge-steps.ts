/**
 * The parts of a deploy that converge around the endpoint once it serves: the Model Monitor
 * data-quality schedule, its drift alerts by e-mail, and the retraining pipeline with its schedule. Each is created when missing
 * and updated when it differs, so re-running a deploy changes nothing that is already right.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ComputeChoice, TargetContext } from '../../deploy/types.js';
import { ifExists } from './aws-client.js';
import { monitorCron } from './cron.js';
import { pipelineArn, pipelineRequest, renderPipelineDefinition, scheduleRequest } from './pipeline.js';
import type { MetricAlarm, PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { driftThreshold } from './monitor-baseline.js';
import { alertTopicArn, dataQualityJobRequest, driftAlarmRequests, monitorImage, monitoringScheduleConfig, type VersionRecord } from './requests.js';
import { keys, s3Uri } from './resources.js';
import { converge, type Step } from '../../deploy/steps.js';
import { SOURCE_EXCLUDES } from '../../deploy/source.js';
import type { Session } from './session.js';

/** Model Monitor: the data-quality job definition of the version's baseline and the schedule running it. */
export async function monitoringSteps(session: Session, ctx: TargetContext, rec: VersionRecord, role: string): Promise<Step[]> {
  const { api, r } = session;
  const image = monitorImage(r.region);
  if (!rec.baseline || !image) {
    ctx.output.debug(
      !rec.baseline
        ? `no baseline stored with ${rec.version}: Model Monitor schedule skipped`
        : `no Model Monitor image known for ${r.region}: schedule skipped`,
    );
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
          await api.createMonitoringSchedule({
            MonitoringScheduleName: r.monitoringSchedule,
            MonitoringScheduleConfig: config,
            Tags: [{ Key: 'mlship:project', Value: r.endpoint }],
          });
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

/**
 * Drift alerts by e-mail (`monitoring.alerts.email`). Model Monitor mails nobody, so, as AWS
 * recommends, an SNS topic `<name>-drift-alerts` with an e-mail subscription per address, and a
 * CloudWatch alarm per feature on the drift metric the data-quality schedule publishes, notifying the
 * topic. SNS first mails each new address a confirmation link; until it is followed, nothing is sent
 * there. Only what is missing or different is planned (addresses already subscribed, pending or
 * confirmed, are left alone; one removed from the manifest stays subscribed until unsubscribed).
 */
export async function alertSteps(session: Session, ctx: TargetContext, rec: VersionRecord): Promise<Step[]> {
  const { api, r } = session;
  const emails = ctx.manifest.monitoring.alerts.email;
  // Without the monitoring schedule nothing publishes the metrics (monitoringSteps says why at --verbose).
  if (emails.length === 0 || !rec.baseline || !monitorImage(r.region)) return [];
  const topicArn = alertTopicArn(r);
  const steps: Step[] = [];
  const subscribed = await topicSubscriptions(session, topicArn);
  if (!subscribed) {
    steps.push({
      action: 'sns:CreateTopic',
      resource: r.alertTopic,
      details: { arn: topicArn },
      run: async () => void (await api.createTopic({ Name: r.alertTopic, Tags: [{ Key: 'mlship:project', Value: r.endpoint }] })),
    });
  }
  for (const email of emails.filter((e) => !subscribed?.has(e.toLowerCase()))) {
    steps.push({
      action: 'sns:Subscribe',
      resource: r.alertTopic,
      details: { protocol: 'email', endpoint: email, note: 'SNS mails a confirmation link first' },
      run: async () => void (await api.subscribe({ TopicArn: topicArn, Protocol: 'email', Endpoint: email })),
    });
  }
  const alarms = driftAlarmRequests(ctx.manifest, r, driftThreshold(ctx.manifest));
  const current = new Map<string, MetricAlarm>();
  for (let i = 0; i < alarms.length; i += 100) {
    const page = await api.describeAlarms({ AlarmNames: alarms.slice(i, i + 100).map((a) => a.AlarmName!), AlarmTypes: ['MetricAlarm'] });
    for (const a of page.MetricAlarms ?? []) current.set(a.AlarmName ?? '', a);
  }
  for (const alarm of alarms.filter((a) => alarmDiffers(current.get(a.AlarmName!), a))) {
    steps.push({
      action: 'cloudwatch:PutMetricAlarm',
      resource: alarm.AlarmName!,
      details: { metric: alarm.MetricName, threshold: alarm.Threshold, notifies: r.alertTopic },
      run: async () => void (await api.putMetricAlarm(alarm)),
    });
  }
  return steps;
}

/** The topic's e-mail subscriptions (lower-cased addresses), or undefined when the topic does not exist. */
async function topicSubscriptions(session: Session, topicArn: string): Promise<Set<string> | undefined> {
  const out = new Set<string>();
  let token: string | undefined;
  do {
    const page = await ifExists(() => session.api.listSubscriptionsByTopic({ TopicArn: topicArn, ...(token && { NextToken: token }) }));
    if (!page) return undefined;
    for (const s of page.Subscriptions ?? []) if (s.Protocol === 'email' && s.Endpoint) out.add(s.Endpoint.toLowerCase());
    token = page.NextToken;
  } while (token);
  return out;
}

/** Whether a stored alarm differs from the one mlship would put (or is missing). */
function alarmDiffers(current: MetricAlarm | undefined, wanted: PutMetricAlarmCommandInput): boolean {
  if (!current) return true;
  const pick = (a: MetricAlarm | PutMetricAlarmCommandInput) =>
    JSON.stringify([
      a.Namespace,
      a.MetricName,
      [...(a.Dimensions ?? [])].map((d) => `${d.Name}=${d.Value}`).sort(),
      a.Statistic,
      a.Period,
      a.EvaluationPeriods,
      a.Threshold,
      a.ComparisonOperator,
      a.TreatMissingData,
      a.AlarmActions ?? [],
    ]);
  return pick(current) !== pick(wanted);
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
    create: {
      action: 'sagemaker:CreatePipeline',
      details: pipelineDetails,
      run: async () => void (await api.createPipeline({ ...pipeline, ClientRequestToken: `${r.pipeline}-${ctx.now().getTime()}` })),
    },
    update: {
      action: 'sagemaker:UpdatePipeline',
      details: pipelineDetails,
      run: async () =>
        void (await api.updatePipeline({
          PipelineName: pipeline.PipelineName,
          PipelineDefinition: pipeline.PipelineDefinition,
          PipelineDescription: pipeline.PipelineDescription,
          RoleArn: pipeline.RoleArn,
        })),
    },
  });
  if (pipelineStep) steps.push(pipelineStep);
  const schedule = scheduleRequest(manifest, r, existing?.PipelineArn ?? pipelineArn(r), role);
  if (schedule) {
    const scheduleDetails = { expression: schedule.ScheduleExpression, timezone: 'UTC', target: r.pipeline };
    // The pipeline's ARN is known only once it exists: read when the step runs.
    const body = async () => ({
      ...schedule,
      Target: { ...schedule.Target!, Arn: (await api.describePipeline({ PipelineName: r.pipeline })).PipelineArn ?? pipelineArn(r) },
    });
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
