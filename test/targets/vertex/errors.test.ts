/**
 * What the fake refuses, and how mlship words it: the real clients (createVertexApi) against the
 * doubles, each refusal turned into one paragraph through the shared CloudError categories.
 * - gRPC fake: EndpointService CreateEndpoint/DeployModel (machine and accelerator rules, replicas,
 *   traffic split, routing header, REQUIRED fields), ModelService UploadModel (artifact in another
 *   region), injected quota / permission / API-disabled errors; Operations GetOperation.
 * - HTTP fake: GCS bucket insert/get (the bucket's location).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudError } from '../../../src/deploy/cloud-errors.js';
import { withTranslation, type VertexApi } from '../../../src/targets/vertex/api.js';
import { createVertexApi } from '../../../src/targets/vertex/client.js';
import { startVertexFakes, type VertexFakes } from '../../doubles/vertex/run-fake.js';

let fakes: VertexFakes;
let api: VertexApi;
const saved = { ...process.env };
const parent = 'projects/mlship-demo/locations/us-central1';
const endpoint = `${parent}/endpoints/mlship-churn`;

async function refusal(p: Promise<unknown>): Promise<CloudError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CloudError);
  return error as CloudError;
}

beforeAll(async () => {
  fakes = await startVertexFakes({ serve: false, pollsUntilDone: 1 });
  Object.assign(process.env, fakes.env);
  // The client as the target uses it: every call through the one translation seam.
  api = withTranslation(await createVertexApi({ project: 'mlship-demo', region: 'us-central1', apiEndpoint: fakes.url, env: process.env, maxPollMs: 20 }));
  await api.createBucket('mlship-test-bucket', 'us-central1');
  await api.putObject('mlship-test-bucket', 'm/builds/1/model/model.joblib', 'bytes');
  await api.uploadModel({
    parent,
    modelId: 'mlship-churn',
    model: { displayName: 'churn', artifactUri: 'gs://mlship-test-bucket/m/builds/1/model/', containerSpec: { imageUri: 'img' } },
  });
  await api.createEndpoint({ parent, endpointId: 'mlship-churn', endpoint: { displayName: 'churn' } });
}, 120_000);

afterAll(async () => {
  await api?.close();
  process.env = saved;
  await fakes?.stop();
});

const deploy = (machineSpec: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  api.deployModel({
    endpoint,
    deployedModel: { model: `${parent}/models/mlship-churn@1`, dedicatedResources: { machineSpec, minReplicaCount: 1, maxReplicaCount: 2, ...extra } },
    trafficSplit: { '0': 100 },
  });

describe('Vertex refusals, worded', () => {
  it('a machine without its accelerator, or an accelerator the family does not take: invalid request (exit 2)', async () => {
    const l4 = await refusal(deploy({ machineType: 'g2-standard-4' }));
    expect(l4).toMatchObject({ kind: 'invalid_request', code: 'gcp_machine_unavailable', exitCode: 2 });
    expect(l4.message).toMatch(/requires accelerator NVIDIA_L4/);
    expect((await refusal(deploy({ machineType: 'e2-standard-4', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1 }))).message).toMatch(
      /not supported for machine type/,
    );
  });

  it('replicas below one and traffic splits that do not sum to 100 are refused', async () => {
    expect((await refusal(deploy({ machineType: 'n1-standard-2' }, { minReplicaCount: 2, maxReplicaCount: 1 }))).message).toMatch(
      /max_replica_count \(1\) is below/,
    );
    const split = await refusal(
      api.deployModel({
        endpoint,
        deployedModel: { model: `${parent}/models/mlship-churn@1`, dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 1 } },
        trafficSplit: { '0': 60 },
      }),
    );
    expect(split.message).toMatch(/sum to 100, got 60/);
  });

  it('GPU quota: the paragraph says quota is per region and how to get more', async () => {
    fakes.grpc.inject({
      method: 'DeployModel',
      code: 8,
      message: 'The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_nvidia_l4_gpus',
    });
    const quota = await refusal(deploy({ machineType: 'g2-standard-4', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }));
    expect(quota).toMatchObject({ kind: 'quota', code: 'gcp_quota_exceeded', exitCode: 1 });
    expect(quota.hint).toMatch(/GPU quota is per region.*us-central1/);
  });

  it('API not enabled and permission denied name the fix', async () => {
    fakes.grpc.inject({
      method: 'GetEndpoint',
      phase: 'call',
      code: 7,
      message:
        'Vertex AI API has not been used in project 123 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=123 reason: SERVICE_DISABLED',
    });
    const disabled = await refusal(api.getEndpoint(endpoint));
    expect(disabled.code).toBe('gcp_api_disabled');
    expect(disabled.hint).toMatch(/gcloud services enable aiplatform.googleapis.com --project mlship-demo/);
    fakes.grpc.inject({ method: 'GetEndpoint', phase: 'call', code: 7, message: "Permission 'aiplatform.endpoints.get' denied on resource" });
    const denied = await refusal(api.getEndpoint(endpoint));
    expect(denied).toMatchObject({ kind: 'permission', code: 'gcp_permission_denied' });
    expect(denied.hint).toMatch(/roles\/aiplatform\.user/);
  });

  it('an artifact bucket in another region than the model is refused by UploadModel', async () => {
    await api.createBucket('mlship-eu-bucket', 'europe-west4');
    await api.putObject('mlship-eu-bucket', 'm/model/model.joblib', 'bytes');
    const region = await refusal(
      api.uploadModel({
        parent,
        parentModel: `${parent}/models/mlship-churn`,
        model: { displayName: 'churn', artifactUri: 'gs://mlship-eu-bucket/m/model/', containerSpec: { imageUri: 'img' } },
      }),
    );
    expect(region).toMatchObject({ code: 'gcp_bucket_region', kind: 'invalid_request' });
    expect(await api.bucketLocation('mlship-eu-bucket')).toBe('europe-west4');
  });

  it('a request without its REQUIRED fields never reaches the handler', async () => {
    const missing = await refusal(
      api.deployModel({
        endpoint,
        deployedModel: { model: `${parent}/models/mlship-churn@1`, dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' } } },
      }),
    );
    expect(missing.message).toMatch(/Required field not set: deployedModel\.dedicatedResources\.minReplicaCount/);
  });
});
