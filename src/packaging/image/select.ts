/**
 * The one place that picks the image builder: `--builder` when given (it must work, else a clear
 * error), otherwise the first of docker, podman, buildah that works here. "Works" is what the tool's
 * probe says (podman's starts a container: an installed podman whose runtime cannot is passed over
 * for buildah), asked once per process.
 */
import { OperationError } from '../../util/errors.js';
import { BUILDER_NAMES, unknownBuilder, type BuilderName, type ImageBuilder } from './builder.js';
import { buildahBuilder } from './buildah.js';
import { dockerLikeBuilder } from './docker.js';

/** The builder of that name (not probed). */
export function builderNamed(name: BuilderName, env: NodeJS.ProcessEnv): ImageBuilder {
  return name === 'buildah' ? buildahBuilder(env) : dockerLikeBuilder(name, env);
}

/** Whether a string names a builder. */
export function isBuilderName(name: string): name is BuilderName {
  return (BUILDER_NAMES as readonly string[]).includes(name);
}

/** The `--builder` flag's value, checked (a usage error when it names no builder). */
export function builderOption(value: unknown): BuilderName | undefined {
  if (value === undefined) return undefined;
  const name = String(value);
  if (!isBuilderName(name)) throw unknownBuilder(name);
  return name;
}

/** Probes already asked in this process, by tool and PATH. */
const probes = new Map<string, Promise<string | undefined>>();

/** A probe's answer when the tool is not on the PATH at all (the builders' "no <tool> on the PATH"). */
function notInstalled(why: string | undefined): boolean {
  return why?.startsWith('no ') === true;
}

/**
 * A builder's probe, asked once per process for a tool and PATH (a build and the push after it, a
 * retraining run, do not start a container each time). A tool found missing is looked for again
 * next time: that answer is instant, and the tool may have been installed since.
 */
async function probeOnce(builder: ImageBuilder, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const key = `${builder.name}\0${env.PATH ?? ''}`;
  let answer = probes.get(key);
  if (!answer) {
    answer = builder.probe();
    probes.set(key, answer);
  }
  const why = await answer;
  if (notInstalled(why)) probes.delete(key);
  return why;
}

/** A working builder, or why there is none (one reason per tool tried). */
export type BuilderChoice = { builder: ImageBuilder } | { skipped: string };

/**
 * The builder to use: the forced one (an error when it does not work here), else `prefer` (the tool
 * that built the image being pushed) when it works, else the first that works. `forced` comes from
 * `--builder` (or MLSHIP_BUILDER).
 */
export async function selectBuilder(env: NodeJS.ProcessEnv, forced?: string, prefer?: BuilderName): Promise<BuilderChoice> {
  const wanted = forced ?? (env.MLSHIP_BUILDER || undefined);
  if (wanted !== undefined) {
    if (!isBuilderName(wanted)) throw unknownBuilder(wanted);
    const builder = builderNamed(wanted, env);
    const why = await probeOnce(builder, env);
    if (why)
      throw new OperationError('builder_unavailable', `the ${wanted} builder does not work here: ${why}`, {
        hint: `Install or start ${wanted}, or leave out --builder to use the first of ${BUILDER_NAMES.join(', ')} that works.`,
      });
    return { builder };
  }
  const reasons: string[] = [];
  const order = prefer ? [prefer, ...BUILDER_NAMES.filter((n) => n !== prefer)] : BUILDER_NAMES;
  for (const name of order) {
    const builder = builderNamed(name, env);
    const why = await probeOnce(builder, env);
    if (!why) return { builder };
    reasons.push(why);
  }
  const installed = reasons.filter((r) => !notInstalled(r));
  return { skipped: installed.length > 0 ? installed.join('; ') : `no ${BUILDER_NAMES.join(', ')} on the PATH` };
}
