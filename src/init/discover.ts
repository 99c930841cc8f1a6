/**
 * What `init` can offer from the project folder: model artifacts, CSV files and notebooks, found a
 * few levels deep (skipping dependency, cache and VCS folders), as project-relative paths.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Flavor } from '../manifest/types.js';

const SKIP = new Set(['node_modules', '.git', '.mlship', '.venv', 'venv', 'env', '__pycache__', '.ipynb_checkpoints', 'site-packages', 'dist', 'build']);
const MAX_DEPTH = 3;
const MAX_FILES = 5000;

/** Model artifact extensions and the flavor each suggests. */
const MODEL_EXTENSIONS: Record<string, Flavor> = {
  '.joblib': 'sklearn',
  '.pkl': 'sklearn',
  '.pickle': 'sklearn',
  '.skops': 'sklearn',
  '.onnx': 'onnx',
  '.pt': 'pytorch',
  '.pth': 'pytorch',
  '.ubj': 'xgboost',
  '.xgb': 'xgboost',
  '.bst': 'xgboost',
  '.lgb': 'lightgbm',
  '.gguf': 'llm',
  '.safetensors': 'llm',
};

export interface Discovered {
  models: string[];
  csvs: string[];
  notebooks: string[];
}

/** Walk `dir` and list candidate files, sorted, with `/` separators. */
export function discover(dir: string): Discovered {
  const found: Discovered = { models: [], csvs: [], notebooks: [] };
  let seen = 0;
  const walk = (rel: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > MAX_FILES) return;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH && !SKIP.has(e.name) && !e.name.startsWith('.')) walk(p, depth + 1);
        continue;
      }
      if (!e.isFile()) continue;
      const ext = path.extname(e.name).toLowerCase();
      if (ext in MODEL_EXTENSIONS) found.models.push(p);
      else if (ext === '.csv') found.csvs.push(p);
      else if (ext === '.ipynb') found.notebooks.push(p);
    }
  };
  walk('', 0);
  for (const list of Object.values(found)) list.sort();
  return found;
}

/** The flavor a model file's extension suggests (sklearn when it says nothing). */
export function flavorOf(modelPath: string): Flavor {
  return MODEL_EXTENSIONS[path.extname(modelPath).toLowerCase()] ?? 'sklearn';
}

/** The one obvious baseline among CSV files: the only one, or the only one named like training data. */
export function likelyBaseline(csvs: readonly string[]): string | undefined {
  if (csvs.length === 1) return csvs[0];
  const train = csvs.filter((c) => /(^|[/_-])train/i.test(c));
  return train.length === 1 ? train[0] : undefined;
}
