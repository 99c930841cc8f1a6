/**
 * `npm test` brings the browser its HTML-report test needs (issue 17, item 1): an existing
 * Chrome/Chromium is used, else Debian's chromium is installed when root, else the run stops with the
 * one line that fixes the machine.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM_FIX, ensureChromium, type ChromiumDeps } from '../helpers/chromium.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mlship-chromium-bin-'));
const empty = mkdtempSync(path.join(tmpdir(), 'mlship-no-chromium-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }) ?? rmSync(empty, { recursive: true, force: true }));

function fakeBrowser(name: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

function deps(env: NodeJS.ProcessEnv, isRoot: boolean, install: () => boolean = () => false): ChromiumDeps & { installs: number } {
  const d = { env, isRoot, installs: 0, log: () => undefined, install: () => (d.installs++, install()) };
  return d;
}

describe('ensureChromium', () => {
  it('uses a Chrome/Chromium already on PATH and installs nothing', () => {
    const browser = fakeBrowser('google-chrome');
    const d = deps({ PATH: `${empty}${path.delimiter}${dir}` }, true);
    expect(ensureChromium(d)).toBe(browser);
    expect(d.installs).toBe(0);
  });

  it('uses MLSHIP_CHROMIUM when it names a browser, and only that one', () => {
    const browser = fakeBrowser('my-chrome');
    expect(ensureChromium(deps({ PATH: empty, MLSHIP_CHROMIUM: browser }, false))).toBe(browser);
    fakeBrowser('chromium');
    expect(() => ensureChromium(deps({ PATH: dir, MLSHIP_CHROMIUM: path.join(empty, 'nowhere') }, false))).toThrow(CHROMIUM_FIX);
  });

  it("as root without a browser, installs Debian's chromium and uses it", () => {
    let installed = false;
    const d = deps({ PATH: empty }, true, () => {
      installed = true;
      return true;
    });
    // The package lands in /usr/bin, which the search adds after installing: this machine's chromium.
    expect(ensureChromium(d)).toMatch(/\/usr\/bin\/(chromium|chromium-browser|google-chrome)/);
    expect(installed).toBe(true);
  });

  it('without a browser and not root (or when apt-get fails), fails with the one line that fixes it', () => {
    const d = deps({ PATH: empty }, false);
    expect(() => ensureChromium(d)).toThrow(CHROMIUM_FIX);
    expect(d.installs).toBe(0);
    expect(() => ensureChromium(deps({ PATH: empty, MLSHIP_CHROMIUM: '' }, true, () => false))).toThrow(CHROMIUM_FIX);
    expect(CHROMIUM_FIX).not.toContain('\n');
  });
});
