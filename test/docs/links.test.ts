/**
 * Links between the pages resolve: every relative link of README.md, ARCHITECTURE.md and docs/ names
 * a file or folder that exists, and a `#anchor` names a heading of its page (GitHub's anchors).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { anchors, links, pages, read } from './blocks.js';

describe('links between the pages', () => {
  it('GitHub anchors: punctuation dropped, blanks to hyphens, repeats numbered', () => {
    const a = anchors('# The local target: `push`, `deploy`\n## Set up\n## Set up\n```sh\n# not a heading\n```\n');
    expect([...a]).toEqual(['the-local-target-push-deploy', 'set-up', 'set-up-1']);
  });

  it('every relative link and anchor resolves', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages()) {
      for (const { target, line } of links(read(page))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        checked++;
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const dest = file ? path.normalize(path.join(path.dirname(page), decodeURIComponent(file))) : page;
        if (dest.startsWith('..') || !existsSync(path.join(repoRoot, dest))) {
          broken.push(`${page}:${line}: ${target} (no ${dest})`);
          continue;
        }
        if (anchor !== undefined && dest.endsWith('.md') && !anchors(read(dest)).has(anchor)) {
          broken.push(`${page}:${line}: ${target} (no heading #${anchor} in ${dest})`);
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });
});
