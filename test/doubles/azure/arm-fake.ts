/**
 * A fake Azure Resource Manager for one Azure ML workspace, over HTTPS (a throwaway certificate,
 * `tls.ts`), speaking the wire protocol the Azure SDK pipeline speaks:
 * - every ML request is matched to its operation in the published contract (`../contract/`) and its
 *   path, query and body validated (Ajv, polymorphism by discriminator); a request the real service
 *   would refuse is answered 400 with ARM's error shape and recorded in `violations`, as is any call
 *   outside the contract. `calls` records each call's operation and api-version.
 * - long-running operations as ARM runs them: PUT of endpoints, deployments and schedules answers
 *   201 + `Azure-AsyncOperation` (polled until Succeeded/Failed), DELETE answers 202 + `Location`.
 * - a deployment is provisioned for real: its model version's folder is downloaded from the
 *   datastore (Azurite) into `azureml-models/<name>/<version>/`, and its environment's image is run
 *   the way a managed online endpoint runs a custom container: the serving app of the build the model
 *   version records (its `mlship.build` tag; else the image's tag: `<buildsDir>/<id>`; run by ../shared/container.ts), `AZUREML_MODEL_DIR` set, probed on the environment's
 *   `inferenceConfig` readiness route. A container that does not get ready fails the deployment, with
 *   its output in `getLogs`.
 * - a data plane (plain HTTP, `dataUrl`): the App Service managed-identity token endpoint that
 *   `DefaultAzureCredential` uses (tokens are unsigned JWTs with issuer and audience, which Azurite's
 *   `--oauth basic` checks), and each endpoint's scoring URL, which checks the endpoint key, splits
 *   traffic by the endpoint's `traffic` map (or `azureml-model-deployment`), forwards (with the
 *   caller's `x-request-id`, which becomes the collector's `correlationid`) to the
 *   deployment's scoring route and, like the model data collector, appends `model_inputs` and
 *   `model_outputs` JSON lines to the datastore.
 * - the workspace and its container registry (shapes checked by hand: not in the ML contract):
 *   `Workspaces_Get` (with `containerRegistry`, or without: `workspaceRegistry = undefined`),
 *   `Registries_Get` (2023-07-01, `loginServer` = this server's host) and, acting as that login
 *   server, ACR's `POST /oauth2/exchange` (form fields and an ARM-audience AAD token checked; answers
 *   a refresh token, recorded in `exchanges`, or the injected `exchangeRefusal`).
 * - Azure Monitor: `Microsoft.Insights/metrics` (RequestsPerMinute by deployment and status class,
 *   RequestLatency_P95) computed from the traffic the scoring URL saw, and
 *   `Microsoft.Insights/autoscalesettings` stored as sent (shape checked by hand: not in the contract).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlobServiceClient, newPipeline, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { ContainerStartError, startContainer, type RunningContainer } from '../shared/container.js';
import { freePort } from '../../../src/targets/local/processes.js';
import { changesContent } from './memory.js';
import { matchOperation, validateRequest } from './contract/spec-validator.js';
import { ACCOUNT } from './azurite.js';
import { trustingHttpClient, type TestCertificate } from './tls.js';
import { pythonShims } from '../../helpers/cli.js';

const EMULATOR_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const SUBSCRIPTION = '00000000-0000-4000-8000-000000000001';
export const RESOURCE_GROUP = 'mlship-rg';
export const WORKSPACE = 'mlship-ws';
export const LOCATION = 'eastus';
export const TENANT = '00000000-0000-4000-8000-0000000000aa';
/** Api-versions the fake accepts: the SDK's (2.1.1) and the one mlship pins for raw calls. */
export const API_VERSIONS = { sdk: '2022-10-01', raw: '2026-07-01', metrics: '2023-10-01', autoscale: '2022-10-01', registry: '2023-07-01' } as const;
/** The workspace's container registry (Azure creates one lazily; `ArmFake.workspaceRegistry` can take it away). */
export const REGISTRY_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.ContainerRegistry/registries/mlshipfakeacr`;

/** One ACR token exchange as the fake's login server saw it. */
export interface Exchange {
  service: string;
  tenant?: string;
  /** Whether an `Authorization` header came along (the AAD token belongs in the form only). */
  authorization: boolean;
  /** The refresh token handed out (the docker password), when the exchange succeeded. */
  refreshToken?: string;
}

export interface Violation {
  method: string;
  url: string;
  operation?: string;
  problems: string[];
}

export interface Call {
  method: string;
  operation: string;
  apiVersion: string | null;
}

interface Resource {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  sku?: unknown;
  kind?: string;
  identity?: unknown;
  properties: Record<string, unknown>;
  systemData?: Record<string, string>;
}

interface AsyncOp {
  status: 'InProgress' | 'Succeeded' | 'Failed';
  polls: number;
  work: Promise<void>;
  error?: { code: string; message: string };
}

interface Running {
  container: RunningContainer;
  /** What getLogs shows: the pull, then the container's output. */
  log(): string;
}

interface Hit {
  ts: number;
  deployment: string;
  status: number;
  ms: number;
}

export interface ArmFakeOptions {
  tls: TestCertificate;
  /** Azurite's blob host (`127.0.0.1:PORT`). */
  blobHost: string;
  /** Where the fake finds a deployment's build: `<buildsDir>/<build id>`. */
  buildsDir: string;
  python: string;
}

export class ArmFake {
  readonly violations: Violation[] = [];
  readonly calls: Call[] = [];
  readonly hits: Hit[] = [];
  /** Scoring answers 500 for these deployments (a broken version). */
  readonly failingDeployments = new Set<string>();
  /** Provisioning of these deployments fails with this error (quota, image pull…). */
  readonly provisioningFailures = new Map<string, { code: string; message: string }>();
  /** The workspace's `containerRegistry` (an ARM id); undefined: the workspace has none yet. */
  workspaceRegistry: string | undefined = REGISTRY_ID;
  /** The ACR token exchange answers this error (e.g. 401 UNAUTHORIZED) instead of a refresh token. */
  exchangeRefusal?: { status: number; code: string; message: string };
  readonly exchanges: Exchange[] = [];
  armUrl = '';
  dataUrl = '';
  /** The datastore's container in Azurite. */
  readonly container = 'azureml-blobstore-5b7c1f2e-0000-4000-8000-00000000f00d';
  readonly identityHeader = randomUUID();
  private readonly resources = new Map<string, Resource>();
  private readonly ops = new Map<string, AsyncOp>();
  private readonly running = new Map<string, Running>();
  private readonly work = mkdtempSync(path.join(tmpdir(), 'mlship-azure-fake-'));
  private arm?: Server;
  private data?: Server;
  private blobs!: ContainerClient;

  constructor(private readonly options: ArmFakeOptions) {}

  get workspaceId(): string {
    return `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/${WORKSPACE}`;
  }

  async start(): Promise<void> {
    // The storage SDK takes no CA option: its pipeline gets the trusting client (test code only).
    const pipeline = newPipeline(new StorageSharedKeyCredential(ACCOUNT, EMULATOR_KEY), { retryOptions: { maxTries: 2 } });
    (pipeline as unknown as { _coreHttpClient: unknown })._coreHttpClient = trustingHttpClient(this.options.tls.cert);
    const service = new BlobServiceClient(`https://${this.options.blobHost}/${ACCOUNT}`, pipeline);
    this.blobs = service.getContainerClient(this.container);
    await this.blobs.createIfNotExists();
    this.seedDatastore();
    const armPort = await freePort();
    const dataPort = await freePort();
    this.arm = createHttpsServer(
      { cert: this.options.tls.cert, key: this.options.tls.key },
      (req, res) => void this.handleArm(req, res).catch((e) => this.fail(res, e)),
    );
    this.data = createHttpServer((req, res) => void this.handleData(req, res).catch((e) => this.fail(res, e)));
    await new Promise<void>((r) => this.arm!.listen(armPort, '127.0.0.1', r));
    await new Promise<void>((r) => this.data!.listen(dataPort, '127.0.0.1', r));
    this.armUrl = `https://127.0.0.1:${armPort}`;
    this.dataUrl = `http://127.0.0.1:${dataPort}`;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.container.stop()));
    this.running.clear();
    await Promise.all([this.arm, this.data].map((s) => new Promise((r) => (s ? s.close(r) : r(undefined)))));
    rmSync(this.work, { recursive: true, force: true });
  }

  /** The registry's login server: this fake (its `/oauth2/exchange`) at 127.0.0.1:port, as `Registries_Get` reports it. */
  get loginServer(): string {
    return new URL(this.armUrl).host;
  }

  /** Environment for mlship: the managed-identity endpoint DefaultAzureCredential finds, the CA to trust. */
  env(): Record<string, string> {
    return {
      AZURE_SUBSCRIPTION_ID: SUBSCRIPTION,
      IDENTITY_ENDPOINT: `${this.dataUrl}/msi/token`,
      IDENTITY_HEADER: this.identityHeader,
      NODE_EXTRA_CA_CERTS: this.options.tls.certFile,
    };
  }

  /** The `targets.azure` block pointing mlship at this fake. */
  manifestBlock(): Record<string, string> {
    return { resource_group: RESOURCE_GROUP, workspace: WORKSPACE, region: LOCATION, arm_endpoint: this.armUrl };
  }

  /** The primary key of an endpoint (what `az ml online-endpoint get-credentials` shows). */
  endpointKey(name: string): string | undefined {
    const e = this.resource(`onlineEndpoints/${name}`);
    return e && this.keyOf(e);
  }

  /** Every data-collector line in the datastore for an endpoint, by collection. */
  async collectedLines(endpoint: string): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for await (const blob of this.blobs.listBlobsFlat({ prefix: `modelDataCollector/${endpoint}/` })) {
      const collection = blob.name.split('/')[3]!;
      const text = (await this.blobs.getBlobClient(blob.name).downloadToBuffer()).toString('utf8');
      (out[collection] ??= []).push(...text.split('\n').filter(Boolean));
    }
    return out;
  }

  /** The names of the datastore's blobs under a prefix. */
  async blobNames(prefix: string): Promise<string[]> {
    const names: string[] = [];
    for await (const blob of this.blobs.listBlobsFlat({ prefix })) names.push(blob.name);
    return names;
  }

  /** Write a blob of the datastore's container (what a user uploads: labels…). */
  async putBlob(name: string, text: string): Promise<void> {
    await this.blobs.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
  }

  /** A blob of the datastore's container, whole. */
  async blob(name: string): Promise<Buffer> {
    return this.blobs.getBlobClient(name).downloadToBuffer();
  }

  /** A resource as stored (tests inspect what mlship created). */
  resource(relativeId: string): Resource | undefined {
    return this.resources.get(`${this.workspaceId}/${relativeId}`.toLowerCase());
  }

  /** Every stored resource under a relative prefix (`onlineEndpoints/churn/deployments/`). */
  list(relativePrefix: string): Resource[] {
    const prefix = `${this.workspaceId}/${relativePrefix}`.toLowerCase();
    return [...this.resources.entries()].filter(([k]) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map(([, v]) => v);
  }

  // ----------------------------------------------------------------------------------------------
  // ARM

  private async handleArm(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.armUrl);
    const raw = await readBody(req);
    const method = req.method ?? 'GET';
    // The registry's data plane (the same server acts as the login server): no ARM token here.
    if (url.pathname === '/oauth2/exchange') return this.exchange(req, res, method, url, raw);
    const auth = req.headers.authorization ?? '';
    const claims = parseJwt(auth.replace(/^Bearer /, ''));
    if (!claims || claims.aud !== this.armUrl) {
      return send(res, 401, {
        error: {
          code: 'InvalidAuthenticationToken',
          message: `The access token is missing or has the wrong audience (want ${this.armUrl}, got ${String(claims?.aud)})`,
        },
      });
    }
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return this.reject(res, method, url, undefined, ['body: not JSON']);
      }
    }
    const apiVersion = url.searchParams.get('api-version');
    const opStatus = /\/providers\/Microsoft\.MachineLearningServices\/locations\/[^/]+\/(mfeOperationsStatus|mfeOperationResults)\/([^/]+)$/i.exec(
      url.pathname,
    );
    if (opStatus && method === 'GET') return this.operationStatus(res, opStatus[1]!.endsWith('Status') ? 'Status' : 'Result', opStatus[2]!);
    if (/\/providers\/Microsoft\.Insights\/metrics$/i.test(url.pathname)) return this.metrics(req, res, url);
    if (/\/providers\/Microsoft\.Insights\/autoscalesettings\/[^/]+$/i.test(url.pathname)) return this.autoscale(res, method, url, body);
    if (/\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]+$/i.test(url.pathname) && method === 'GET') return this.workspace(res, url);
    if (/\/providers\/Microsoft\.ContainerRegistry\/registries\/[^/]+$/i.test(url.pathname) && method === 'GET') return this.registry(res, url);

    const match = matchOperation(method, url.pathname);
    if (!match) return this.reject(res, method, url, undefined, [`${method} ${url.pathname}: no such operation in the contract`], 404);
    this.calls.push({ method, operation: match.op.operationId, apiVersion });
    const problems = validateRequest(match.op, match.params, url.searchParams, body);
    if (apiVersion && apiVersion !== API_VERSIONS.sdk && apiVersion !== API_VERSIONS.raw)
      problems.push(`api-version ${apiVersion} is neither the SDK's ${API_VERSIONS.sdk} nor ${API_VERSIONS.raw}`);
    if (problems.length > 0) return this.reject(res, method, url, match.op.operationId, problems);
    const p = match.params;
    if (p.subscriptionId !== SUBSCRIPTION)
      return send(res, 404, { error: { code: 'SubscriptionNotFound', message: `The subscription '${p.subscriptionId}' could not be found.` } });
    if (p.resourceGroupName!.toLowerCase() !== RESOURCE_GROUP)
      return send(res, 404, { error: { code: 'ResourceGroupNotFound', message: `Resource group '${p.resourceGroupName}' could not be found.` } });
    if (p.workspaceName!.toLowerCase() !== WORKSPACE) {
      return send(res, 404, {
        error: {
          code: 'ResourceNotFound',
          message: `The Resource 'Microsoft.MachineLearningServices/workspaces/${p.workspaceName}' under resource group '${p.resourceGroupName}' was not found.`,
        },
      });
    }
    const id = url.pathname.replace(/\/(listKeys|token|getLogs|startPendingUpload|cancel)$/i, '');
    return this.dispatch(res, method, match.op.operationId, id, p, url, body as Resource | undefined);
  }

  private reject(res: ServerResponse, method: string, url: URL, operation: string | undefined, problems: string[], status = 400): void {
    this.violations.push({ method, url: url.pathname + url.search, operation, problems });
    send(res, status, {
      error: {
        code: status === 404 ? 'NoRegisteredProviderFound' : 'UserError',
        message: `Request does not match the contract of ${operation ?? 'any operation'}: ${problems[0]}`,
        details: problems.map((message) => ({ code: 'BadArgument', message })),
      },
    });
  }

  private async dispatch(
    res: ServerResponse,
    method: string,
    operation: string,
    id: string,
    p: Record<string, string>,
    url: URL,
    body: Resource | undefined,
  ): Promise<void> {
    const key = id.toLowerCase();
    const existing = this.resources.get(key);
    const kind = operation.split('_')[0]!;
    const verb = operation.split('_')[1]!;
    if (verb === 'Get') return existing ? send(res, 200, existing) : notFound(res, id);
    if (verb === 'List') return send(res, 200, { value: this.listUnder(key, url) });
    if (verb === 'Delete') return this.delete(res, kind, key, existing);
    switch (operation) {
      case 'OnlineEndpoints_ListKeys':
        return existing ? send(res, 200, { primaryKey: this.keyOf(existing), secondaryKey: `${this.keyOf(existing)}-2` }) : notFound(res, id);
      case 'OnlineEndpoints_GetToken':
        return existing ? send(res, 200, { accessToken: this.keyOf(existing), tokenType: 'Bearer', expiryTimeUtc: Date.now() + 3600_000 }) : notFound(res, id);
      case 'OnlineDeployments_GetLogs': {
        const tail = Number((body as { tail?: number } | undefined)?.tail ?? 100);
        const log = this.running.get(key)?.log() ?? this.logs.get(key) ?? '';
        return existing ? send(res, 200, { content: log.split('\n').slice(-tail).join('\n') }) : notFound(res, id);
      }
      case 'Jobs_Cancel':
        if (!existing) return notFound(res, id);
        existing.properties.status = 'Canceled';
        return send(res, 200, {});
    }
    if (verb === 'CreateOrUpdate') return this.put(res, kind, key, id, p, body!, existing);
    if (verb === 'Update' && existing) {
      // PATCH: tags, sku (capacity) and identity merge into the resource (202 + Location).
      const patch = body as Partial<Resource>;
      if (patch.tags) existing.tags = { ...existing.tags, ...patch.tags };
      if (patch.sku) existing.sku = patch.sku;
      return this.startOp(res, 'location', id, async () => undefined, 202);
    }
    return send(res, 405, { error: { code: 'MethodNotAllowed', message: `${method} ${operation}` } });
  }

  private listUnder(key: string, url: URL): Resource[] {
    let items = [...this.resources.entries()].filter(([k]) => k.startsWith(`${key}/`) && !k.slice(key.length + 1).includes('/')).map(([, v]) => v);
    if (url.searchParams.get('isDefault') === 'true') items = items.filter((r) => r.properties.isDefault === true);
    return items;
  }

  private put(res: ServerResponse, kind: string, key: string, id: string, p: Record<string, string>, body: Resource, existing: Resource | undefined): void {
    const name = id.split('/').pop()!;
    const type = `Microsoft.MachineLearningServices/workspaces/${id.split('/').slice(-2, -1)[0]}`;
    const now = new Date().toISOString();
    const resource: Resource = {
      ...body,
      id,
      name,
      type,
      properties: { ...body.properties },
      systemData: { createdAt: existing?.systemData?.createdAt ?? now, lastModifiedAt: now },
    };
    if (kind === 'OnlineEndpoints') {
      const traffic = (body.properties.traffic ?? {}) as Record<string, number>;
      const sum = Object.values(traffic).reduce((a, b) => a + b, 0);
      if (Object.keys(traffic).length > 0 && sum !== 100)
        return this.reject(res, 'PUT', new URL(id, this.armUrl), 'OnlineEndpoints_CreateOrUpdate', [`traffic values sum to ${sum}, not 100`]);
      for (const d of Object.keys(traffic)) {
        if (!this.resources.has(`${key}/deployments/${d}`.toLowerCase()) && traffic[d]! > 0) {
          return send(res, 400, {
            error: { code: 'BadArgument', message: `Deployment '${d}' does not exist in endpoint '${name}'; traffic can only go to existing deployments.` },
          });
        }
      }
      resource.properties.keys = undefined;
      resource.properties.scoringUri = `${this.dataUrl}/endpoints/${name}/score`;
      resource.properties.swaggerUri = `${this.dataUrl}/endpoints/${name}/swagger.json`;
      resource.properties.provisioningState = existing ? 'Updating' : 'Creating';
      if (!this.keys.has(key)) this.keys.set(key, randomUUID().replace(/-/g, ''));
      delete resource.properties.keys;
      this.resources.set(key, resource);
      return this.startOp(
        res,
        'async',
        id,
        async () => {
          resource.properties.provisioningState = 'Succeeded';
        },
        existing ? 200 : 201,
      );
    }
    if (kind === 'OnlineDeployments') {
      const endpointKey = key.replace(/\/deployments\/[^/]+$/, '');
      if (!this.resources.has(endpointKey)) return notFound(res, endpointKey);
      resource.properties.provisioningState = existing ? 'Updating' : 'Creating';
      this.resources.set(key, resource);
      return this.startOp(
        res,
        'async',
        id,
        async () => {
          try {
            await this.provision(key, resource);
            resource.properties.provisioningState = 'Succeeded';
          } catch (error) {
            resource.properties.provisioningState = 'Failed';
            throw error;
          }
        },
        existing ? 200 : 201,
      );
    }
    if (kind === 'Schedules') {
      resource.properties.provisioningState = existing ? 'Updating' : 'Creating';
      this.resources.set(key, resource);
      return this.startOp(
        res,
        'async',
        id,
        async () => {
          resource.properties.provisioningState = 'Succeeded';
        },
        existing ? 200 : 201,
      );
    }
    if (kind === 'Jobs') {
      if (existing) return send(res, 409, { error: { code: 'UserError', message: `A job with this name already exists: ${name}` } });
      resource.properties.status = 'Running';
      this.resources.set(key, resource);
      void this.runJob(resource);
      return send(res, 201, resource);
    }
    if (kind === 'ModelVersions' || kind === 'EnvironmentVersions' || kind === 'CodeVersions') {
      if (existing) {
        // Asset versions are immutable apart from tags, description, stage and archive state.
        if (changesContent(existing, body))
          return send(res, 409, {
            error: {
              code: 'UserError',
              message: `Conflict: ${kind.replace('Versions', '')} version ${p.name}:${p.version} already exists and its content cannot change.`,
            },
          });
        resource.properties = { ...existing.properties, ...body.properties, provisioningState: 'Succeeded' };
        this.resources.set(key, resource);
        return send(res, 200, resource);
      }
      this.registerVersion(key, resource);
      return send(res, 201, resource);
    }
    this.resources.set(key, resource);
    return send(res, existing ? 200 : 201, resource);
  }

  /** Store a new asset version and keep its container's latest version. */
  private registerVersion(key: string, resource: Resource): void {
    resource.properties.provisioningState = 'Succeeded';
    this.resources.set(key, resource);
    const containerKey = key.replace(/\/versions\/[^/]+$/, '');
    const container = this.resources.get(containerKey);
    if (container) container.properties.latestVersion = resource.name;
    else
      this.resources.set(containerKey, {
        id: resource.id.replace(/\/versions\/[^/]+$/, ''),
        name: containerKey.split('/').pop()!,
        type: resource.type.replace(/\/versions$/, ''),
        properties: { latestVersion: resource.name },
      });
  }

  /**
   * A command job, run as Azure ML compute runs it: the code asset downloaded as the working folder,
   * `${{outputs.<name>}}` in the command replaced by a local output folder, the command under
   * `/bin/sh` with the job's environment variables (the environment's image is the serving build's
   * Python: `python`/`python3` first on the PATH run the suite's interpreter, test/helpers/cli.ts); then each output with `assetName` uploaded to the
   * datastore (`azureml/<job>/<output>/`) and registered as the next version of that model, with
   * `jobName`. The job stays Running until the command ends.
   */
  private async runJob(job: Resource): Promise<void> {
    const props = job.properties as {
      command: string;
      codeId?: string;
      environmentVariables?: Record<string, string>;
      outputs?: Record<string, { jobOutputType: string; assetName?: string; description?: string }>;
    };
    const dir = path.join(this.work, 'jobs', job.name);
    const finish = (status: 'Completed' | 'Failed', log: string) => {
      job.properties.status = status;
      this.jobLogs.set(job.name, log);
    };
    try {
      const code = path.join(dir, 'code');
      mkdirSync(code, { recursive: true });
      const codeRes = this.resourceById(props.codeId);
      if (props.codeId && !codeRes) return finish('Failed', `code ${props.codeId} not found`);
      if (codeRes) {
        const prefix = datastorePath(codeRes.properties.codeUri as string);
        for await (const blob of this.blobs.listBlobsFlat({ prefix })) {
          const target = path.join(code, blob.name.slice(prefix.length).replace(/^\/+/, ''));
          mkdirSync(path.dirname(target), { recursive: true });
          await this.blobs.getBlobClient(blob.name).downloadToFile(target);
        }
      }
      const bin = path.join(dir, 'bin');
      pythonShims(bin, this.options.python);
      let command = props.command;
      const outputs: [string, string, { assetName?: string; description?: string }][] = [];
      for (const [name, spec] of Object.entries(props.outputs ?? {})) {
        const folder = path.join(dir, 'outputs', name);
        mkdirSync(folder, { recursive: true });
        command = command.split(`\${{outputs.${name}}}`).join(folder);
        outputs.push([name, folder, spec]);
      }
      const env = { ...process.env, ...props.environmentVariables, PATH: `${bin}:${process.env.PATH}`, AZUREML_RUN_ID: job.name };
      const { code: exit, log } = await new Promise<{ code: number | null; log: string }>((resolve) => {
        const child = spawn('/bin/sh', ['-c', command], { cwd: code, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (c) => resolve({ code: c, log: out }));
        child.on('error', (e) => resolve({ code: 127, log: e.message }));
      });
      if (exit !== 0) return finish('Failed', log);
      for (const [name, folder, spec] of outputs) {
        if (!spec.assetName) continue;
        const prefix = `azureml/${job.name}/${name}`;
        for (const rel of readdirSync(folder, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
          const full = path.join(rel.parentPath, rel.name);
          await this.blobs.getBlockBlobClient(`${prefix}/${path.relative(folder, full).split(path.sep).join('/')}`).uploadFile(full);
        }
        const versions = this.list(`models/${spec.assetName}/versions/`).map((v) => Number(v.name) || 0);
        const version = String(Math.max(0, ...versions) + 1);
        const id = `${this.workspaceId}/models/${spec.assetName}/versions/${version}`;
        const now = new Date().toISOString();
        this.registerVersion(id.toLowerCase(), {
          id,
          name: version,
          type: 'Microsoft.MachineLearningServices/workspaces/models/versions',
          properties: {
            modelUri: `azureml://subscriptions/${SUBSCRIPTION}/resourcegroups/${RESOURCE_GROUP}/workspaces/${WORKSPACE}/datastores/workspaceblobstore/paths/${prefix}/`,
            modelType: 'custom_model',
            jobName: job.name,
            description: spec.description ?? null,
            tags: {},
            isAnonymous: false,
            isArchived: false,
          },
          systemData: { createdAt: now, lastModifiedAt: now },
        });
      }
      finish('Completed', log);
    } catch (error) {
      finish('Failed', String((error as Error).stack ?? error));
    }
  }

  /** A job's output (the fake's stand-in for the job's user logs). */
  jobLog(name: string): string | undefined {
    return this.jobLogs.get(name);
  }

  private readonly jobLogs = new Map<string, string>();

  private delete(res: ServerResponse, kind: string, key: string, existing: Resource | undefined): void {
    if (!existing) return void send(res, 204, undefined);
    if (kind === 'Jobs' || kind === 'ModelVersions' || kind === 'ModelContainers') {
      this.resources.delete(key);
      return void send(res, 200, undefined);
    }
    existing.properties.provisioningState = 'Deleting';
    this.startOp(
      res,
      'location',
      existing.id,
      async () => {
        for (const k of [...this.resources.keys()]) {
          if (k === key || k.startsWith(`${key}/`)) {
            await this.running.get(k)?.container.stop();
            this.running.delete(k);
            this.resources.delete(k);
          }
        }
      },
      202,
    );
  }

  /** Start a long-running operation: 201/200 + Azure-AsyncOperation (PUT) or 202 + Location (PATCH, DELETE). */
  private startOp(res: ServerResponse, via: 'async' | 'location', id: string, run: () => Promise<void>, status: number): void {
    const opId = randomUUID();
    const op: AsyncOp = { status: 'InProgress', polls: 0, work: Promise.resolve() };
    op.work = run().then(
      () => void (op.status = 'Succeeded'),
      (e: { code?: string; message?: string }) => {
        op.status = 'Failed';
        op.error = { code: e.code ?? 'InternalServerError', message: e.message ?? String(e) };
      },
    );
    this.ops.set(opId, op);
    const base = `${this.armUrl}/subscriptions/${SUBSCRIPTION}/providers/Microsoft.MachineLearningServices/locations/${LOCATION}`;
    const query = `?api-version=${API_VERSIONS.raw}`;
    const headers: Record<string, string> = { 'x-ms-async-operation-timeout': 'PT1H', 'Retry-After': '1' };
    if (via === 'async') headers['Azure-AsyncOperation'] = `${base}/mfeOperationsStatus/${opId}${query}`;
    else headers.Location = `${base}/mfeOperationResults/${opId}${query}`;
    const stored = this.resources.get(id.toLowerCase());
    send(res, status, via === 'async' ? stored : undefined, headers);
  }

  private async operationStatus(res: ServerResponse, kind: string, opId: string): Promise<void> {
    const op = this.ops.get(opId);
    if (!op) return notFound(res, opId);
    // Always answer InProgress at least once, as ARM does, then wait for the work.
    op.polls += 1;
    if (op.polls > 1) await op.work;
    if (kind === 'Result') {
      if (op.status === 'InProgress')
        return send(res, 202, undefined, {
          Location: `${this.armUrl}/subscriptions/${SUBSCRIPTION}/providers/Microsoft.MachineLearningServices/locations/${LOCATION}/mfeOperationResults/${opId}?api-version=${API_VERSIONS.raw}`,
          'Retry-After': '1',
        });
      if (op.status === 'Failed') return send(res, 400, { error: op.error });
      return send(res, 200, undefined);
    }
    send(res, 200, { id: opId, name: opId, status: op.status, ...(op.error && { error: op.error }) });
  }

  // ----------------------------------------------------------------------------------------------
  // Provisioning a managed online deployment: download the model, run the image's serving app.

  private readonly logs = new Map<string, string>();
  private readonly keys = new Map<string, string>();

  private keyOf(endpoint: Resource): string {
    return this.keys.get(endpoint.id.toLowerCase()) ?? '';
  }

  private async provision(key: string, deployment: Resource): Promise<void> {
    const name = deployment.name;
    const injected = this.provisioningFailures.get(name);
    if (injected) throw injected;
    const props = deployment.properties;
    const envRes = this.resourceById(props.environmentId as string);
    const modelRes = this.resourceById(props.model as string);
    if (!envRes) throw { code: 'BadArgument', message: `Environment ${String(props.environmentId)} not found.` };
    if (!modelRes) throw { code: 'BadArgument', message: `Model ${String(props.model)} not found.` };
    const image = envRes.properties.image as string;
    // The image's content: the build the model version records (its `mlship.build` tag, as the Vertex
    // double takes it from what push stored), else the build the image's tag names. Any tag works.
    const recorded = (modelRes.properties.tags as Record<string, string> | undefined)?.['mlship.build'];
    const tag = /:([^:/]+)$/.exec(image)?.[1];
    const buildDir =
      [recorded, tag]
        .filter((id): id is string => Boolean(id))
        .map((id) => path.join(this.options.buildsDir, id))
        .find((dir) => existsSync(path.join(dir, 'serve.py'))) ?? '';
    if (!buildDir)
      throw {
        code: 'ImagePullFailed',
        message: `The fake cannot run image ${image}: no build ${recorded ?? tag ?? '(none recorded)'} under ${this.options.buildsDir}. Start the fake from the project folder that built it, or set MLSHIP_FAKE_BUILDS to its .mlship/build.`,
      };
    const inference = envRes.properties.inferenceConfig as
      | { readinessRoute: { path: string; port: number }; scoringRoute: { path: string; port: number } }
      | undefined;
    if (!inference) throw { code: 'BadArgument', message: 'A custom container environment needs inferenceConfig (liveness, readiness and scoring routes).' };

    // The model mount: <root>/azureml-models/<model name>/<version>/ holding the model folder's files.
    const [modelName, modelVersion] = [modelRes.id.split('/').slice(-3)[0]!, modelRes.name];
    const mount = path.join(this.work, name, 'azureml-models', modelName, modelVersion);
    mkdirSync(mount, { recursive: true });
    const prefix = datastorePath(modelRes.properties.modelUri as string);
    for await (const blob of this.blobs.listBlobsFlat({ prefix })) {
      const target = path.join(mount, blob.name.slice(prefix.length).replace(/^\/+/, ''));
      mkdirSync(path.dirname(target), { recursive: true });
      await this.blobs.getBlobClient(blob.name).downloadToFile(target);
    }

    await this.running.get(key)?.container.stop();
    this.running.delete(key);
    // The build run as Azure runs the image (../shared/container.ts: the one launch contract), with the
    // deployment's variables and the model mount; as long to get ready as its startup probe allows
    // (initial delay + period × failures), else 60 s.
    const startup = props.startupProbe as { initialDelay?: string; period?: string; failureThreshold?: number } | undefined;
    const startupMs = startup ? (isoSeconds(startup.initialDelay) + (isoSeconds(startup.period) || 10) * (startup.failureThreshold ?? 30)) * 1000 : 60_000;
    const pulled = `Pulling image ${image}\n`;
    try {
      const container = await startContainer({
        buildDir,
        logDir: path.join(this.work, name, 'logs'),
        healthRoute: inference.readinessRoute.path,
        timeoutMs: startupMs,
        python: this.options.python,
        env: () => ({
          ...(props.environmentVariables as Record<string, string> | undefined),
          AZUREML_MODEL_DIR: path.join(this.work, name, 'azureml-models'),
        }),
      });
      this.running.set(key, { container, log: () => pulled + container.log() });
    } catch (error) {
      this.logs.set(key, pulled + (error instanceof ContainerStartError ? error.log : String(error)));
      throw {
        code: 'ResourceNotReady',
        message: `User container has crashed or terminated: the readiness probe at ${inference.readinessRoute.path} never answered 200. Check the container logs (getLogs).`,
      };
    }
  }

  private resourceById(id: string | undefined): Resource | undefined {
    if (!id) return undefined;
    return this.resources.get(id.replace(/^azureml:/, '').toLowerCase());
  }

  private seedDatastore(): void {
    const id = `${this.workspaceId}/datastores/workspaceblobstore`;
    this.resources.set(id.toLowerCase(), {
      id,
      name: 'workspaceblobstore',
      type: 'Microsoft.MachineLearningServices/workspaces/datastores',
      properties: {
        datastoreType: 'AzureBlob',
        accountName: ACCOUNT,
        containerName: this.container,
        endpoint: this.options.blobHost,
        protocol: 'https',
        credentials: { credentialsType: 'AccountKey' },
        isDefault: true,
        serviceDataAccessAuthIdentity: 'None',
      },
    });
  }

  // ----------------------------------------------------------------------------------------------
  // Azure Monitor

  private metrics(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const apiVersion = url.searchParams.get('api-version');
    this.calls.push({ method: req.method ?? 'GET', operation: 'Metrics_List', apiVersion });
    const problems: string[] = [];
    if (apiVersion !== API_VERSIONS.metrics) problems.push(`api-version ${apiVersion}: the fake serves ${API_VERSIONS.metrics}`);
    const names = (url.searchParams.get('metricnames') ?? '').split(',').filter(Boolean);
    if (names.length === 0) problems.push('metricnames: required');
    const timespan = (url.searchParams.get('timespan') ?? '').split('/');
    const from = Date.parse(timespan[0] ?? '');
    const to = Date.parse(timespan[1] ?? '');
    if (Number.isNaN(from) || Number.isNaN(to)) problems.push(`timespan ${url.searchParams.get('timespan')}: want <ISO start>/<ISO end>`);
    const known = ['RequestsPerMinute', 'RequestLatency_P95', 'RequestLatency_P99', 'RequestLatency'];
    for (const n of names)
      if (!known.includes(n)) problems.push(`metricnames: ${n} is not a metric of Microsoft.MachineLearningServices/workspaces/onlineEndpoints`);
    if (problems.length > 0) return this.reject(res, 'GET', url, 'Metrics_List', problems);
    const filter = url.searchParams.get('$filter') ?? '';
    const deployment = /deployment eq '([^']+)'/.exec(filter)?.[1];
    const hits = this.hits.filter((h) => h.ts >= from && h.ts <= to && (!deployment || h.deployment === deployment));
    const endpointId = url.pathname.replace(/\/providers\/Microsoft\.Insights\/metrics$/i, '');
    const value = names.map((n) => {
      const series =
        n === 'RequestsPerMinute'
          ? ['2xx', '4xx', '5xx'].map((cls) => ({
              metadatavalues: [{ name: { value: 'statusCodeClass', localizedValue: 'statusCodeClass' }, value: cls }],
              data: [{ timeStamp: new Date(from).toISOString(), total: hits.filter((h) => `${Math.floor(h.status / 100)}xx` === cls).length }],
            }))
          : [
              {
                metadatavalues: [],
                data: [
                  {
                    timeStamp: new Date(from).toISOString(),
                    average: percentile(
                      hits.map((h) => h.ms),
                      n.endsWith('P99') ? 0.99 : 0.95,
                    ),
                  },
                ],
              },
            ];
      return {
        id: `${endpointId}/providers/Microsoft.Insights/metrics/${n}`,
        type: 'Microsoft.Insights/metrics',
        name: { value: n, localizedValue: n },
        unit: n === 'RequestsPerMinute' ? 'Count' : 'Milliseconds',
        timeseries: series,
      };
    });
    send(res, 200, {
      cost: 0,
      timespan: url.searchParams.get('timespan'),
      interval: url.searchParams.get('interval') ?? 'PT1M',
      namespace: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
      resourceregion: LOCATION,
      value,
    });
  }

  private autoscale(res: ServerResponse, method: string, url: URL, body: unknown): void {
    const apiVersion = url.searchParams.get('api-version');
    this.calls.push({ method, operation: `AutoscaleSettings_${method === 'PUT' ? 'CreateOrUpdate' : method === 'GET' ? 'Get' : 'Delete'}`, apiVersion });
    const key = url.pathname.toLowerCase();
    if (apiVersion !== API_VERSIONS.autoscale)
      return this.reject(res, method, url, 'AutoscaleSettings', [`api-version ${apiVersion}: the fake serves ${API_VERSIONS.autoscale}`]);
    if (method === 'GET') return this.resources.has(key) ? send(res, 200, this.resources.get(key)) : notFound(res, url.pathname);
    if (method === 'DELETE') return void (this.resources.delete(key), send(res, 200, undefined));
    const b = body as {
      location?: string;
      properties?: {
        profiles?: { capacity?: { minimum?: string; maximum?: string; default?: string }; rules?: unknown[] }[];
        targetResourceUri?: string;
        enabled?: boolean;
      };
    };
    const problems: string[] = [];
    if (!b?.location) problems.push('location: required');
    if (!b?.properties?.targetResourceUri) problems.push('properties.targetResourceUri: required');
    const profiles = b?.properties?.profiles ?? [];
    if (profiles.length === 0) problems.push('properties.profiles: at least one profile');
    for (const [i, p] of profiles.entries()) {
      for (const k of ['minimum', 'maximum', 'default'] as const)
        if (typeof p.capacity?.[k] !== 'string') problems.push(`properties.profiles[${i}].capacity.${k}: a string count is required`);
      if (!Array.isArray(p.rules)) problems.push(`properties.profiles[${i}].rules: required`);
    }
    if (problems.length > 0) return this.reject(res, method, url, 'AutoscaleSettings_CreateOrUpdate', problems);
    const stored = {
      ...(b as object),
      id: url.pathname,
      name: url.pathname.split('/').pop(),
      type: 'Microsoft.Insights/autoscaleSettings',
    } as unknown as Resource;
    this.resources.set(key, stored);
    send(res, 201, stored);
  }

  // ----------------------------------------------------------------------------------------------
  // The workspace and its container registry (not in the ML contract: shapes checked by hand).

  /** Workspaces_Get (the SDK's 2022-10-01): the workspace with its `containerRegistry`, when it has one. */
  private workspace(res: ServerResponse, url: URL): void {
    const apiVersion = url.searchParams.get('api-version');
    this.calls.push({ method: 'GET', operation: 'Workspaces_Get', apiVersion });
    if (apiVersion !== API_VERSIONS.sdk)
      return this.reject(res, 'GET', url, 'Workspaces_Get', [`api-version ${apiVersion}: the fake serves the SDK's ${API_VERSIONS.sdk}`]);
    if (url.pathname.toLowerCase() !== this.workspaceId.toLowerCase()) {
      const name = url.pathname.split('/').pop();
      return send(res, 404, {
        error: {
          code: 'ResourceNotFound',
          message: `The Resource 'Microsoft.MachineLearningServices/workspaces/${name}' under resource group '${url.pathname.split('/')[4]}' was not found.`,
        },
      });
    }
    const account = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}`;
    send(res, 200, {
      id: this.workspaceId,
      name: WORKSPACE,
      type: 'Microsoft.MachineLearningServices/workspaces',
      location: LOCATION,
      sku: { name: 'Basic', tier: 'Basic' },
      identity: { type: 'SystemAssigned', principalId: randomUUID(), tenantId: TENANT },
      properties: {
        friendlyName: WORKSPACE,
        storageAccount: account,
        keyVault: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/mlshipfakekv`,
        applicationInsights: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Insights/components/mlshipfakeai`,
        ...(this.workspaceRegistry && { containerRegistry: this.workspaceRegistry }),
        provisioningState: 'Succeeded',
        publicNetworkAccess: 'Enabled',
        v1LegacyMode: false,
      },
    });
  }

  /** Registries_Get (Microsoft.ContainerRegistry 2023-07-01): the workspace's registry, its login server this fake. */
  private registry(res: ServerResponse, url: URL): void {
    const apiVersion = url.searchParams.get('api-version');
    this.calls.push({ method: 'GET', operation: 'Registries_Get', apiVersion });
    if (apiVersion !== API_VERSIONS.registry)
      return this.reject(res, 'GET', url, 'Registries_Get', [`api-version ${apiVersion}: the fake serves ${API_VERSIONS.registry}`]);
    const name = url.pathname.split('/').pop()!;
    if (!this.workspaceRegistry || url.pathname.toLowerCase() !== this.workspaceRegistry.toLowerCase()) {
      return send(res, 404, {
        error: {
          code: 'ResourceNotFound',
          message: `The Resource 'Microsoft.ContainerRegistry/registries/${name}' under resource group '${url.pathname.split('/')[4]}' was not found.`,
        },
      });
    }
    send(res, 200, {
      id: this.workspaceRegistry,
      name,
      type: 'Microsoft.ContainerRegistry/registries',
      location: LOCATION,
      sku: { name: 'Basic', tier: 'Basic' },
      properties: {
        loginServer: this.loginServer,
        provisioningState: 'Succeeded',
        adminUserEnabled: false,
        publicNetworkAccess: 'Enabled',
        anonymousPullEnabled: false,
      },
    });
  }

  /**
   * The ACR token exchange (`POST /oauth2/exchange`, form-encoded): `grant_type=access_token`,
   * `service` = the login server, `tenant` (optional) and an AAD access token for the ARM audience;
   * answers `{refresh_token}`, or ACR's `{errors: [{code, message}]}`.
   */
  private exchange(req: IncomingMessage, res: ServerResponse, method: string, url: URL, raw: Buffer): void {
    const form = new URLSearchParams(raw.toString('utf8'));
    const problems: string[] = [];
    if (method !== 'POST') problems.push(`${method}: the exchange takes POST`);
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? ''))
      problems.push(`content-type ${req.headers['content-type']}: want application/x-www-form-urlencoded`);
    if (form.get('grant_type') !== 'access_token') problems.push(`grant_type ${form.get('grant_type')}: want access_token`);
    if (form.get('service') !== this.loginServer) problems.push(`service ${form.get('service')}: want the login server ${this.loginServer}`);
    const tenant = form.get('tenant') ?? undefined;
    if (tenant !== undefined && tenant !== TENANT) problems.push(`tenant ${tenant}: the registry's tenant is ${TENANT}`);
    const claims = parseJwt(form.get('access_token') ?? '') as { aud?: string; exp?: number } | undefined;
    if (!claims || claims.aud !== this.armUrl || !claims.exp || claims.exp * 1000 < Date.now())
      problems.push(`access_token: want an unexpired AAD token for the ARM audience ${this.armUrl}`);
    const exchange: Exchange = { service: form.get('service') ?? '', ...(tenant && { tenant }), authorization: req.headers.authorization !== undefined };
    this.exchanges.push(exchange);
    if (problems.length > 0) {
      this.violations.push({ method, url: url.pathname, operation: 'Authentication_ExchangeAadAccessTokenForAcrRefreshToken', problems });
      return send(res, 400, { errors: [{ code: 'UNSUPPORTED', message: problems[0] }] });
    }
    if (this.exchangeRefusal)
      return send(res, this.exchangeRefusal.status, { errors: [{ code: this.exchangeRefusal.code, message: this.exchangeRefusal.message }] });
    exchange.refreshToken = makeJwt(this.loginServer).replace(/\.[^.]+$/, `.${randomUUID()}`);
    send(res, 200, { refresh_token: exchange.refreshToken });
  }

  // ----------------------------------------------------------------------------------------------
  // Data plane: managed identity tokens, scoring, data collection.

  private async handleData(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.dataUrl);
    if (url.pathname === '/msi/token') {
      if (req.headers['x-identity-header'] !== this.identityHeader) return send(res, 401, { error: 'invalid X-IDENTITY-HEADER' });
      const resource = url.searchParams.get('resource') ?? '';
      const exp = Math.floor(Date.now() / 1000) + 3600;
      return send(res, 200, { access_token: makeJwt(resource), expires_on: String(exp), resource, token_type: 'Bearer' });
    }
    const scoring = /^\/endpoints\/([^/]+)\/score$/.exec(url.pathname);
    if (!scoring || req.method !== 'POST') return send(res, 404, { error: { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` } });
    const endpointKey = `${this.workspaceId}/onlineEndpoints/${scoring[1]}`.toLowerCase();
    const endpoint = this.resources.get(endpointKey);
    if (!endpoint) return send(res, 404, { error: { code: 'EndpointNotFound', message: `endpoint ${scoring[1]} not found` } });
    if (req.headers.authorization !== `Bearer ${this.keyOf(endpoint)}`)
      return send(res, 401, { message: 'Authentication failed: the key is missing or wrong' });
    const body = await readBody(req);
    const traffic = (endpoint.properties.traffic ?? {}) as Record<string, number>;
    const pinned = req.headers['azureml-model-deployment'] as string | undefined;
    const deployment = pinned ?? pick(traffic);
    if (!deployment)
      return send(res, 503, {
        message:
          'No valid deployments to route to. Please check that the endpoint has at least one deployment with positive weight values or use a deployment specific header to route.',
      });
    const key = `${endpointKey}/deployments/${deployment}`.toLowerCase();
    const run = this.running.get(key);
    const dep = this.resources.get(key);
    if (!run || !dep) return send(res, 404, { message: `deployment ${deployment} is not running` });
    const envRes = this.resourceById(dep.properties.environmentId as string);
    const route = (envRes?.properties.inferenceConfig as { scoringRoute: { path: string } } | undefined)?.scoringRoute.path ?? '/score';
    const started = Date.now();
    if (this.failingDeployments.has(deployment)) {
      this.hits.push({ ts: Date.now(), deployment, status: 500, ms: Date.now() - started });
      return send(res, 500, { error: { status: 500, message: 'injected failure' } }, { 'azureml-model-deployment': deployment });
    }
    // The answer is passed on as it comes (an LLM's event stream event by event), then collected whole.
    const answer = await forward(
      run.container.port,
      route,
      body,
      req.headers['content-type'],
      req.headers['x-request-id'] as string | undefined,
      (status, headers) =>
        res.writeHead(status, {
          'content-type': String(headers['content-type'] ?? 'application/json'),
          'azureml-model-deployment': deployment,
          ...(headers['x-request-id'] && { 'x-request-id': String(headers['x-request-id']) }),
        }),
      (chunk) => res.write(chunk),
    );
    const ms = Date.now() - started;
    this.hits.push({ ts: Date.now(), deployment, status: answer.status, ms });
    if (answer.status < 400) {
      const streamed = String(answer.headers['content-type'] ?? '').startsWith('text/event-stream');
      await this.collect(endpoint, dep, body, streamed ? streamEvents(answer.body) : answer.body, String(answer.headers['x-request-id'] ?? randomUUID()));
    }
    res.end();
  }

  /**
   * The model data collector: one JSON line per request and collection, in the hourly folder. A
   * streamed answer (an LLM's `text/event-stream`) is collected as the list of its events' JSON: one
   * output row, `data: [[event, …]]`, beside the request's one input row.
   */
  private async collect(endpoint: Resource, dep: Resource, input: Buffer, output: Buffer | unknown[][], requestId: string): Promise<void> {
    const dc = dep.properties.dataCollector as { collections?: Record<string, { dataCollectionMode?: string }> } | null | undefined;
    if (!dc?.collections) return;
    const now = new Date();
    const hour = now.toISOString().slice(0, 13).replace(/[-T]/g, '/');
    for (const [collection, data] of [
      ['model_inputs', input],
      ['model_outputs', output],
    ] as const) {
      if (dc.collections[collection]?.dataCollectionMode !== 'Enabled') continue;
      let parsed: unknown;
      try {
        parsed = Buffer.isBuffer(data) ? JSON.parse(data.toString('utf8')) : data;
      } catch {
        continue;
      }
      const line = JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/${WORKSPACE}/onlineEndpoints/${endpoint.name}/deployments/${dep.name}`,
        type: `azureml.inference.${collection}`,
        datacontenttype: 'application/json',
        time: now.toISOString(),
        data: Array.isArray(parsed) ? parsed : [parsed],
        correlationid: requestId,
        xrequestid: requestId,
        modelversion: 'default',
        collectdatatype: 'pandas.core.frame.DataFrame',
        agent: 'azureml-ai-monitoring/1.0.0',
      });
      const blob = this.blobs.getAppendBlobClient(`modelDataCollector/${endpoint.name}/${dep.name}/${collection}/${hour}/${dep.name}-0.jsonl`);
      await blob.createIfNotExists();
      const bytes = Buffer.from(`${line}\n`);
      await blob.appendBlock(bytes, bytes.length);
    }
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (!res.headersSent) send(res, 500, { error: { code: 'InternalServerError', message: `fake: ${(error as Error).stack ?? String(error)}` } });
  }
}

/** `azureml://datastores/<ds>/paths/<path>` (or a blob URL) → the blob path in the datastore. */
export function datastorePath(uri: string): string {
  const m = /^azureml:\/\/(?:subscriptions\/[^/]+\/resourcegroups\/[^/]+\/workspaces\/[^/]+\/)?datastores\/[^/]+\/paths\/(.*)$/i.exec(uri);
  if (m) return m[1]!;
  return new URL(uri).pathname.split('/').slice(3).join('/');
}

function pick(traffic: Record<string, number>): string | undefined {
  const entries = Object.entries(traffic).filter(([, w]) => w > 0);
  const total = entries.reduce((a, [, w]) => a + w, 0);
  let r = Math.random() * total;
  for (const [name, w] of entries) {
    if ((r -= w) < 0) return name;
  }
  return entries[0]?.[0];
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function makeJwt(audience: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ aud: audience.replace(/\/$/, ''), iss: `https://sts.windows.net/${TENANT}/`, iat: now, nbf: now - 60, exp: now + 3600, oid: 'fake-identity', tid: TENANT })}.c2lnbmF0dXJl`;
}

function parseJwt(token: string): { aud?: string } | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: string };
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text && { 'content-type': 'application/json' }), 'x-ms-request-id': randomUUID(), ...headers });
  res.end(text);
}

function notFound(res: ServerResponse, id: string): void {
  send(res, 404, { error: { code: 'ResourceNotFound', message: `The resource '${id}' was not found.` } });
}

/** Seconds of an ISO 8601 duration of hours, minutes and seconds (`PT10S`, `PT3M`, `PT1H30M`); 0 when absent. */
function isoSeconds(d: string | undefined): number {
  const m = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(d ?? '');
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) : 0;
}

/**
 * The JSON of each `data:` event of a text/event-stream body (`[DONE]` and other text left out), and
 * the gateway's `: mlship {…}` comment as an event `{"mlship": {…}}` (the collector keeps the body).
 */
function streamEvents(body: Buffer): unknown[][] {
  const events: unknown[] = [];
  for (const block of body.toString('utf8').replace(/\r\n/g, '\n').split('\n\n')) {
    if (block.startsWith(': mlship ')) {
      try {
        events.push({ mlship: JSON.parse(block.slice(': mlship '.length)) });
      } catch {
        // not the gateway's facts
      }
      continue;
    }
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (!data || data === '[DONE]') continue;
    try {
      events.push(JSON.parse(data));
    } catch {
      // not JSON: not collected
    }
  }
  return [events];
}

/** POST to the container; `onHead` and `onChunk` see the answer as it comes, the promise its whole body. */
function forward(
  port: number,
  route: string,
  body: Buffer,
  contentType: string | undefined,
  requestId: string | undefined,
  onHead: (status: number, headers: Record<string, string | string[] | undefined>) => void = () => {},
  onChunk: (chunk: Buffer) => void = () => {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve) => {
    const r = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: route,
        method: 'POST',
        headers: { 'content-type': contentType ?? 'application/json', 'content-length': body.length, ...(requestId && { 'x-request-id': requestId }) },
      },
      (res) => {
        headSent = true;
        onHead(res.statusCode ?? 502, res.headers);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          onChunk(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    let headSent = false;
    r.on('error', (e) => {
      const failure = {
        status: 502,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ message: `upstream: ${e.message}` })),
      };
      if (!headSent) {
        headSent = true;
        onHead(failure.status, failure.headers);
        onChunk(failure.body);
      }
      resolve(failure);
    });
    r.end(body);
  });
}
