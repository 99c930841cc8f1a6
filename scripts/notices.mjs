/**
 * THIRD_PARTY_NOTICES for the bundle: for every npm package with code in dist/bundle/, its name,
 * version, declared licence and the text of its LICENSE/NOTICE files (scripts/bundle.mjs calls it
 * with esbuild's list of bundled files). A package without a licence file is listed with its
 * declared licence and says so.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const LICENCE_FILE = /^(licen[cs]e|copying|notice)([.-].*)?$/i;

/** Write the notices of the packages `files` belong to; returns how many packages. */
export function writeNotices(root, files, out) {
  const dirs = new Set();
  for (const file of files) {
    const m = /^(.*node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file);
    if (m) dirs.add(m[1]);
  }
  const entries = new Map();
  for (const dir of dirs) {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const key = `${pkg.name}@${pkg.version}`;
    if (entries.has(key)) continue;
    const licence = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? pkg.licenses?.map((l) => l.type).join(' OR ') ?? 'UNKNOWN');
    const texts = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => LICENCE_FILE.test(f))
          .sort()
          .map((f) => readFileSync(path.join(dir, f), 'utf8').trim())
      : [];
    entries.set(key, { key, licence, texts });
  }
  const sorted = [...entries.values()].sort((a, b) => a.key.localeCompare(b.key));
  const own = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const parts = [
    `${own.name} ${own.version} bundles the following ${sorted.length} npm packages (dist/bundle/).`,
    'Each is listed with its declared licence and the licence files it ships.',
    '',
  ];
  // Packages whose licence files read alike (the Apache text of the AWS SDK's 200 packages…) share one copy.
  const byText = new Map();
  for (const e of sorted) {
    const text = e.texts.length > 0 ? e.texts.join('\n\n') : `No licence file in the package; its package.json declares ${e.licence}.`;
    byText.set(text, [...(byText.get(text) ?? []), `${e.key} (${e.licence})`]);
  }
  for (const [text, keys] of byText) parts.push('-'.repeat(78), ...keys, '', text, '');
  writeFileSync(out, `${parts.join('\n')}\n`);
  return sorted.length;
}
