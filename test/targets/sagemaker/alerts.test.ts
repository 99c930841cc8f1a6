/**
 * `monitoring.alerts.email` on SageMaker, in process against moto (SNS, CloudWatch, and everything
 * else moto answers) behind the contract fake (Model Monitor calls): deploy converges an SNS topic
 * `<name>-drift-alerts` with an e-mail subscription per address and one CloudWatch alarm per feature
 * on the drift metric Model Monitor publishes (`aws/sagemaker/Endpoints/data-metrics`,
 * `feature_baseline_drift_<feature>`, dimensions Endpoint and MonitoringSchedule), notifying the topic.
 * A second deploy plans none of it again; a new address is one Subscribe.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SageMakerTarget } from '../../../src/targets/sagemaker/sagemaker-target.js';
import type { ContractFake } from '../../doubles/sagemaker/contract-fake.js';
import { useAwsDoubles, type Moto } from '../../doubles/sagemaker/moto.js';
import { sagemakerProject } from './project.js';
import { makeBuild, targetContext } from '../../helpers/build.js';

let moto: Moto;
let fake: ContractFake;
let project: ReturnType<typeof sagemakerProject>;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:churn-drift-alerts';
const FEATURES = ['tenure_months', 'monthly_charges', 'support_calls', 'plan', 'payment_method'];

useAwsDoubles((d) => ({ moto, fake } = d));
beforeEach(() => {
  project = sagemakerProject();
  setEmails('ml-team@example.com');
});
afterEach(() => {
  expect(fake.violations).toEqual([]);
  project.cleanup();
});

function setEmails(email: string): void {
  const text = readFileSync(project.manifestFile, 'utf8').replace(/^ {2}alerts: .*\n/m, '');
  writeFileSync(project.manifestFile, text.replace(/^monitoring:\n/m, `monitoring:\n  alerts: { email: ${email} }\n`));
}

function target(command = 'deploy'): SageMakerTarget {
  return new SageMakerTarget(targetContext(project.manifestFile, command).ctx, { sleep: async () => undefined });
}

const alertSteps = async () => (await target().plan({})).steps.filter((s) => s.action.startsWith('sns:') || s.resource.startsWith('churn-drift-alerts'));
const subscribers = async () =>
  ((await new SNSClient({}).send(new ListSubscriptionsByTopicCommand({ TopicArn: TOPIC }))).Subscriptions ?? [])
    .map((s) => `${s.Protocol} ${s.Endpoint}`)
    .sort();

describe('SageMaker: drift alerts by e-mail (SNS + CloudWatch alarms)', { timeout: 180_000 }, () => {
  it('deploy creates the topic, the subscriptions and an alarm per feature, then converges', async () => {
    expect(moto).toBeDefined();
    const pusher = target('push');
    await pusher.push(makeBuild(targetContext(project.manifestFile).ctx.manifest), { image: 'img:1' });

    const planned = await alertSteps();
    expect(planned.map((s) => `${s.action} ${s.resource}`)).toEqual([
      'sns:CreateTopic churn-drift-alerts',
      'sns:Subscribe churn-drift-alerts',
      ...FEATURES.map((f) => `cloudwatch:PutMetricAlarm churn-drift-alerts-${f}`),
    ]);
    expect(planned[1]!.details).toMatchObject({ protocol: 'email', endpoint: 'ml-team@example.com' });

    await target().deploy({});
    expect(await subscribers()).toEqual(['email ml-team@example.com']);
    const alarms = (await new CloudWatchClient({}).send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'churn-drift-alerts-' }))).MetricAlarms ?? [];
    expect(alarms.map((a) => a.MetricName).sort()).toEqual(FEATURES.map((f) => `feature_baseline_drift_${f}`).sort());
    expect(alarms.find((a) => a.AlarmName === 'churn-drift-alerts-plan')).toMatchObject({
      Namespace: 'aws/sagemaker/Endpoints/data-metrics',
      Dimensions: expect.arrayContaining([
        { Name: 'Endpoint', Value: 'churn' },
        { Name: 'MonitoringSchedule', Value: 'churn-data-quality' },
      ]),
      Threshold: 0.1,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [TOPIC],
    });

    // Converged: nothing of it planned again.
    expect(await alertSteps()).toEqual([]);

    // A new address is one subscription; the one already there is left alone.
    setEmails('[ml-team@example.com, oncall@example.com]');
    expect((await alertSteps()).map((s) => [s.action, s.details?.endpoint])).toEqual([['sns:Subscribe', 'oncall@example.com']]);
    await target().deploy({});
    expect(await subscribers()).toEqual(['email ml-team@example.com', 'email oncall@example.com']);
    expect(await alertSteps()).toEqual([]);
  });
});
