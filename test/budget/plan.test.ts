import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DURATION_SECONDS, planLoad, predictUrl, urlClient } from '../../src/budget/budget.js';
import { loadManifestFile } from '../../src/manifest/load.js';
import { exampleDir } from '../helpers/cli.js';

const manifest = loadManifestFile(path.join(exampleDir, 'mlship.yaml'));

describe('planLoad', () => {
  it('defaults to the expected rate over paced lanes for a few seconds', () => {
    const plan = planLoad(manifest, { client: urlClient('http://127.0.0.1:8080') });
    expect(plan.client.predictRoute).toBe('http://127.0.0.1:8080/predict');
    expect(plan).toEqual({
      client: plan.client,
      rps: 50,
      connections: 16,
      durationSeconds: DEFAULT_DURATION_SECONDS,
    });
    expect(DEFAULT_DURATION_SECONDS).toBeLessThanOrEqual(10);
  });

  it('runs unthrottled when only connections are given, and rounds rates to whole requests', () => {
    const client = urlClient('http://h:1/x');
    expect(client.predictRoute).toBe('http://h:1/x');
    expect(planLoad(manifest, { client, connections: 8 })).toEqual({ client, connections: 8, durationSeconds: 5 });
    expect(planLoad(manifest, { client, rps: 0.4, durationSeconds: 1 })).toMatchObject({ rps: 1, connections: 1, durationSeconds: 1 });
  });

  it('keeps an explicit route', () => {
    expect(predictUrl('https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/e/invocations')).toBe(
      'https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/e/invocations',
    );
    expect(predictUrl('http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000/predict');
    expect(urlClient('http://127.0.0.1:9000').chatRoute).toBe('http://127.0.0.1:9000/v1/chat/completions');
  });
});
