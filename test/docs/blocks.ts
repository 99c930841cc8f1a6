/**
 * The pages of the documentation (README.md, ARCHITECTURE.md and docs/) and what the docs tests read
 * from them: shell blocks, the `mlship` commands in them, links and heading anchors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/cli.js';

/** Every documentation page, relative to the repository. */
export function pages(): string[] {
  const docs = readdirSync(path.join(repoRoot, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs', f));
  return ['README.md', 'ARCHITECTURE.md', ...docs.sort()];
}

export const read = (page: string): string => readFileSync(path.join(repoRoot, page), 'utf8');

export interface ShellBlock {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  text: string;
  /** The first line that is not a comment: what names the block in the test's map. */
  key: string;
}

/** Fenced blocks in a shell language (sh, bash, shell, console). */
export function shellBlocks(page: string): ShellBlock[] {
  const lines = read(page).split('\n');
  const out: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```\s*(\w*)/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^\s*```\s*$/.test(l));
    if (end < 0) throw new Error(`${page}:${i + 1}: a code block is never closed`);
    if (['sh', 'bash', 'shell', 'console', 'zsh'].includes(open[1]!)) {
      const body = lines.slice(i + 1, end);
      const key = body.find((l) => l.trim() && !l.trim().startsWith('#'))?.trim() ?? '';
      out.push({ page, line: i + 1, text: body.join('\n'), key });
    }
    i = end;
  }
  return out;
}

/** Cut a shell line's trailing comment (a `#` after a blank, outside quotes). */
function uncomment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** The commands of a block: continuation lines joined, comments cut, split at `&&`, `||`, `;`, `|`. */
export function commands(text: string): { command: string; comment: string }[] {
  const joined = text.replace(/\\\n\s*/g, ' ').split('\n');
  const out: { command: string; comment: string }[] = [];
  for (const raw of joined) {
    const code = uncomment(raw);
    const comment = raw.slice(code.length).replace(/^#\s?/, '').trim();
    for (const part of code.split(/&&|\|\||;|(?<![|])\|(?![|])/)) {
      const command = part.trim().replace(/&$/, '').trim();
      if (command) out.push({ command, comment });
    }
  }
  return out;
}

/** `mlship <sub> --flag …` of a command: the subcommand and the long flags it uses. */
export function mlshipCall(command: string): { sub: string; flags: string[]; args: string[] } | undefined {
  const words = command.split(/\s+/);
  if (words[0] !== 'mlship') return undefined;
  const sub = words[1] ?? '';
  const args = words.slice(1);
  const flags = args.filter((w) => w.startsWith('--')).map((w) => w.replace(/=.*$/, ''));
  return { sub, flags, args };
}

/** GitHub's anchor of a heading: lowercase, punctuation dropped, blanks to hyphens; repeats get -1, -2. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const h = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = h[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Markdown links `[text](target)` outside code, with their line. */
export function links(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const prose = line.replace(/`[^`]*`/g, '``');
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) out.push({ target: m[1]!, line: i + 1 });
  });
  return out;
}
