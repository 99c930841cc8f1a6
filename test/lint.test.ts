/**
 * The house rules, checked by `npm test`: Biome (lint + format of TypeScript and JSON, biome.json),
 * Ruff (lint + format of every Python file, ruff.toml, with the suite's Python), mypy over the serving
 * runtime (python/pyproject.toml's [tool.mypy]) and the layer check (scripts/check-layers.mjs:
 * imports in src/ only point down the table in ARCHITECTURE.md).
 * `npm run format` fixes what a formatter can.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerViolations } from '../scripts/check-layers.mjs';
import { python, repoRoot } from './helpers/cli.js';

function run(command: string, args: string[], cwd = repoRoot): { status: number | null; output: string } {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('house rules', () => {
  it('Biome: TypeScript lints clean and is formatted', () => {
    const r = run(process.execPath, [path.join(repoRoot, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'ci', '--colors=off', '.']);
    expect(r.status, r.output).toBe(0);
  });

  it('Ruff: Python lints clean', () => {
    const r = run(python, ['-m', 'ruff', 'check', '--no-cache', '.']);
    expect(r.status, r.output).toBe(0);
  });

  it('Ruff: Python is formatted', () => {
    const r = run(python, ['-m', 'ruff', 'format', '--check', '--no-cache', '.']);
    expect(r.status, r.output).toBe(0);
  });

  it('mypy: the serving runtime type-checks', () => {
    // python/pyproject.toml holds the settings and which files; its cache lives in test/.tmp/mypy.
    const r = run(python, ['-m', 'mypy'], path.join(repoRoot, 'python'));
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/^Success: no issues found in \d+ source files/m);
  }, 180_000);

  it('src/ imports only point down the layers', () => {
    const problems = layerViolations(path.join(repoRoot, 'src'));
    expect(problems.map((p) => `${path.relative(repoRoot, p.from)} -> ${p.to}: ${p.why}`)).toEqual([]);
  });

  it('the layer check catches an upward import (a check of the check)', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const root = mkdtempSync(path.join(tmpdir(), 'mlship-layers-'));
    mkdirSync(path.join(root, 'util'));
    mkdirSync(path.join(root, 'cli'));
    writeFileSync(path.join(root, 'cli', 'main.ts'), "import { x } from '../util/x.js';\n");
    writeFileSync(path.join(root, 'util', 'x.ts'), "import { main } from '../cli/main.js';\nexport const x = 1;\n");
    const problems = layerViolations(root);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.why).toBe('util may not import cli (same or higher layer)');
  });
});
