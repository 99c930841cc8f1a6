/**
 * The HTML report opens in a real browser (Debian's chromium through playwright-core): one chart per
 * feature, drawn, no console errors, nothing fetched from the network.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExample, runCli } from '../../helpers/cli.js';
import { writeLog } from './logs.js';

// Found or installed by global-setup (helpers/chromium.ts), which stops the run when there is none.
const CHROMIUM = process.env.MLSHIP_CHROMIUM!;
let project: { dir: string; cleanup: () => void };
let profileDir: string;

beforeAll(() => {
  project = copyExample();
  const manifest = path.join(project.dir, 'mlship.yaml');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('on_drift: true', 'on_drift: false'));
  writeLog(path.join(project.dir, 'logs'), { rows: 3000, seed: 5, shiftCharges: 20, enterpriseShare: 0.45 });
  profileDir = mkdtempSync(path.join(tmpdir(), 'mlship-chromium-'));
});
afterAll(() => {
  project.cleanup();
  rmSync(profileDir, { recursive: true, force: true });
});

describe('drift-check --report', () => {
  it('writes a self-contained report that renders one chart per feature in Chromium', async () => {
    const report = path.join(project.dir, 'drift.html');
    const r = await runCli(['drift-check', '--logs', 'logs', '--baseline', 'data/train.csv', '--report', 'drift.html', '--json'], { cwd: project.dir });
    expect([0, 3], r.stderr).toContain(r.code);
    expect(JSON.parse(r.stdout).report).toBe(report);
    const html = readFileSync(report, 'utf8');
    expect(html).not.toMatch(/<script|<link|src="http/);

    const { chromium } = await import('playwright-core');
    // playwright passes --user-data-dir itself: the persistent context is how it takes the folder.
    const browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      viewport: { width: 1200, height: 900 },
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (req) => {
        if (!req.url().startsWith('file:')) requests.push(req.url());
      });
      await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
      const charts = await page.$$eval('figure.chart[data-feature]', (figs) =>
        figs.map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return {
            feature: f.getAttribute('data-feature'),
            marks: svg?.querySelectorAll('path, rect').length ?? 0,
            width: box?.width ?? 0,
            height: box?.height ?? 0,
          };
        }),
      );
      expect(charts.map((c) => c.feature)).toEqual(['tenure_months', 'monthly_charges', 'support_calls', 'plan', 'payment_method']);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(200);
        expect(c.height).toBeGreaterThan(100);
        expect(c.marks).toBeGreaterThan(10);
      }
      expect(await page.textContent('.verdict')).toMatch(/features drifted/);
      const shot = path.join(project.dir, 'drift.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
      if (process.env.MLSHIP_KEEP_SCREENSHOT) writeFileSync(process.env.MLSHIP_KEEP_SCREENSHOT, readFileSync(shot));
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
