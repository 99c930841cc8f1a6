/**
 * The golden helper keeps build ids and digests out of every golden: a plan whose build id changed
 * with the trained model's bytes (Vertex's `trainingData`, …/builds/<id>/training.csv) still matches.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { expectGolden, stableText } from './golden.js';
import { tempDir } from './cli.js';

const dir = tempDir('mlship-golden-');
afterAll(() => dir.cleanup());

const plan = (build: string, digest: string) =>
  JSON.stringify({
    trainingData: `gs://mlship-mlship-demo-us-central1/mlship/churn/builds/${build}/training.csv`,
    image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:${build}`,
    role: 'arn:aws:iam::123456789012:role/mlship-sagemaker',
    subscription: '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg',
    sha256: `sha256:${digest}`,
    note: `build ${build}`,
  });

describe('expectGolden', () => {
  it('matches a golden written for another build id and digest', () => {
    writeFileSync(`${dir.dir}/plan.json`, stableText(plan('14413123961f', 'a'.repeat(64))));
    expectGolden(dir.dir, 'plan.json', plan('cba760876906', 'b'.repeat(64)));
    // Even a build id of digits only.
    expectGolden(dir.dir, 'plan.json', plan('123456789013', '0'.repeat(64)));
  });

  it('replaces build ids and digests, and keeps AWS account ids and GUIDs', () => {
    const text = stableText(plan('14413123961f', 'c'.repeat(64)));
    expect(text).not.toContain('14413123961f');
    expect(text).not.toContain('c'.repeat(64));
    expect(JSON.parse(text)).toEqual({
      trainingData: 'gs://mlship-mlship-demo-us-central1/mlship/churn/builds/<build>/training.csv',
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:<build>',
      role: 'arn:aws:iam::123456789012:role/mlship-sagemaker',
      subscription: '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg',
      sha256: 'sha256:<sha256>',
      note: 'build <build>',
    });
  });
});
