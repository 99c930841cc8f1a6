/**
 * A stand-in for the container Vertex AI runs for a deployed model: the serving app, for real, with
 * the environment Vertex gives a custom container (AIP_HTTP_PORT, AIP_HEALTH_ROUTE,
 * AIP_PREDICT_ROUTE, AIP_STORAGE_URI as a local copy of artifactUri, AIP_DEPLOYED_MODEL_ID,
 * AIP_ENDPOINT_ID, plus containerSpec.env). There is no image registry here, so the image's content is
 * taken from what `mlship push` stores beside the artifact: the build context is
 * `gs://…/builds/<id>/` and artifactUri is its `model/` folder — the same files the image is built
 * from, started with the build's one launch contract (src/packaging/launch.ts).
 *
 * An LLM build runs the same way: its gateway starts llama-server on CPU in place of the GPU server
 * (MLSHIP_LLAMA_SERVER from this process's environment, one thread unless MLSHIP_LLAMA_THREADS says
 * otherwise: a test machine's cores are shared). The container has as long to become healthy as the
 * model version's `startupProbe` allows (initial delay + period × failure threshold), as on Vertex;
 * without one, 60 s.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serverCommand } from '../../../src/packaging/launch.js';
import { freePort } from '../../../src/targets/local/processes.js';
import { python as suitePython } from '../../helpers/cli.js';
import type { Container, ContainerRunner } from './grpc-fake.js';
import type { VertexHttpFake } from './http-fake.js';

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
    const port = await freePort();
    const predictRoute = spec.predictRoute || `/v1/endpoints/${endpointId}/deployedModels/${deployedModelId}:predict`;
    const healthRoute = spec.healthRoute || `/v1/endpoints/${endpointId}/deployedModels/${deployedModelId}`;
    const cmd = serverCommand(python, dir, { port, host: '127.0.0.1', logDir: path.join(dir, 'logs') });
    const env = {
      ...process.env,
      ...cmd.env,
      MLSHIP_LLAMA_THREADS: process.env.MLSHIP_LLAMA_THREADS ?? '1',
      ...Object.fromEntries((spec.env ?? []).map((e: { name: string; value: string }) => [e.name, e.value])),
      AIP_HTTP_PORT: String(port),
      AIP_HEALTH_ROUTE: healthRoute,
      AIP_PREDICT_ROUTE: predictRoute,
      AIP_STORAGE_URI: path.join(dir, 'model'),
      AIP_DEPLOYED_MODEL_ID: deployedModelId,
      AIP_ENDPOINT_ID: endpointId,
    };
    const child = spawn(cmd.command, cmd.args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const url = `http://127.0.0.1:${port}`;
    const stop = async (): Promise<void> => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    };
    const probe = spec.startupProbe;
    const startupMs = probe ? ((probe.initialDelaySeconds ?? 0) + (probe.periodSeconds || 10) * (probe.failureThreshold || 3)) * 1000 : DEFAULT_STARTUP_MS;
    const deadline = Date.now() + startupMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        await stop();
        throw new Error(`the model's container exited with code ${child.exitCode}: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
      }
      const ok = await fetch(`${url}${healthRoute}`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return { url, predictRoute, healthRoute, stop };
      await new Promise((r) => setTimeout(r, 100));
    }
    await stop();
    throw new Error(
      `the model container did not become healthy within ${startupMs / 1000} s (${probe ? "the model's startupProbe" : 'no startupProbe: the default'}): ${stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
  };
}
