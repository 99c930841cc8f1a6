/** `mlship build` — render the serving context, check feature parity, prepare the runtime, build the image. */
import path from 'node:path';
import { UsageError } from '../../util/errors.js';
import type { CommandModule } from '../context.js';

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  let manifest = await ctx.manifest();
  if (options.tolerance !== undefined) {
    const tolerance = Number(options.tolerance);
    if (!Number.isFinite(tolerance) || tolerance < 0)
      throw new UsageError(`--tolerance must be a number >= 0, got "${String(options.tolerance)}"`, { hint: 'e.g. --tolerance 1e-6' });
    manifest = { ...manifest, features: { ...manifest.features, tolerance } };
  }
  const { buildProject, formatMb, imageWanted } = await import('../../packaging/index.js');
  const { describeParity } = await import('../../packaging/parity.js');
  const { descriptorOf } = await import('../../targets/descriptors.js');
  const image = imageWanted(typeof options.image === 'boolean' ? options.image : undefined, descriptorOf(manifest.target));
  const { builderOption } = await import('../../packaging/image/select.js');
  const builder = builderOption(options.builder);
  const result = await buildProject(
    manifest,
    { image, ...(builder && { builder }), platform: String(options.platform ?? 'linux/amd64'), env: ctx.env },
    ctx.output,
  );
  const { info } = result;
  const rel = path.relative(ctx.cwd, result.dir) || '.';
  const lines = [
    result.reused ? `build ${result.id} reused (inputs unchanged): ${rel}` : `build ${result.id}: ${rel}`,
    `  parity  ${
      'skipped' in info.parity
        ? `skipped: ${info.parity.skipped}`
        : describeParity(info.parity)
            .split('\n')[0]!
            .replace(/^feature parity /, '')
    }`,
    ...(typeof info.runtime === 'object' ? [`  python  ${info.runtime.python} (${info.runtime.source})`] : []),
    ...(info.llm
      ? [
          `  server  mlship's gateway in front of ${info.llm.server === 'vllm' ? 'vLLM' : 'llama-server'}, sized for ${info.compute?.instanceType ?? 'a GPU'}${info.llm.server === 'vllm' ? ' (vLLM runs only in the image, on a GPU)' : ''}`,
        ]
      : []),
    ...(info.cost
      ? [
          `  cost    ${'skipped' in info.cost ? `not measured (${info.cost.skipped}): selection estimates it` : `${info.cost.perRequest.cpuMs} ms CPU per request, ${info.cost.perBatch.cpuMsPerRecord} ms per record in batches of ${info.cost.perBatch.size} (one thread on ${info.cost.machine.cpu}, measured)`}`,
        ]
      : []),
    `  image   ${info.image ? `${info.image.tag} ${info.image.id} (${info.image.builder}${info.image.bytes === undefined ? '' : `, ${formatMb(info.image.bytes)}`})` : (result.imageSkipped ?? 'none')}`,
    info.llm?.server === 'vllm'
      ? 'next: `mlship push` to register it as a version, then deploy it to a cloud target (vLLM needs a GPU)'
      : 'next: `mlship serve` to try it here, `mlship push` to register it as a version',
  ];
  return {
    data: {
      id: result.id,
      dir: result.dir,
      reused: result.reused,
      ...(result.imageSkipped !== undefined && { imageSkipped: result.imageSkipped }),
      build: info,
    },
    text: lines.join('\n'),
  };
};
