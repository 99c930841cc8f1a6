import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/manifest/load.js';

const base = (compute: string, target = 'local') => `name: demo
model: { path: model.joblib, flavor: sklearn }
features:
  package: features
  schema: { x: { type: number } }
target: ${target}
targets:
  sagemaker: { region: us-east-1 }
serving:
  compute: ${compute}
`;

const exists = (p: string) => (p.endsWith('features') ? 'dir' : 'file') as 'file' | 'dir';

describe('serving.compute against the target catalog', () => {
  it('accepts auto, cpu, gpu and a type of the catalog', () => {
    for (const compute of ['auto', 'cpu', 'gpu', 'local']) expect(checkManifest(base(compute), '/p/mlship.yaml', { exists }).diagnostics).toEqual([]);
    expect(checkManifest(base('ml.g5.xlarge', 'sagemaker'), '/p/mlship.yaml', { exists }).diagnostics).toEqual([]);
  });

  it('rejects a typo at its position with a suggestion', () => {
    const { diagnostics, manifest } = checkManifest(base('ml.g5.xlarg', 'sagemaker'), '/p/mlship.yaml', { exists });
    expect(manifest).toBeUndefined();
    expect(diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', line: 10, col: 12, path: 'serving.compute', hint: 'did you mean "ml.g5.xlarge"?' }),
    ]);
  });

  it('checks against the --target override', () => {
    const { diagnostics } = checkManifest(base('ml.g5.xlarge', 'sagemaker'), '/p/mlship.yaml', { exists, targetOverride: 'local' });
    expect(diagnostics[0]?.message).toContain('local catalog');
  });
});
