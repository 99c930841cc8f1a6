/** `mlship init [dir]`: scaffold a project (the logic is in src/init/). */
import path from 'node:path';
import { UsageError } from '../../util/errors.js';
import type { CommandModule } from '../context.js';

export const run: CommandModule['run'] = async (ctx, args, options) => {
  if (path.basename(ctx.globals.file) !== 'mlship.yaml') {
    throw new UsageError(`init writes mlship.yaml, not ${ctx.globals.file}`, {
      code: 'invalid_option',
      hint: 'Pass the project folder instead: `mlship init <dir>`; then `-f <dir>/mlship.yaml` points other commands at it.',
    });
  }
  const { initProject } = await import('../../init/scaffold.js');
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  // `mlship init` writes next to the manifest: [dir], else the folder of `-f …/mlship.yaml`.
  const dir = args[0] !== undefined ? path.resolve(ctx.cwd, args[0]) : ctx.projectDir;
  const result = await initProject(
    {
      dir,
      name: str(options.name),
      model: str(options.model),
      flavor: str(options.flavor),
      target: ctx.globals.target,
      baseline: str(options.baseline),
      notebook: str(options.notebook),
      label: str(options.label),
      force: options.force === true,
    },
    ctx.prompts,
  );
  for (const w of result.warnings) ctx.output.warn(w);
  const where = path.relative(ctx.cwd, dir) || '.';
  const cd = where === '.' ? '' : `cd ${where} && `;
  const lines = [
    result.fields === undefined
      ? `${result.name}: an LLM (${result.model.path}) behind mlship's OpenAI-compatible gateway, target ${result.target}`
      : `${result.name}: ${result.fields} request field${result.fields === 1 ? '' : 's'} from ${result.baseline} (label ${result.label}, ${result.task}), ${result.model.flavor} model, target ${result.target}`,
    ...(result.notebook ? [`lifted from ${result.notebook.file}: ${result.notebook.features} features cell(s), ${result.notebook.train} train cell(s)`] : []),
    ...result.files.map((f) => `  ${f.action.padEnd(11)} ${path.join(where, f.path)}`),
    'next:',
    ...(result.model.exists || result.fields === undefined ? [] : [`  ${cd}python train.py`]),
    `  ${cd}mlship validate`,
    `  ${cd}mlship build && mlship push && mlship deploy`,
  ];
  return { data: { ok: true, ...result, dir: where }, text: lines.join('\n') };
};
