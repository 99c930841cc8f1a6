/**
 * Once per test run: make sure the example's model exists (trained by the example's own train.py,
 * the one command the README names), so every test copies a real, trained project.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { exampleDir, python } from './helpers/cli.js';

export default function setup(): void {
  if (!existsSync(path.join(exampleDir, 'model', 'model.joblib'))) {
    execFileSync(python, ['train.py'], { cwd: exampleDir, stdio: 'inherit' });
  }
}
