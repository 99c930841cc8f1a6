/**
 * `monitoring.alerts.email` on Vertex: the ModelDeploymentMonitoringJob carries the addresses
 * (`modelMonitoringAlertConfig.emailAlertConfig.userEmails`), a new list is one
 * UpdateModelDeploymentMonitoringJob whose mask names only `model_monitoring_alert_config`, and a
 * second deploy changes nothing. In process, with the real `@google-cloud/aiplatform` client against
 * the doubles (deployed models not started):
 * - gRPC fake: ModelService, EndpointService, JobService Create/List/UpdateModelDeploymentMonitoringJob
 *   (the fake refuses a user_emails item that is not an address), ScheduleService, Operations;
 * - HTTP fake: GCS and BigQuery datasets.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VertexTarget } from '../../../src/targets/vertex/vertex-target.js';
import { makeBuild, targetContext } from '../../helpers/build.js';
import { vertexProject, type VertexProject } from './project.js';

const IMAGE = 'us-central1-docker.pkg.dev/mlship-demo/mlship/churn';

let project: VertexProject;
/** Every target made, closed before the fakes stop (an open gRPC channel keeps the server waiting). */
const targets: VertexTarget[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  project = await vertexProject({ serve: false, pollsUntilDone: 1 });
  Object.assign(process.env, project.fakes.env);
  setEmails('ml-team@example.com');
});

afterAll(async () => {
  await Promise.all(targets.map((t) => t.close()));
  process.env = saved;
  await project?.cleanup();
});

function setEmails(email: string): void {
  const text = readFileSync(project.manifestFile, 'utf8').replace(/^ {2}alerts: .*\n/m, '');
  writeFileSync(project.manifestFile, text.replace(/^monitoring:\n/m, `monitoring:\n  alerts: { email: ${email} }\n`));
}

function target(command = 'deploy'): VertexTarget {
  const { ctx } = targetContext(project.manifestFile, command);
  const t = new VertexTarget({ ...ctx, env: { ...process.env } }, { maxPollMs: 20 });
  targets.push(t);
  return t;
}

const storedEmails = () => [...project.fakes.grpc.monitoringJobs.values()].map((j) => j.modelMonitoringAlertConfig?.emailAlertConfig?.userEmails);
const monitoringSteps = async (t: VertexTarget) => (await t.plan({})).steps.filter((s) => s.action.includes('ModelDeploymentMonitoringJob'));

describe('vertex: drift alerts by e-mail', () => {
  it('creates the monitoring job with the addresses, updates only the alert config when they change, then converges', async () => {
    const t = target('push');
    await t.push(makeBuild(targetContext(project.manifestFile).ctx.manifest), { image: `${IMAGE}:v1` });
    const fresh = target();
    expect(await monitoringSteps(fresh)).toEqual([
      expect.objectContaining({
        action: 'aiplatform:CreateModelDeploymentMonitoringJob',
        details: expect.objectContaining({ alertEmails: ['ml-team@example.com'] }),
      }),
    ]);
    await fresh.deploy({});
    expect(storedEmails()).toEqual([['ml-team@example.com']]);

    setEmails('[ml-team@example.com, oncall@example.com, ML-TEAM@example.com]');
    const changed = target();
    expect(await monitoringSteps(changed)).toEqual([
      expect.objectContaining({
        action: 'aiplatform:UpdateModelDeploymentMonitoringJob',
        details: expect.objectContaining({ alertEmails: ['ml-team@example.com', 'oncall@example.com'], updateMask: ['model_monitoring_alert_config'] }),
      }),
    ]);
    await changed.deploy({});
    expect(storedEmails()).toEqual([['ml-team@example.com', 'oncall@example.com']]);
    expect(await monitoringSteps(target())).toEqual([]);

    // A check of the fake's check: an item that is not an address is refused, as the service would.
    const [job] = [...project.fakes.grpc.monitoringJobs.values()];
    const bad = { ...job, modelMonitoringAlertConfig: { emailAlertConfig: { userEmails: ['ml team'] } } };
    expect(() => project.fakes.grpc.createModelDeploymentMonitoringJob({ parent: 'p', modelDeploymentMonitoringJob: bad })).toThrow(
      /user_emails: "ml team" is not an email address/,
    );
  }, 300_000);
});
