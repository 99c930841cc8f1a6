/**
 * A stand-in for the container Vertex AI runs for a deployed model: the serving app, for real, with
 * the environment Vertex gives a custom container (AIP_HTTP_PORT, AIP_HEALTH_ROUTE,
 * AIP_PREDICT_ROUTE, AIP_STORAGE_URI as a local copy of artifactUri, AIP_DEPLOYED_MODEL_ID,
 * AIP_ENDPOINT_ID, plus containerSpec.env). There is no image registry here, so the image's content is
 * taken from what `mlship push` stores beside the artifact: the build context is
 * `gs://…/builds/<id>/` and artifactUri is its `model/` folder — the same files the image is built
 * from, started with the build's one launch contract (../shared/container.ts).
 *
 * An LLM build runs the same way: its gateway starts llama-server on CPU in place of the GPU server
 * (one thread: ../shared/container.ts). The container has as long to become healthy as the model
 * version's `startupProbe` allows (initial delay + period × failure threshold), as on Vertex; without
 * one, 60 s.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { python as suitePython } from '../../helpers/cli.js';
import type { Container, ContainerRunner } from './grpc-fake.js';
import type { VertexHttpFake } from './http-fake.js';
import { startContainer } from '../shared/container.js';

/** How long a container without a startupProbe may take to answer its health route. */
const DEFAULT_STARTUP_MS = 60_000;

/** A runner that starts the serving app from the build context stored in the GCS fake. */
export function servingAppRunner(http: VertexHttpFake, python = suitePython): ContainerRunner {
  return async (version, deployedModelId, endpointId): Promise<Container> => {
    const spec = version.model.containerSpec ?? {};
    const artifact = /^gs:\/\/([^/]+)\/(.+\/)model\/$/.exec(version.model.artifactUri ?? '');
    if (!artifact) throw new Error(`artifactUri ${version.model.artifactUri} is not gs://…/builds/<id>/model/ as mlship pushes it`);
    const bucket = http.buckets.get(artifact[1]!)!;
    const dir = mkdtempSync(path.join(tmpdir(), 'vertex-fake-container-'));
    for (const [name, o] of bucket.objects) {
      if (!name.startsWith(artifact[2]!)) continue;
      const file = path.join(dir, name.slice(artifact[2]!.length));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, o.data);
    }
    const predictRoute = spec.predictRoute || `/v1/endpoints/${endpointId}/deployedModels/${deployedModelId}:predict`;
    const healthRoute = spec.healthRoute || `/v1/endpoints/${endpointId}/deployedModels/${deployedModelId}`;
    const probe = spec.startupProbe;
    const startupMs = probe ? ((probe.initialDelaySeconds ?? 0) + (probe.periodSeconds || 10) * (probe.failureThreshold || 3)) * 1000 : DEFAULT_STARTUP_MS;
    try {
      const container = await startContainer({
        buildDir: dir,
        logDir: path.join(dir, 'logs'),
        healthRoute,
        timeoutMs: startupMs,
        python,
        env: (port) => ({
          ...Object.fromEntries((spec.env ?? []).map((e: { name: string; value: string }) => [e.name, e.value])),
          AIP_HTTP_PORT: String(port),
          AIP_HEALTH_ROUTE: healthRoute,
          AIP_PREDICT_ROUTE: predictRoute,
          AIP_STORAGE_URI: path.join(dir, 'model'),
          AIP_DEPLOYED_MODEL_ID: deployedModelId,
          AIP_ENDPOINT_ID: endpointId,
        }),
      });
      const stop = async (): Promise<void> => {
        await container.stop();
        rmSync(dir, { recursive: true, force: true });
      };
      return { url: container.url, predictRoute, healthRoute, stop };
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      const why = probe ? "the model's startupProbe" : 'no startupProbe: the default';
      throw new Error(`the model's container did not start (health wait ${startupMs / 1000} s, ${why}): ${(error as Error).message}`);
    }
  };
}
