/**
 * Lifting code out of a Jupyter notebook (nbformat 4). A code cell is lifted when it carries the tag
 * `mlship:features` / `mlship:train` in its metadata, or when its first line is the comment
 * `# mlship: features` / `# mlship: train` (for editors that do not show tags). Cells of one kind are
 * joined in notebook order. IPython magics and shell escapes (`%…`, `!…`) are commented out, since
 * the lifted code runs as plain Python in training and serving.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../util/errors.js';

export const CELL_KINDS = ['features', 'train'] as const;
export type CellKind = (typeof CELL_KINDS)[number];

/** Code lifted from a notebook, one entry per kind that had marked cells. */
export interface LiftedCode {
  /** The notebook's file name, made safe to quote in a Python comment. */
  source: string;
  /** Python source of the marked cells (marker lines removed), without a trailing newline. */
  features?: string;
  train?: string;
  /** How many cells of each kind were found. */
  cells: Record<CellKind, number>;
}

interface NotebookCell {
  cell_type?: unknown;
  source?: unknown;
  metadata?: { tags?: unknown };
}

const MARKER = /^\s*#\s*mlship:\s*(features|train)\s*$/i;

/** Read a notebook and lift its marked cells; throws `UsageError` for a file that is not a notebook. */
export function liftNotebook(file: string, displayName = path.basename(file)): LiftedCode {
  let nb: { nbformat?: unknown; cells?: unknown };
  try {
    nb = JSON.parse(readFileSync(file, 'utf8')) as typeof nb;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new UsageError(missing ? `notebook not found: ${displayName}` : `${displayName} is not a readable notebook: ${(error as Error).message}`, {
      code: 'notebook_invalid',
      hint: missing ? 'Pass --notebook with a path relative to the project folder.' : 'Pass a Jupyter notebook (.ipynb, nbformat 4).',
    });
  }
  if (typeof nb !== 'object' || nb === null || !Array.isArray(nb.cells) || nb.nbformat !== 4) {
    throw new UsageError(`${displayName} is not a Jupyter notebook in nbformat 4`, {
      code: 'notebook_invalid',
      hint: 'Save it with Jupyter 4 or newer (File → Save).',
    });
  }
  const parts: Record<CellKind, string[]> = { features: [], train: [] };
  for (const cell of nb.cells as NotebookCell[]) {
    if (cell.cell_type !== 'code') continue;
    const text = Array.isArray(cell.source) ? cell.source.map(String).join('') : typeof cell.source === 'string' ? cell.source : '';
    const kind = cellKind(cell, text);
    if (kind) parts[kind].push(cleanCell(text));
  }
  const lifted: LiftedCode = { source: safeName(displayName), cells: { features: parts.features.length, train: parts.train.length } };
  if (parts.features.length > 0) lifted.features = parts.features.join('\n\n\n');
  if (parts.train.length > 0) lifted.train = parts.train.join('\n\n\n');
  if (lifted.features !== undefined && !/^def transform\(/m.test(lifted.features)) {
    throw new UsageError(`the features cells of ${displayName} define no top-level transform(df) function`, {
      code: 'notebook_invalid',
      hint: 'Put the feature code in a function `def transform(df: pd.DataFrame) -> pd.DataFrame:` in the cell tagged mlship:features.',
    });
  }
  if (lifted.train !== undefined && !/^def train\(/m.test(lifted.train)) {
    throw new UsageError(`the train cells of ${displayName} define no top-level train(X, y) function`, {
      code: 'notebook_invalid',
      hint: 'Put the training code in a function `def train(X, y):` that returns the fitted model, in the cell tagged mlship:train.',
    });
  }
  return lifted;
}

function cellKind(cell: NotebookCell, text: string): CellKind | undefined {
  const tags = Array.isArray(cell.metadata?.tags) ? cell.metadata.tags.map(String) : [];
  for (const kind of CELL_KINDS) if (tags.includes(`mlship:${kind}`)) return kind;
  const first = text.split('\n', 1)[0] ?? '';
  const m = MARKER.exec(first);
  return m ? (m[1]!.toLowerCase() as CellKind) : undefined;
}

/** Drop the marker line, comment out magics, trim blank lines at both ends. */
function cleanCell(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (MARKER.test(lines[0] ?? '')) lines.shift();
  const out = lines.map((l) => (/^\s*[%!]/.test(l) ? `# (notebook only) ${l.trimStart()}` : l.replace(/\s+$/, '')));
  while (out.length > 0 && out[0]!.trim() === '') out.shift();
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  return out.join('\n');
}

/** A file name that is safe inside a Python comment or docstring. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._ ()-]/g, '_');
}
