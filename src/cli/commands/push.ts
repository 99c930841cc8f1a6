/** `mlship push [--build id]`: register the current build as a new version in the target's registry. */
import path from 'node:path';
import { UsageError } from '../../util/errors.js';
import type { CommandModule } from '../context.js';

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const manifest = await ctx.manifest();
  const { buildsDir, currentBuild, readBuildInfo } = await import('../../packaging/index.js');
  let build;
  if (typeof options.build === 'string') {
    const dir = path.join(buildsDir(manifest), path.basename(options.build));
    if (!readBuildInfo(dir))
      throw new UsageError(`no build ${options.build} in ${path.relative(ctx.cwd, buildsDir(manifest)) || '.'}`, {
        code: 'build_not_found',
        hint: 'Run `mlship build` (its output names the build id).',
      });
    build = { id: path.basename(options.build), dir };
  } else {
    build = await currentBuild(manifest);
    if (!build) {
      throw new UsageError('the project has changed since the last build (or was never built)', {
        code: 'build_missing',
        hint: 'Run `mlship build` first, then `mlship push`.',
      });
    }
  }
  if (options.requireApproval === true) (await import('../../targets/descriptors.js')).checkApproval(manifest.target);
  const target = await ctx.target('push');
  const result = await target.push(build, {
    ...(typeof options.image === 'string' && { image: options.image }),
    ...(options.builder !== undefined && { builder: (await import('../../packaging/image/select.js')).builderOption(options.builder) }),
    ...(options.requireApproval === true && { requireApproval: true }),
  });
  const v = result.version;
  const text = result.created
    ? `${ctx.output.style('green', '✔')} pushed ${v.version} (build ${v.buildId}, sha256 ${v.digest.slice(0, 12)}) to ${target.name}\nnext: \`mlship deploy\` to make it live`
    : `${v.version} already holds build ${v.buildId}: nothing new to push`;
  return { data: result, text };
};
