/**
 * No command block in the docs goes unchecked silently. Every `sh` block of README.md and docs/ is
 * either
 * - marked as needing what this machine does not have: its first line is `# needs: <what>`, one of
 *   NEEDS (a cloud account, the npm registry); or
 * - listed in COVERED by its first command line, naming the tests that run its flow. Each named file
 *   must exist, and every `mlship` subcommand and `--flag` of the block must appear in one of them
 *   (a block that grows a flag no test uses fails here); `npm run <script>` must be a script of
 *   package.json, a path a command names must exist.
 * On top, the cheap ones run here for real: `mlship init` as the docs write it, `mlship validate`
 * printing what the quickstart says it prints, and `mlship <sub> --help` knowing every flag a block
 * passes to it.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyExample, exampleDir, python, repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { commands, mlshipCall, pages, type ShellBlock, shellBlocks } from './blocks.js';

const NEEDS = ['an AWS account', 'a Google Cloud project', 'an Azure subscription', 'mlship published on the npm registry'];

/** Block (its first command line) → the tests that run its flow. */
const COVERED: Record<string, { tests: string[]; runHere?: string }> = {
  // README and docs/development.md: the demo, and the suite itself.
  'npm ci && npm run demo     # the main job: the churn example end to end on the local target': {
    tests: ['examples/churn/demo.sh', 'test/examples/demo.test.ts'],
  },
  // README quickstart: `validate` runs here; the local lifecycle and the drift report in their tests.
  'npm ci && npm run build': {
    tests: ['test/targets/local/lifecycle.test.ts', 'test/monitoring/drift/report.test.ts', 'test/cli/cli.test.ts'],
    runHere: 'mlship validate (its printed line)',
  },
  // docs/init.md: both lines run here.
  'mlship init                                       # asks: name, model file, flavor, target, baseline, label, notebook': {
    tests: ['test/init/init.test.ts'],
    runHere: 'mlship init, both lines',
  },
  // README's LLM section: the same flow, shorter.
  'mlship init --yes                  # in a folder holding model/<name>.gguf: an LLM manifest': {
    tests: ['test/helpers/llm.ts', 'test/targets/local/llm.test.ts', 'test/monitoring/drift/llm-e2e.test.ts', 'test/budget/llm-budget-cli.test.ts'],
  },
  // docs/llm.md: a GGUF model from init to rollback on the local target, its drift and its budget.
  'mlship init --yes              # in a folder holding model/<name>.gguf: an LLM manifest (no features, no train.py)': {
    tests: ['test/helpers/llm.ts', 'test/targets/local/llm.test.ts', 'test/monitoring/drift/llm-e2e.test.ts', 'test/budget/llm-budget-cli.test.ts'],
  },
  // docs/development.md: scripts of package.json, a test folder.
  'npm run build        # TypeScript → dist/, and dist/mlship.schema.json': { tests: ['test/lint.test.ts', 'test/bench/run.ts'] },
  // docs/drift.md
  "mlship drift-check --since 24h --report drift.html        # the live version's baseline and logs": {
    tests: ['test/monitoring/drift/cli.test.ts', 'test/monitoring/drift/report.test.ts', 'test/retrain/e2e.test.ts'],
  },
  // docs/quality-and-retraining.md
  "curl -s localhost:8080/predict -H 'content-type: application/json' \\": {
    tests: ['test/retrain/feedback-endpoint.test.ts', 'test/retrain/e2e.test.ts', 'test/retrain/cli.test.ts', 'test/monitoring/schedule.test.ts'],
  },
  // docs/fakes.md: the flows against the same doubles, through the CLI.
  'npm run fake -- vertex > fake.json &       # one JSON line: {"target","env","targets"}; serves until killed': {
    tests: ['test/doubles/run.test.ts', 'test/doubles/vertex/run-fake.ts', 'test/targets/vertex/lifecycle.test.ts', 'test/targets/vertex/retrain.test.ts'],
  },
  'npm --prefix ~/src/mlship run -s fake -- azure > /tmp/azure-fake.json &   # serves until `kill $!`; violations on stderr': {
    tests: ['test/doubles/run.test.ts', 'test/doubles/azure/run-fake.ts', 'test/targets/azure/lifecycle.test.ts'],
  },
};

const blocks: ShellBlock[] = pages().flatMap(shellBlocks);
const where = (b: ShellBlock) => `${b.page}:${b.line}`;
const needs = (b: ShellBlock) => /^# needs: (.+)$/.exec(b.text.split('\n')[0]!.trim())?.[1];
const packageScripts = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('every command block in the docs is run by a test or marked as needing an account', () => {
  it('finds the blocks (README and docs/)', () => {
    expect(blocks.filter((b) => b.page === 'README.md').length).toBeGreaterThanOrEqual(3);
    expect(new Set(blocks.map((b) => b.page)).size).toBeGreaterThanOrEqual(5);
  });

  it('each block is marked `# needs: …` or listed with the tests that run it', () => {
    const unchecked = blocks
      .filter((b) => {
        const need = needs(b);
        return need === undefined ? !(b.key in COVERED) : !NEEDS.includes(need);
      })
      .map((b) => `${where(b)}: ${needs(b) ? `"# needs: ${needs(b)}" is none of: ${NEEDS.join('; ')}` : b.key}`);
    expect(unchecked, 'add the block to COVERED in test/docs/commands.test.ts, or mark it "# needs: <what>"').toEqual([]);
  });

  it('the list names no block that is gone', () => {
    const keys = new Set(blocks.map((b) => b.key));
    expect(Object.keys(COVERED).filter((k) => !keys.has(k))).toEqual([]);
  });

  for (const b of blocks.filter((x) => x.key in COVERED)) {
    it(`${where(b)}: its tests exist and use every mlship command and flag it shows`, () => {
      const { tests } = COVERED[b.key]!;
      const missingFiles = tests.filter((t) => !existsSync(path.join(repoRoot, t)));
      expect(missingFiles).toEqual([]);
      const text = tests.map((t) => readFileSync(path.join(repoRoot, t), 'utf8')).join('\n');
      const absent: string[] = [];
      for (const { command } of commands(b.text)) {
        const call = mlshipCall(command);
        if (call) {
          if (!text.includes(`'${call.sub}'`) && !text.includes(`"${call.sub}"`) && !text.includes(`mlship ${call.sub}`)) absent.push(`mlship ${call.sub}`);
          for (const f of call.flags) if (!text.includes(f)) absent.push(`mlship ${call.sub} ${f}`);
        }
        const script = /^npm (?:--prefix \S+ )?run (?:-s )?([\w:-]+)/.exec(command)?.[1];
        if (script && !(script in packageScripts)) absent.push(`npm run ${script} (not a script of package.json)`);
        const vitestPath = /^npx vitest run (\S+)/.exec(command)?.[1];
        if (vitestPath && !existsSync(path.join(repoRoot, vitestPath))) absent.push(vitestPath);
      }
      expect(absent, `not in ${tests.join(', ')}`).toEqual([]);
    });
  }

  it('`mlship <command> --help` knows every flag a block passes to it', async () => {
    const bySub = new Map<string, Set<string>>();
    for (const b of blocks) {
      for (const { command } of commands(b.text)) {
        const call = mlshipCall(command);
        if (!call) continue;
        const set = bySub.get(call.sub) ?? new Set<string>();
        for (const f of call.flags) set.add(f);
        bySub.set(call.sub, set);
      }
    }
    expect(bySub.size).toBeGreaterThan(5);
    const unknown: string[] = [];
    for (const [sub, flags] of bySub) {
      const r = await runCli([sub, '--help']);
      expect(r.code, `mlship ${sub} --help: ${r.stderr}`).toBe(0);
      const help = `${r.stdout}\n${(await runCli(['--help'])).stdout}`; // global options are listed once
      for (const f of flags) if (!help.includes(f)) unknown.push(`mlship ${sub} ${f}`);
    }
    expect(unknown).toEqual([]);
  });
});

describe('the cheap blocks, run for real', () => {
  const dirs: { cleanup: () => void }[] = [];
  afterAll(() => {
    for (const d of dirs) d.cleanup();
  });

  it('the quickstart: `mlship validate` in the example prints what the block says it prints', async () => {
    const block = blocks.find((b) => b.key === 'npm ci && npm run build' && b.page === 'README.md');
    expect(block).toBeDefined();
    const line = commands(block!.text).find((c) => c.command === 'mlship validate');
    expect(line?.comment).toMatch(/^ok /);
    const example = copyExample();
    dirs.push(example);
    const r = await runCli(['validate'], { cwd: example.dir, env: { MLSHIP_PYTHON: python } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(line!.comment);
  });

  it("docs/init.md: both `mlship init` lines scaffold the example's notebook, model and data into a project that validates", async () => {
    const block = blocks.find((b) => b.page === path.join('docs', 'init.md'));
    expect(block).toBeDefined();
    const lines = commands(block!.text)
      .map((c) => mlshipCall(c.command))
      .filter((c) => c?.sub === 'init');
    expect(lines.length).toBe(2);
    for (const call of lines) {
      const project = tempDir('mlship-docs-init-');
      dirs.push(project);
      for (const f of ['churn.ipynb', 'data', 'model']) cpSync(path.join(exampleDir, f), path.join(project.dir, f), { recursive: true });
      // No terminal here: the interactive line takes every answer's default, as the page says.
      const r = await runCli(call!.args, { cwd: project.dir, env: { MLSHIP_PYTHON: python } });
      expect(r.code, `mlship ${call!.args.join(' ')}\n${r.stderr}`).toBe(0);
      for (const f of ['mlship.yaml', 'features/__init__.py', 'train.py', '.github/workflows/mlship.yml', '.gitignore']) {
        expect(existsSync(path.join(project.dir, f)), f).toBe(true);
      }
      const v = await runCli(['validate'], { cwd: project.dir, env: { MLSHIP_PYTHON: python } });
      expect(v.code, v.stderr).toBe(0);
      expect(v.stdout).toMatch(/^ok {2}mlship\.yaml: \S+ \(sklearn, 5 fields, target local\)/);
    }
  });
});
