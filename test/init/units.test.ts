/** The pure parts of init: notebook lifting, label detection, schema inference, project names. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectLabel, inferSchema } from '../../src/init/infer-schema.js';
import { liftNotebook } from '../../src/init/notebook.js';
import { nameFrom } from '../../src/init/scaffold.js';
import { tempDir } from '../helpers/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function notebook(cells: { source: string | string[]; tags?: string[]; type?: string }[], nbformat = 4): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const file = path.join(dir, 'nb.ipynb');
  writeFileSync(
    file,
    JSON.stringify({
      nbformat,
      nbformat_minor: 5,
      metadata: {},
      cells: cells.map((c) => ({
        cell_type: c.type ?? 'code',
        metadata: c.tags ? { tags: c.tags } : {},
        source: c.source,
        outputs: [],
        execution_count: null,
      })),
    }),
  );
  return file;
}

describe('liftNotebook', () => {
  it('lifts cells marked by their first line, joins cells of a kind in order and comments out magics', () => {
    const file = notebook([
      { source: '# mlship: features\n%matplotlib inline\nimport pandas as pd\n\n\ndef transform(df):\n    return df\n' },
      { source: 'print("not lifted")' },
      { source: ['# mlship: features\n', 'EXTRA = 1\n'] },
      { source: '# mlship: train  \n!pip install x\ndef train(X, y):\n    return None' },
      { source: '# mlship: features\nin a markdown cell', type: 'markdown' },
    ]);
    const lifted = liftNotebook(file);
    expect(lifted.cells).toEqual({ features: 2, train: 1 });
    expect(lifted.features).toBe('# (notebook only) %matplotlib inline\nimport pandas as pd\n\n\ndef transform(df):\n    return df\n\n\nEXTRA = 1');
    expect(lifted.train).toBe('# (notebook only) !pip install x\ndef train(X, y):\n    return None');
  });

  it('prefers tags, and names a notebook without marked cells as having none', () => {
    const tagged = liftNotebook(notebook([{ source: 'def train(X, y):\n    pass', tags: ['mlship:train'] }]));
    expect(tagged).toMatchObject({ train: 'def train(X, y):\n    pass', cells: { features: 0, train: 1 } });
    expect(liftNotebook(notebook([{ source: 'x = 1' }]))).toEqual({ source: 'nb.ipynb', cells: { features: 0, train: 0 } });
  });

  it('refuses cells without the function the package needs, and files that are not notebooks', () => {
    expect(() => liftNotebook(notebook([{ source: '# mlship: features\nx = 1' }]))).toThrow(
      'the features cells of nb.ipynb define no top-level transform(df) function',
    );
    expect(() => liftNotebook(notebook([{ source: '# mlship: train\nfit = 1' }]))).toThrow('define no top-level train(X, y) function');
    expect(() => liftNotebook(notebook([], 3))).toThrow('nb.ipynb is not a Jupyter notebook in nbformat 4');
    expect(() => liftNotebook('/nonexistent/x.ipynb')).toThrow('notebook not found: x.ipynb');
  });

  it('makes the notebook name safe to quote in generated Python', () => {
    const file = notebook([{ source: 'def transform(df):\n    return df', tags: ['mlship:features'] }]);
    expect(liftNotebook(file, 'my "nb"\n.ipynb').source).toBe('my _nb__.ipynb');
  });
});

describe('detectLabel and inferSchema', () => {
  it('detects the label by name, in order of preference, any case', () => {
    expect(detectLabel(['a', 'Churned', 'b'])).toBe('Churned');
    expect(detectLabel(['y', 'label'])).toBe('label');
    expect(detectLabel(['a', 'is_spam_label'])).toBe('is_spam_label');
    expect(detectLabel(['a', 'b'])).toBeUndefined();
  });

  it('infers types, ranges, sorted categories, nullability and the task', () => {
    const table = {
      columns: ['n', 'x', 'flag', 'cat', 'free', 'label'],
      rows: Array.from({ length: 60 }, (_, i) => [
        String(i - 5),
        i === 3 ? '' : `${i / 4}`,
        i % 2 ? 'True' : 'false',
        ['b', 'a', 'c'][i % 3]!,
        `text ${i}`,
        ['x', 'y', 'z'][i % 3]!,
      ]),
    };
    const s = inferSchema(table, { label: 'label', source: 't.csv' });
    expect(s.task).toBe('multiclass');
    expect(s.fields).toEqual([
      { name: 'n', type: 'integer', min: -5, max: 54, nullable: false },
      { name: 'x', type: 'number', min: 0, max: 14.75, nullable: true },
      { name: 'flag', type: 'boolean', nullable: false },
      { name: 'cat', type: 'category', values: ['a', 'b', 'c'], nullable: false },
      { name: 'free', type: 'string', nullable: false },
    ]);
    const binary = inferSchema(
      {
        columns: ['a', 'y'],
        rows: [
          ['1', '0'],
          ['2', '1'],
        ],
      },
      { label: 'y', source: 't.csv' },
    );
    expect(binary.task).toBe('binary');
    const regression = inferSchema(
      {
        columns: ['a', 'y'],
        rows: [
          ['1', '0.5'],
          ['2', '1.25'],
        ],
      },
      { label: 'y', source: 't.csv' },
    );
    expect(regression.task).toBe('regression');
  });

  it('keeps values that could inject code out of categories', () => {
    const s = inferSchema(
      {
        columns: ['v', 'label'],
        rows: [
          ['ok', '0'],
          ['bad"); import os #', '1'],
        ],
      },
      { label: 'label', source: 't.csv' },
    );
    expect(s.fields).toEqual([{ name: 'v', type: 'string', nullable: false }]);
  });
});

describe('nameFrom', () => {
  it('turns a folder name into a valid project name', () => {
    expect(nameFrom('Churn Model (v2)')).toBe('churn-model-v2');
    expect(nameFrom('2024_sales')).toBe('sales');
    expect(nameFrom('x')).toBe('model');
    expect(nameFrom('ünïcode')).toBe('n-code');
  });
});
