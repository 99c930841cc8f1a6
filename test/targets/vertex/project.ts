/**
 * A copy of the example project set up for the Vertex target against the fakes: `target: vertex` and
 * the `targets.vertex` block `npm run fake -- vertex` prints (api_endpoint pointing at the fake).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { copyExample, python } from '../../helpers/cli.js';
import { startVertexFakes, type VertexFakes } from '../../doubles/vertex/run-fake.js';

export interface VertexProject {
  dir: string;
  manifestFile: string;
  fakes: VertexFakes;
  /** The environment the CLI runs with: the fake's variables, no real Google credentials. */
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** The example, pointed at freshly started Vertex fakes; `extra` is appended to the manifest. */
export async function vertexProject(options: { serve?: boolean; extra?: string; pollsUntilDone?: number } = {}): Promise<VertexProject> {
  const fakes = await startVertexFakes({
    ...(options.serve !== undefined && { serve: options.serve }),
    ...(options.pollsUntilDone !== undefined && { pollsUntilDone: options.pollsUntilDone }),
  });
  const project = copyExample();
  const manifestFile = path.join(project.dir, 'mlship.yaml');
  const block = fakes.targets.vertex as Record<string, string>;
  // Drift found in a test must not start a real retraining run (retraining.on_drift runs `mlship retrain`).
  const text = readFileSync(manifestFile, 'utf8')
    .replace(/^target: local$/m, 'target: vertex')
    .replace('on_drift: true', 'on_drift: false');
  writeFileSync(
    manifestFile,
    `${text}targets:\n  vertex: { ${Object.entries(block)
      .map(([k, v]) => `${k}: "${v}"`)
      .join(', ')} }\n${options.extra ?? ''}`,
  );
  return {
    dir: project.dir,
    manifestFile,
    fakes,
    env: { ...fakes.env, MLSHIP_PYTHON: python, GOOGLE_APPLICATION_CREDENTIALS: path.join(project.dir, 'no-such-credentials.json') },
    async cleanup() {
      await fakes.stop();
      project.cleanup();
    },
  };
}
