/**
 * The SageMaker target in the conformance suite: the real `SageMakerTarget` over the in-memory fake
 * of its AWS client (test/doubles/sagemaker/memory.ts), whose endpoint is the shared rollout state
 * machine; time is a manual clock, so bakes and timeouts take no real time. Traffic is requests: while
 * the target sleeps (a poll, a canary's period), the callers send `traffic(n)` requests a minute
 * through the fake's InvokeEndpoint, spread over the slept time; the fake routes each by the variants'
 * weights and records it in CloudWatch, which is what the canary's bake reads.
 */
import { Writable } from 'node:stream';
import { Output } from '../../../src/cli/output.js';
import { loadManifestFile } from '../../../src/manifest/load.js';
import { sagemakerDescriptor } from '../../../src/targets/sagemaker/descriptor.js';
import { SageMakerTarget } from '../../../src/targets/sagemaker/sagemaker-target.js';
import { resolveResources } from '../../../src/targets/sagemaker/resources.js';
import { manualClock } from '../../../src/deploy/poll.js';
import { memorySageMaker, type MemorySageMaker } from '../../doubles/sagemaker/memory.js';
import { sagemakerProject } from '../sagemaker/project.js';
import { makeBuild } from '../../helpers/build.js';
import type { ConformanceHarness, ConformanceWorld } from './harness.js';

const quiet = () => new Writable({ write: (_c, _e, done) => done() });

export const harness: ConformanceHarness = {
  cloud: true,
  descriptor: sagemakerDescriptor,
  start: async () => (await startSageMaker()).world,
};

/** A conformance world on SageMaker (the example project, or another SageMaker project), with its fake (SageMaker's own tests look inside it) and what the target printed. */
export async function startSageMaker(
  project: { manifestFile: string; cleanup: () => void } = sagemakerProject(),
): Promise<{ world: ConformanceWorld; fake: MemorySageMaker; stderr: () => string }> {
  const manifest = loadManifestFile(project.manifestFile);
  const fake = memorySageMaker();
  const clock = manualClock();
  let perMinute = 100;
  let owed = 0;
  // Time passes for the callers too: the requests of the slept span, at their own timestamps.
  const sleep = async (ms: number) => {
    const start = clock.now().getTime();
    owed += (perMinute * ms) / 60_000;
    const n = Math.floor(owed);
    owed -= n;
    for (let i = 0; i < n; i++) fake.invoke(new Date(start + Math.floor((i * ms) / n)));
    await clock.sleep(ms);
  };
  let printed = '';
  const stderr = new Writable({
    write: (c, _e, done) => {
      printed += String(c);
      done();
    },
  });
  const output = new Output({ json: false, verbose: false, color: false, interactive: false, stdout: quiet(), stderr });
  const target = new SageMakerTarget({ manifest, output, env: process.env, command: 'conformance', now: clock.now, sleep }, { api: fake.api });
  const world: ConformanceWorld = {
    target,
    pushOptions: { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:conformance' },
    timeoutSeconds: 600,
    build: async (n) => makeBuild(manifest, n - 1),
    manifest,
    async registerRetrained() {
      // The pipeline's RegisterModel step: a package pending approval, without mlship's record.
      const r = resolveResources(manifest, '123456789012', 'us-east-1');
      await fake.api.createModelPackage({
        ModelPackageGroupName: r.packageGroup,
        ModelApprovalStatus: 'PendingManualApproval',
        InferenceSpecification: {
          Containers: [
            {
              Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlship/churn:conformance',
              ModelDataUrl: `s3://${r.bucket}/${r.root}/pipeline-runs/1/model.tar.gz`,
            },
          ],
          SupportedContentTypes: ['application/json'],
          SupportedResponseMIMETypes: ['application/json'],
        },
      });
    },
    behave: (version, b) => void fake.behaviours.set(version, b),
    serving: async () => fake.servingVersion(),
    traffic: (n) => {
      perMinute = n;
      owed = 0;
    },
    failNextCall: (kind) => fake.failNext(kind),
    uploadFeedback: async (file, text) => {
      const r = resolveResources(manifest, '123456789012', 'us-east-1');
      await fake.api.putObject({ Bucket: r.bucket, Key: `${r.root}/feedback/${file}`, Body: text });
    },
    mutations: () => fake.mutations(),
    close: async () => project.cleanup(),
  };
  return { world, fake, stderr: () => printed };
}
