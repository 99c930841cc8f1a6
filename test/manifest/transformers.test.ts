/** The transformers flavor in the manifest: a model folder, `model.task` and `model.max_tokens`. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifestFile } from '../../src/manifest/load.js';
import { runCli } from '../helpers/cli.js';
import { copyFlavorProject } from '../helpers/flavors.js';

describe('model.flavor: transformers', () => {
  const project = copyFlavorProject('transformers-classify');
  const file = path.join(project.dir, 'mlship.yaml');
  const text = readFileSync(file, 'utf8');
  afterAll(() => project.cleanup());

  it('takes the save_pretrained folder as model.path, with the task and max_tokens', () => {
    const m = loadManifestFile(file);
    expect(m.model).toMatchObject({ flavor: 'transformers', task: 'classification', max_tokens: 64, output: 'probability' });
    writeFileSync(file, text.replace('  task: classification\n  max_tokens: 64\n', ''));
    expect(loadManifestFile(file).model).toMatchObject({ task: 'classification', max_tokens: 128 });
    writeFileSync(file, text.replace('  task: classification', '  task: embedding'));
    expect(loadManifestFile(file).model).toMatchObject({ task: 'embedding', output: 'value' });
  });

  it('reports a file where a folder belongs, and task/max_tokens on another flavor', async () => {
    writeFileSync(file, text.replace('  path: model\n', '  path: model/config.json\n'));
    let r = await runCli(['validate'], { cwd: project.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model\.path: not a folder: model\/config\.json \(a transformers model is the folder save_pretrained\(\) writes/);
    writeFileSync(
      file,
      text
        .replace('  path: model\n  flavor: transformers\n', '  path: model/model.safetensors\n  flavor: pytorch\n')
        .replace('  max_tokens: 64\n', '  max_tokens: 0\n'),
    );
    r = await runCli(['validate'], { cwd: project.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('model.task: "task" applies to the transformers flavor, not pytorch');
    expect(r.stderr).toMatch(/model\.max_tokens/);
  });
});
