/**
 * The Azure request builders, pure: whole bodies against golden files (`golden/requests.json`;
 * UPDATE_GOLDEN=1 rewrites it) and each body against the published 2026-07-01 contract
 * (`contract/`, the same check the ARM fake runs), including bodies the SDK sends for mlship.
 * No double: nothing is sent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifestFile } from '../../../src/manifest/load.js';
import type { ComputeChoice } from '../../../src/deploy/types.js';
import {
  deploymentBody,
  endpointBody,
  environmentVersionBody,
  modelVersionBody,
  recordFromModelVersion,
  type AzureVersionRecord,
} from '../../../src/targets/azure/requests.js';
import { resolveResources } from '../../../src/targets/azure/resources.js';
import { DRIFT_METRICS, monitorScheduleBody, retrainJobBody, retrainScheduleBody } from '../../../src/targets/azure/schedules.js';
import { copyExample } from '../../helpers/cli.js';
import { expectGolden } from '../../helpers/golden.js';
import { llmProject } from '../../packaging/llm-fixture.js';
import { modelLoadSeconds } from '../../../src/compute/load-time.js';
import { matchOperation, validateRequest } from '../../doubles/azure/contract/spec-validator.js';

const GOLDEN = path.join(path.dirname(new URL(import.meta.url).pathname), 'golden');
const SUB = '00000000-0000-4000-8000-000000000001';

function manifest(alerts = '') {
  const project = copyExample();
  const file = path.join(project.dir, 'mlship.yaml');
  writeFileSync(
    file,
    `${readFileSync(file, 'utf8')
      .replace(/^target: local$/m, 'target: azure')
      .replace(
        /^monitoring:\n/m,
        `monitoring:\n${alerts}`,
      )}targets:\n  azure: { subscription: ${SUB}, resource_group: rg, workspace: my-ws, region: westeurope }\n`,
  );
  const m = loadManifestFile(file);
  project.cleanup();
  return m;
}

const m = manifest();
const r = resolveResources(m, {});
const rec: AzureVersionRecord = {
  version: 'v3',
  buildId: 'b1234567890a',
  createdAt: '2026-11-30T00:00:00.000Z',
  digest: 'a'.repeat(64),
  image: 'reg.azurecr.io/churn:b1234567890a',
  modelUri: 'azureml://datastores/workspaceblobstore/paths/mlship/churn/models/aaaa/',
  mlshipVersion: '0.1.0',
  gitCommit: 'abc123',
};
const compute: ComputeChoice = { instanceType: 'Standard_F2s_v2', replicas: { min: 1, max: 4 }, gpu: false, reasons: ['golden'] };
const ws = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/my-ws`;
const depId = `${ws}/onlineEndpoints/${r.endpoint}/deployments/v3`;
const codeId = `${ws}/codes/churn-source/versions/0123456789ab`;

const bodies = {
  endpoint: [`${ws}/onlineEndpoints/${r.endpoint}`, endpointBody(r, 'westeurope', { v2: 90, v3: 10 })],
  deployment: [depId, deploymentBody(r, m, rec, compute, 'westeurope')],
  model: [`${ws}/models/churn/versions/3`, modelVersionBody(rec)],
  environment: [`${ws}/environments/churn-serving/versions/3`, environmentVersionBody(rec)],
  monitor: [
    `${ws}/schedules/${r.monitorSchedule}`,
    monitorScheduleBody(r, m, rec, {
      deploymentId: depId,
      production: 'azureml://datastores/workspaceblobstore/paths/modelDataCollector/x/v3/model_inputs/',
      reference: 'azureml://datastores/workspaceblobstore/paths/mlship/churn/versions/v3/baseline.csv',
    }),
  ],
  retrainSchedule: [`${ws}/schedules/${r.retrainSchedule}`, retrainScheduleBody(r, m, rec, codeId)],
  retrainJob: [`${ws}/jobs/churn-retrain-1`, retrainJobBody(r, m, rec, codeId)],
} as const;

describe('Azure request builders', () => {
  it('match the golden bodies', () => {
    expectGolden(GOLDEN, 'requests.json', `${JSON.stringify(Object.fromEntries(Object.entries(bodies).map(([k, [, b]]) => [k, b])), null, 2)}\n`);
  });

  for (const [name, [id, body]] of Object.entries(bodies)) {
    it(`${name}: the contract accepts the body`, () => {
      const match = matchOperation('PUT', id)!;
      expect(match, id).toBeDefined();
      expect(validateRequest(match.op, match.params, new URLSearchParams('api-version=2026-07-01'), body)).toEqual([]);
    });
  }

  it('the contract refuses what the real service would (a check of the check)', () => {
    const match = matchOperation('PUT', depId)!;
    const bad = structuredClone(bodies.deployment[1]) as { properties: Record<string, unknown> };
    bad.properties.endpointComputeType = 'Serverless';
    (bad.properties.dataCollector as { collections: Record<string, unknown> }).collections.model_inputs = { dataCollectionMode: 'On' };
    bad.properties.livenessProbe = { period: '10s' };
    const problems = validateRequest(match.op, match.params, new URLSearchParams('api-version=2026-07-01'), bad);
    expect(problems.join('\n')).toMatch(/endpointComputeType/);
    expect(problems.join('\n')).toMatch(/dataCollectionMode/);
    expect(problems.join('\n')).toMatch(/livenessProbe\/period/);
    const monitor = matchOperation('PUT', bodies.monitor[0])!;
    const noCompute = structuredClone(bodies.monitor[1]) as { properties: { action: { monitorDefinition: Record<string, unknown> } } };
    delete noCompute.properties.action.monitorDefinition.computeConfiguration;
    expect(validateRequest(monitor.op, monitor.params, new URLSearchParams('api-version=2026-07-01'), noCompute)).toEqual([
      "body/properties/action/monitorDefinition: must have required property 'computeConfiguration'",
    ]);
  });

  it('the drift monitor mails monitoring.alerts.email, and the contract accepts it', () => {
    const withAlerts = manifest('  alerts: { email: [ml-team@example.com, oncall@example.com, ML-Team@example.com] }\n');
    const body = monitorScheduleBody(r, withAlerts, rec, {
      deploymentId: depId,
      production: 'azureml://datastores/workspaceblobstore/paths/p/',
      reference: 'azureml://datastores/workspaceblobstore/paths/r.csv',
    });
    const definition = (body.properties.action as { monitorDefinition: Record<string, any> }).monitorDefinition;
    expect(definition.alertNotificationSettings).toEqual({ emailNotificationSettings: { emails: ['ml-team@example.com', 'oncall@example.com'] } });
    expect(definition.signals['data-drift'].notificationTypes).toEqual(['AmlNotification']);
    const match = matchOperation('PUT', bodies.monitor[0])!;
    expect(validateRequest(match.op, match.params, new URLSearchParams('api-version=2026-07-01'), body)).toEqual([]);
    // A check of the check: the contract wants a list of addresses and knows one notification mode.
    const bad = structuredClone(body) as typeof body;
    const badDefinition = (bad.properties.action as { monitorDefinition: Record<string, any> }).monitorDefinition;
    badDefinition.alertNotificationSettings.emailNotificationSettings.emails = 'ml-team@example.com';
    badDefinition.signals['data-drift'].notificationTypes = ['Email'];
    expect(validateRequest(match.op, match.params, new URLSearchParams('api-version=2026-07-01'), bad)).toEqual(
      expect.arrayContaining([
        'body/properties/action/monitorDefinition/alertNotificationSettings/emailNotificationSettings/emails: must be array',
        'body/properties/action/monitorDefinition/signals/data-drift/notificationTypes/0: must be equal to one of the allowed values (AmlNotification)',
      ]),
    );
    // Without addresses nobody is configured: the golden monitor body has no notification settings.
    expect((bodies.monitor[1].properties.action as { monitorDefinition: object }).monitorDefinition).not.toHaveProperty('alertNotificationSettings');
  });

  it('a model version carries the record back (tags)', () => {
    expect(recordFromModelVersion({ name: '3', ...modelVersionBody(rec) })).toEqual(rec);
  });

  it("maps every mlship drift method to Azure's metric names", () => {
    expect(DRIFT_METRICS.psi).toEqual({ numerical: 'PopulationStabilityIndex', categorical: 'PopulationStabilityIndex' });
    expect(DRIFT_METRICS.ks.numerical).toBe('TwoSampleKolmogorovSmirnovTest');
    expect(DRIFT_METRICS.chi2.categorical).toBe('PearsonsChiSquaredTest');
  });

  it('an LLM deployment: the startup probe sized by modelLoadSeconds, a 3-minute request timeout; the contract accepts it', () => {
    const project = llmProject({ file: 'chat.gguf', quantization: 'fp16' });
    const file = path.join(project.dir, 'mlship.yaml');
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8').replace('target: local', 'target: azure')}targets:\n  azure: { subscription: ${SUB}, resource_group: rg, workspace: my-ws, region: westeurope }\n`,
    );
    const llm = loadManifestFile(file);
    project.cleanup();
    const gpu: ComputeChoice = { instanceType: 'Standard_NC4as_T4_v3', replicas: { min: 1, max: 1 }, gpu: true, reasons: ['golden'] };
    const big = { ...rec, modelBytes: 40e9 }; // a 70 B model in int4
    const body = deploymentBody(r, llm, big, gpu, 'westeurope') as { properties: Record<string, any> };
    expect(body.properties.startupProbe).toEqual({
      initialDelay: 'PT10S',
      period: 'PT10S',
      timeout: 'PT2S',
      failureThreshold: modelLoadSeconds(40e9, true) / 10,
      successThreshold: 1,
    });
    expect(body.properties.startupProbe.failureThreshold).toBeGreaterThan(60);
    expect(body.properties.requestSettings.requestTimeout).toBe('PT3M');
    // A small model (or a version without its size) keeps at least a tabular app's 10 minutes.
    expect((deploymentBody(r, llm, rec, gpu, 'westeurope').properties.startupProbe as { failureThreshold: number }).failureThreshold).toBe(60);
    const match = matchOperation('PUT', depId)!;
    expect(validateRequest(match.op, match.params, new URLSearchParams('api-version=2026-07-01'), body)).toEqual([]);
    // The model's size travels with the version (a tag), so a later deploy or rollback sizes the same probes.
    expect(recordFromModelVersion({ name: '3', ...modelVersionBody(big) })).toEqual(big);
  });
});
