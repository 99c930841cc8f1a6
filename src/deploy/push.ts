/**
 * `push` on every cloud, once: check the build (its artifact re-hashed), pass over an identical build
 * already registered, know where the image comes from before anything is uploaded, upload the model,
 * push the image, register the version with the cloud, and write mlship's version record (build,
 * digest, metrics, lineage, pending) with the baseline beside it in the shared registry. A cloud
 * supplies only the calls it differs in (`CloudPush`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BaselineProfile } from '../baseline/profile.js';
import type { BuildRef } from '../packaging/index.js';
import { imageSource, pushImage, type ImageRegistry } from './image.js';
import type { ObjectRegistry } from './registry.js';
import type { PushOptions, PushResult, TargetContext, VersionInfo } from './types.js';
import { checkBuild, findSameBuild, newRecord, readMetrics, type CheckedBuild, type VersionRecordBase } from './versions.js';

/** What a cloud's registration learns: the version's name and what its record adds (locations…). */
export interface Registered<R extends VersionRecordBase> {
  version: string;
  fields: Omit<R, keyof VersionRecordBase>;
}

/** What is known when a cloud registers the version. */
export interface Registration<A> {
  checked: CheckedBuild;
  build: BuildRef;
  /** The pushed (or given) image URI. */
  image: string;
  /** What `uploadArtifact` returned. */
  artifact: A;
  /** The training code's metrics (metrics.json), when it wrote any. */
  metrics?: Record<string, unknown>;
  /** The build's baseline profile, when it has one. */
  baseline?: BaselineProfile;
  options: PushOptions;
  /** The shared part of the record once the version is named (for a cloud that copies it into tags). */
  record(version: string): VersionRecordBase;
}

/** The calls a cloud's push is made of. `A` is where the artifact went (a URI, a prefix…). */
export interface CloudPush<R extends VersionRecordBase, A> {
  /** The registry the version record and its baseline are written to. */
  registry: ObjectRegistry<R>;
  /** Every version registered so far, oldest first (for de-duplication). */
  records(): Promise<R[]>;
  /** The version as `status` and `push` show it. */
  info(record: R): VersionInfo;
  /** Where the image is pushed when `--image` is not given. */
  images(): Promise<ImageRegistry>;
  /** Storage made ready (a bucket created…) before the first upload. */
  prepare?(): Promise<void>;
  /** Upload the model (content-addressed: an identical model is uploaded once). */
  uploadArtifact(checked: CheckedBuild, build: BuildRef): Promise<A>;
  /** Register the version with the cloud's own registry (a model package, a model version…). */
  register(registration: Registration<A>): Promise<Registered<R>>;
  /** The line printed once registered (`registered v3 as …`). */
  registeredMessage?(record: R): string;
}

/** Register a build as a new version; an identical build (same model digest, build and image) returns the version holding it. */
export async function pushVersion<R extends VersionRecordBase & { image: string }, A>(
  ctx: TargetContext,
  cloud: CloudPush<R, A>,
  build: BuildRef,
  options: PushOptions,
): Promise<PushResult> {
  const checked = await checkBuild(build);
  const same = findSameBuild(await cloud.records(), build, checked.digest, { wanted: options.image, of: (x) => x.image });
  if (same) {
    ctx.output.info(`${same.version} already holds build ${build.id}; nothing pushed`);
    return { version: cloud.info(same), created: false };
  }

  // Know where the image comes from before uploading anything.
  const images = options.image ? undefined : await cloud.images();
  const source = images ? await imageSource(images, build, { env: ctx.env, ...(options.builder && { builder: options.builder }) }) : { uri: options.image! };
  await cloud.prepare?.();
  const artifact = await cloud.uploadArtifact(checked, build);
  const image = 'uri' in source ? source.uri : await pushImage(images!, build, source, { reporter: ctx.output, env: ctx.env });

  const metrics = readMetrics(ctx.manifest, build);
  const baseline = readBaseline(build, checked);
  const createdAt = ctx.now().toISOString();
  const shared = (version: string) => newRecord(version, checked, build, options, { createdAt, ...(metrics && { metrics }) });
  const { version, fields } = await cloud.register({
    checked,
    build,
    image,
    artifact,
    options,
    record: shared,
    ...(metrics && { metrics }),
    ...(baseline && { baseline }),
  });
  if (baseline) await cloud.registry.putJson(cloud.registry.keys.versionFile(version, 'baseline.json'), baseline);
  const record = { ...shared(version), ...fields } as R;
  await cloud.registry.writeRecord(record);
  ctx.output.info(cloud.registeredMessage?.(record) ?? `registered ${version}`);
  return { version: cloud.info(record), created: true };
}

/** The build's baseline profile (build.json names it; `baseline.json` by default), when it has one. */
function readBaseline(build: BuildRef, checked: CheckedBuild): BaselineProfile | undefined {
  const file = path.join(build.dir, checked.info.baseline ?? 'baseline.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BaselineProfile) : undefined;
}
