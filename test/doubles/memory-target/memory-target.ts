/**
 * The in-memory target's implementation (its descriptor: descriptor.ts). Its "cloud" is a
 * `MemoryCloud`: an object store holding mlship's registry (the shared `ObjectRegistry` layout) and one
 * endpoint with deployments and a traffic split. Everything else is the shared deploy core: the build
 * check and version record (versions.ts), the version resolver and pending rule, history and the
 * rollback choice, the poller, the rollout controller for canaries.
 *
 * In a test the cloud lives in memory, with each version's behaviour (healthy, 5xx rate, latency) and
 * the traffic set by the harness. Under a spawned `mlship`, each command is a new process, so the
 * cloud is saved to `targets.memory.state` after every change and read back by the next command.
 * Deployments are not started (no process serves them): like the clouds' in-memory fakes, this
 * target is about the control plane.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BaselineProfile } from '../../../src/baseline/profile.js';
import { chooseRollback, historyEntry, liveSince, NoVersionsError, recentHistory } from '../../../src/deploy/history.js';
import { MemoryObjectStore } from '../../../src/deploy/object-store.js';
import { contextClock, pollUntil } from '../../../src/deploy/poll.js';
import { ObjectRegistry } from '../../../src/deploy/registry.js';
import { guardsFromManifest, runRollout, ALL_AT_ONCE } from '../../../src/deploy/rollout.js';
import type {
  DeployPlan,
  DeployRequest,
  DeployResult,
  LiveClient,
  PushOptions,
  PushResult,
  RollbackRequest,
  StopResult,
  Target,
  TargetContext,
  TargetStatus,
  VersionInfo,
} from '../../../src/deploy/types.js';
import { checkBuild, findSameBuild, newRecord, readMetrics, resolveVersion, settlePending, type VersionRecordBase } from '../../../src/deploy/versions.js';
import type { LogSource, LogWindow } from '../../../src/logs/types.js';
import type { BuildRef } from '../../../src/packaging/index.js';
import { OperationError } from '../../../src/util/errors.js';
import { memoryDescriptor, type MemorySettings } from './descriptor.js';

/** How a version behaves once deployed (set by the harness; healthy, no errors, instant otherwise). */
export interface MemoryBehaviour {
  healthy?: boolean;
  errorRate?: number;
  latencyMs?: number;
}

type DeploymentState = 'Provisioning' | 'Ready' | 'Failed';

interface Endpoint {
  deployments: Record<string, { state: DeploymentState; polls: number }>;
  /** Deployment → percent of traffic; sums to 100 while something serves. */
  split: Record<string, number>;
}

/** The in-memory cloud: objects and one endpoint; saved to `file` after every change when one is given. */
export class MemoryCloud {
  readonly store: MemoryObjectStore;
  endpoint: Endpoint = { deployments: {}, split: {} };
  readonly behaviours = new Map<string, MemoryBehaviour>();
  /** Requests per minute that reach the endpoint, split by the traffic split. */
  requestsPerMinute = 100;
  /** State-changing calls so far. */
  mutations = 0;

  constructor(
    private readonly file?: string,
    private readonly provisionPolls = 2,
  ) {
    const cloud = this;
    this.store = new (class extends MemoryObjectStore {
      override async put(key: string, body: string | Uint8Array): Promise<void> {
        await super.put(key, body);
        cloud.changed();
      }
      override async putFile(key: string, file: string): Promise<void> {
        await super.putFile(key, file);
        cloud.changed();
      }
    })('mem://memory-cloud');
    if (file && existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { objects: Record<string, string>; endpoint: Endpoint };
      for (const [k, v] of Object.entries(saved.objects)) this.store.objects.set(k, Buffer.from(v, 'base64'));
      this.endpoint = saved.endpoint;
    }
  }

  private behaviour(version: string): Required<MemoryBehaviour> {
    return { healthy: true, errorRate: 0, latencyMs: 5, ...this.behaviours.get(version) };
  }

  private changed(): void {
    this.mutations++;
    if (!this.file) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const objects = Object.fromEntries([...this.store.objects].map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    writeFileSync(this.file, JSON.stringify({ objects, endpoint: this.endpoint }));
  }

  /** Add a deployment of `version`: it provisions, then is Ready or (unhealthy) Failed. */
  deploy(version: string): void {
    this.endpoint.deployments[version] = { state: 'Provisioning', polls: this.provisionPolls };
    this.changed();
  }

  undeploy(version: string): void {
    if ((this.endpoint.split[version] ?? 0) > 0) throw new Error(`${version} still takes traffic`);
    delete this.endpoint.deployments[version];
    this.changed();
  }

  /** One observation of a deployment: provisioning advances by one poll. */
  observe(version: string): DeploymentState | undefined {
    const d = this.endpoint.deployments[version];
    if (d?.state === 'Provisioning' && --d.polls <= 0) {
      d.state = this.behaviour(version).healthy ? 'Ready' : 'Failed';
      this.changed();
    }
    return d?.state;
  }

  /** Move traffic at once, only to Ready deployments, summing to 100. */
  setTraffic(split: Record<string, number>): void {
    const total = Object.values(split).reduce((a, b) => a + b, 0);
    if (total !== 100) throw new Error(`traffic split sums to ${total}, not 100`);
    for (const [v, pct] of Object.entries(split)) if (pct > 0 && this.endpoint.deployments[v]?.state !== 'Ready') throw new Error(`${v} is not ready`);
    this.endpoint.split = Object.fromEntries(Object.entries(split).filter(([, p]) => p > 0));
    this.changed();
  }

  /** The version serving all traffic, if one does. */
  servingAll(): string | undefined {
    const entries = Object.entries(this.endpoint.split);
    return entries.length === 1 && entries[0]![1] === 100 ? entries[0]![0] : undefined;
  }

  /** What monitoring says of a version over a window: its share of the requests, their 5xx and latency. */
  metrics(version: string, window: { from: Date; to: Date }): { requests: number; errors5xx: number; latencyMs?: number } {
    const minutes = (window.to.getTime() - window.from.getTime()) / 60_000;
    const requests = Math.round((this.requestsPerMinute * minutes * (this.endpoint.split[version] ?? 0)) / 100);
    const b = this.behaviour(version);
    return { requests, errors5xx: Math.round(requests * b.errorRate), ...(requests > 0 && { latencyMs: b.latencyMs }) };
  }

  /** Forget everything (stop). */
  clear(): void {
    this.endpoint = { deployments: {}, split: {} };
    this.changed();
  }
}

const DEFAULT_TIMEOUT_S = 60;

export class MemoryTarget implements Target {
  readonly name = memoryDescriptor.name;
  readonly cloud: MemoryCloud;
  private readonly registry: ObjectRegistry;

  constructor(
    private readonly ctx: TargetContext,
    cloud?: MemoryCloud,
  ) {
    const settings = ctx.manifest.targets.memory as MemorySettings;
    this.cloud = cloud ?? new MemoryCloud(path.resolve(ctx.manifest.projectDir, settings.state), settings.provision_polls);
    this.registry = new ObjectRegistry(this.cloud.store, `mlship/${ctx.manifest.name}`);
  }

  private get url(): string {
    return `memory://${this.ctx.manifest.name}`;
  }

  private get where(): string {
    return `the in-memory registry (${this.ctx.manifest.name})`;
  }

  async push(build: BuildRef, options: PushOptions): Promise<PushResult> {
    // Refuses a model changed after the build before anything is stored.
    const checked = await checkBuild(build);
    const records = await this.records();
    const same = findSameBuild(records, build, checked.digest, { of: () => undefined });
    const live = this.cloud.servingAll();
    if (same) return { version: { ...same, live: same.version === live }, created: false };
    const version = await this.registry.nextVersion();
    const metrics = readMetrics(this.ctx.manifest, build);
    const record = newRecord(version, checked, build, options, { createdAt: this.ctx.now().toISOString(), ...(metrics && { metrics }) });
    await this.cloud.store.putFile(this.registry.keys.versionFile(version, path.basename(checked.modelPath)), checked.modelPath);
    const baseline = path.join(build.dir, 'baseline.json');
    if (existsSync(baseline)) await this.cloud.store.put(this.registry.keys.versionFile(version, 'baseline.json'), readFileSync(baseline));
    await this.registry.writeRecord(record);
    return { version: { ...record, live: false }, created: true };
  }

  /** The version records, oldest first; a pending one that has been live is pending no more. */
  private async records(): Promise<VersionRecordBase[]> {
    const versions = await this.registry.listVersions();
    const records = (await Promise.all(versions.map((v) => this.registry.readRecord(v)))).filter((r): r is VersionRecordBase => r !== undefined);
    return settlePending(records, await this.registry.history());
  }

  async versions(): Promise<VersionInfo[]> {
    const live = this.cloud.servingAll();
    return (await this.records()).map((r) => ({ ...r, live: r.version === live }));
  }

  async baseline(version?: string): Promise<BaselineProfile> {
    const v = version ?? this.cloud.servingAll() ?? (await this.records()).at(-1)?.version;
    if (!v) throw new NoVersionsError(this.where);
    const profile = await this.registry.getJson<BaselineProfile>(this.registry.keys.versionFile(v, 'baseline.json'));
    if (!profile)
      throw new OperationError('baseline_missing', `${v} has no baseline profile in ${this.where}`, { hint: 'Push a build made by `mlship build`.' });
    return profile;
  }

  async predictionLogs(_window: LogWindow): Promise<LogSource[]> {
    // Nothing serves requests here, so nothing is logged.
    return [];
  }

  async feedbackLogs(window: LogWindow): Promise<LogSource[]> {
    return this.registry.feedbackSources(window);
  }

  async plan(request: DeployRequest): Promise<DeployPlan> {
    const to = resolveVersion(await this.records(), request.version, this.where).version;
    const from = this.cloud.servingAll();
    const canary = request.strategy?.kind === 'canary' && from !== undefined && from !== to;
    const steps =
      from === to
        ? []
        : [
            { action: 'deploy', resource: `deployment ${to}`, details: { polls: (this.ctx.manifest.targets.memory as MemorySettings).provision_polls } },
            { action: 'wait', resource: `health of ${to}`, details: { timeoutSeconds: request.timeoutSeconds ?? DEFAULT_TIMEOUT_S } },
            canary
              ? {
                  action: 'canary',
                  resource: `traffic of ${this.url}`,
                  details: { from, to, percent: request.strategy?.kind === 'canary' && request.strategy.percent },
                }
              : { action: 'route', resource: `traffic of ${this.url}`, details: { to, percent: 100 } },
            ...(from ? [{ action: 'undeploy', resource: `deployment ${from}` }] : []),
            { action: 'record', resource: 'registry history', details: { action: 'deploy', version: to } },
          ];
    return {
      target: this.name,
      ...(from && { from }),
      to,
      url: this.url,
      logging: { enabled: false, destination: 'none (nothing serves requests in memory)' },
      steps,
      noop: from === to,
    };
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    return this.makeLive(resolveVersion(await this.records(), request.version, this.where).version, request, 'deploy');
  }

  async rollback(request: RollbackRequest): Promise<DeployResult> {
    const to = chooseRollback({
      where: this.where,
      live: this.cloud.servingAll(),
      ...(request.to && { to: request.to }),
      history: await this.registry.history(),
      versions: await this.records(),
    });
    return this.makeLive(to, { ...(request.timeoutSeconds !== undefined && { timeoutSeconds: request.timeoutSeconds }) }, 'rollback');
  }

  async status(): Promise<TargetStatus> {
    const history = await this.registry.history();
    const live = this.cloud.servingAll();
    return {
      target: this.name,
      ...(live && { live: this.liveInfo(live, history) }),
      history: recentHistory(history),
      versions: await this.versions(),
      details: { store: this.cloud.store.description, deployments: Object.keys(this.cloud.endpoint.deployments) },
    };
  }

  /** No process serves a memory deployment: its client answers every call 501, saying so. */
  async liveClient(): Promise<LiveClient | undefined> {
    const live = this.cloud.servingAll();
    if (!live) return undefined;
    const none = async () => Response.json({ error: { message: 'the in-memory target runs no deployment: it is about the control plane' } }, { status: 501 });
    return { version: live, predictRoute: this.url, chatRoute: this.url, predict: none, streamChat: none };
  }

  async stop(): Promise<StopResult> {
    const live = this.cloud.servingAll();
    if (!live && Object.keys(this.cloud.endpoint.deployments).length === 0) return { stopped: false };
    this.cloud.clear();
    await this.registry.appendHistory(historyEntry(this.ctx, 'stop', live, undefined));
    return { stopped: true, ...(live && { version: live }) };
  }

  private liveInfo(version: string, history: Parameters<typeof liveSince>[0]) {
    return { version, url: this.url, since: liveSince(history, version) ?? this.ctx.now().toISOString(), healthy: true, details: { deployment: version } };
  }

  /** Deploy `version`, wait until it is ready, move traffic to it (at once, or as a canary), undeploy the old one. */
  private async makeLive(version: string, request: DeployRequest, action: 'deploy' | 'rollback'): Promise<DeployResult> {
    const previous = this.cloud.servingAll();
    if (previous === version) return { live: this.liveInfo(version, await this.registry.history()), changed: false };
    this.cloud.deploy(version);
    await pollUntil({
      what: `deployment ${version}`,
      read: async () => this.cloud.observe(version),
      classify: (state) => {
        if (state === 'Ready') return { kind: 'done', value: state };
        if (state === 'Failed') {
          return {
            kind: 'failed',
            error: new OperationError('deployment_failed', `${version} did not pass its health check`, {
              hint: `${previous ?? 'nothing'} still serves; fix the model and push again.`,
            }),
          };
        }
        return { kind: 'pending', status: state ?? 'absent' };
      },
      timeoutSeconds: request.timeoutSeconds ?? DEFAULT_TIMEOUT_S,
      onTimeout: () => new OperationError('deployment_timeout', `${version} was not ready in time`, { hint: 'Deploy again with a longer --timeout.' }),
      clock: contextClock(this.ctx),
      reporter: this.ctx.output,
    }).catch((error: unknown) => {
      this.cloud.undeploy(version);
      throw error;
    });
    let warning: string | undefined;
    try {
      const outcome = await runRollout({
        strategy: request.strategy ?? ALL_AT_ONCE,
        stable: previous,
        candidate: version,
        traffic: {
          split: async (stable, candidate, percent) => this.cloud.setTraffic({ [stable]: 100 - percent, [candidate]: percent }),
          routeAll: async (v) => this.cloud.setTraffic({ [v]: 100 }),
        },
        metrics: { read: async (v, window) => this.cloud.metrics(v, window) },
        guards: guardsFromManifest(this.ctx.manifest),
        clock: contextClock(this.ctx),
        reporter: this.ctx.output,
      });
      warning = outcome.warning;
    } catch (error) {
      if (previous) this.cloud.setTraffic({ [previous]: 100 });
      this.cloud.undeploy(version);
      throw error;
    }
    if (previous) this.cloud.undeploy(previous);
    await this.registry.appendHistory(
      historyEntry(this.ctx, action, version, previous, {
        url: this.url,
        ...(request.strategy?.kind === 'canary' && previous && { strategy: 'canary' }),
        ...(warning && { warning }),
      }),
    );
    return { live: this.liveInfo(version, await this.registry.history()), ...(previous && { previous }), changed: true };
  }
}
