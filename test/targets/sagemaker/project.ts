/**
 * A copy of the example project set up for the SageMaker target: a `targets.sagemaker` block in its
 * manifest (the example has none). Builds and target contexts for it: test/helpers/build.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { copyExample } from '../../helpers/cli.js';
import { llmProject } from '../../packaging/llm-fixture.js';

export const ROLE = 'arn:aws:iam::123456789012:role/mlship-sagemaker';

/** The example with a SageMaker block; `extra` is appended to the manifest. */
export function sagemakerProject(extra = ''): { dir: string; cleanup: () => void; manifestFile: string } {
  const project = copyExample();
  const manifestFile = path.join(project.dir, 'mlship.yaml');
  // Drift found in a test must not start a real retraining run (retraining.on_drift runs `mlship retrain`).
  const text = readFileSync(manifestFile, 'utf8')
    .replace(/^target: local$/m, 'target: sagemaker')
    .replace('on_drift: true', 'on_drift: false');
  writeFileSync(manifestFile, `${text}targets:\n  sagemaker: { region: us-east-1, role: ${ROLE}, bucket: mlship-test-bucket, prefix: models }\n${extra}`);
  return { ...project, manifestFile };
}

/** A 7 B-parameter GGUF LLM project (test/packaging/llm-fixture.ts: placeholder weights) with the same SageMaker block. */
export function sagemakerLlmProject(): { dir: string; cleanup: () => void; manifestFile: string } {
  const project = llmProject({ file: 'chat.gguf', quantization: 'int4' });
  const manifestFile = path.join(project.dir, 'mlship.yaml');
  const text = readFileSync(manifestFile, 'utf8').replace(/^target: local$/m, 'target: sagemaker');
  writeFileSync(manifestFile, `${text}targets:\n  sagemaker: { region: us-east-1, role: ${ROLE}, bucket: mlship-test-bucket, prefix: models }\n`);
  return { ...project, manifestFile };
}
