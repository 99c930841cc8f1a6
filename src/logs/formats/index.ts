/**
 * The log-format registry: every prediction-log format mlship reads, by name. A target that writes a
 * new format adds a file beside these and one line here; its descriptor lists the formats its
 * `predictionLogs` hands out. Readers, the join and drift-check's worker threads look formats up here.
 */
import type { LogFormat } from '../format.js';
import { azureCollectorFormat } from './azure.js';
import { mlshipLogFormat } from './local.js';
import { sagemakerCaptureFormat } from './sagemaker.js';
import { vertexLoggingFormat } from './vertex.js';

/** Every format, in detection order (mlship's own first). */
export const ALL_LOG_FORMATS: readonly LogFormat[] = [mlshipLogFormat, sagemakerCaptureFormat, vertexLoggingFormat, azureCollectorFormat];

/** Every format by name. */
export const LOG_FORMATS: ReadonlyMap<string, LogFormat> = new Map(ALL_LOG_FORMATS.map((f) => [f.name, f] as const));

/** A log format by name; an unknown name is a bug in the target that handed it out. */
export function logFormat(name: string): LogFormat {
  const format = LOG_FORMATS.get(name);
  if (!format) throw new Error(`no log format named ${name} (known: ${[...LOG_FORMATS.keys()].join(', ')})`);
  return format;
}
