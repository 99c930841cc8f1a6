/**
 * The Vertex AI doubles, for `npm run fake -- vertex` and the tests: the gRPC control plane
 * (vertex/grpc-fake.ts), and on the same port the HTTP APIs beside it — Cloud Storage, BigQuery,
 * Cloud Monitoring and the REST predict route (vertex/http-fake.ts) — with deployed models served by
 * the real serving app (vertex/container.ts). What they check and why: vertex/CONTRACT.md.
 */
import type { RunningFake } from '../run.js';
import { servingAppRunner } from './container.js';
import { VertexGrpcFake, type FakeOptions } from './grpc-fake.js';
import { VertexHttpFake } from './http-fake.js';

export const FAKE_PROJECT = 'mlship-demo';
export const FAKE_REGION = 'us-central1';

export interface VertexFakes extends RunningFake {
  grpc: VertexGrpcFake;
  http: VertexHttpFake;
  /** `http://127.0.0.1:PORT`: gRPC and HTTP on one port. */
  url: string;
}

/** Start every Vertex double; `serve: false` deploys without starting serving apps (control-plane tests). */
export async function startVertexFakes(options: Partial<FakeOptions> & { serve?: boolean } = {}): Promise<VertexFakes> {
  const project = options.project ?? FAKE_PROJECT;
  const location = options.location ?? FAKE_REGION;
  let http: VertexHttpFake | undefined;
  const grpc = new VertexGrpcFake({
    project,
    location,
    pollsUntilDone: options.pollsUntilDone ?? 2,
    gcsExists: (uri) => http!.gcsExists(uri),
    gcsBucketLocation: (bucket) => http!.buckets.get(bucket)?.location,
    ...(options.serve !== false && { runner: (...args) => servingAppRunner(http!)(...args) }),
  });
  http = new VertexHttpFake(grpc, project);
  const grpcPort = await grpc.start();
  const port = await http.start(grpcPort);
  const url = `http://127.0.0.1:${port}`;
  return {
    grpc,
    http,
    url,
    env: {
      GOOGLE_CLOUD_PROJECT: project,
      STORAGE_EMULATOR_HOST: url,
      BIGQUERY_EMULATOR_HOST: `${url}/bigquery/v2`,
      MONITORING_EMULATOR_HOST: url,
    },
    targets: { vertex: { project, region: location, service_account: `mlship-serving@${project}.iam.gserviceaccount.com`, api_endpoint: url } },
    async stop() {
      await http!.stop();
      await grpc.stop();
    },
  };
}

/** `npm run fake -- vertex`. */
export function start(): Promise<RunningFake> {
  return startVertexFakes();
}
