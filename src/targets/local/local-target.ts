/**
 * The local target: the whole deployment shape on the user's machine, no cloud account, no Docker.
 *
 *   .mlship/registry/   versions and history (registry.ts)
 *   .mlship/deploy/     state.json (router + live version), process logs
 *   .mlship/logs/       prediction logs written by the serving app
 *
 * A deployment is a router on the stable port (router.ts) in front of one serving-app process per
 * live version. Deploy and rollback start the new version on a free port, wait for its health, switch
 * the router, wait for the old version's requests to finish, then stop it: no request fails. A canary
 * (`--strategy canary`) runs the shared rollout controller (src/deploy/rollout.ts) over the router:
 * split, bake while the router counts the canary's requests, 5xx and latency, then promote (switch)
 * or revert (the canary drains and stops), exactly as on the clouds.
 *
 * Built on the shared deploy core (src/deploy/): its history and rollback policy and errors, the
 * rollout controller, the poller for health and router start-up. Its descriptor (descriptor.ts) says
 * what it cannot do (approval); its log format is mlship's own (src/logs/formats/local.ts).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OperationError, UsageError } from '../../util/errors.js';
import { isAlive, readJson, withLock, writeJsonAtomic } from '../../util/fs.js';
import type { BaselineProfile } from '../../baseline/profile.js';
import { silentReporter } from '../../util/reporter.js';
import { contextClock, pollUntil, systemClock } from '../../deploy/poll.js';
import { guardsFromManifest, runRollout, type MetricsReader, type TrafficControl, type VersionMetrics } from '../../deploy/rollout.js';
import { chooseRollback, historyEntry, NoVersionsError, recentHistory } from '../../deploy/history.js';
import { readMetrics, resolveVersion, settlePending } from '../../deploy/versions.js';
import { httpLiveClient } from '../../deploy/live-client.js';
import type {
  DeployPlan,
  DeployRequest,
  DeployResult,
  LiveClient,
  LiveInfo,
  PushOptions,
  PushResult,
  RollbackRequest,
  StopResult,
  Target,
  TargetContext,
  TargetStatus,
  VersionInfo,
} from '../../deploy/types.js';
import type { LogSource, LogWindow } from '../../logs/types.js';
import type { BuildRef } from '../../packaging/index.js';
import { serverCommand } from '../../packaging/launch.js';
import { localLlamaServer } from '../../packaging/local-python.js';
import { selectForManifest } from '../../compute/select.js';
import { localLogSources } from '../../logs/readers.js';
import { feedbackSources } from '../../logs/join.js';
import { freePort, healthOf, probe, startDetached, stopProcess, waitHealthy } from './processes.js';
import { LocalRegistry } from './registry.js';

/** What `.mlship/deploy/state.json` holds. */
interface DeployState {
  router?: { pid: number; port: number; controlPort: number; token: string };
  live?: { version: string; pid: number; port: number; since: string; logFile: string };
}

const DEFAULT_TIMEOUT_S = 60;
const QUANTILE = { p50: 0.5, p95: 0.95, p99: 0.99 } as const;
const ROUTER_MAIN = fileURLToPath(new URL('./router-main.js', import.meta.url));

export class LocalTarget implements Target {
  readonly name = 'local' as const;
  private readonly mlshipDir: string;
  private readonly registry: LocalRegistry;

  constructor(private readonly ctx: TargetContext) {
    this.mlshipDir = path.join(ctx.manifest.projectDir, '.mlship');
    this.registry = new LocalRegistry(this.mlshipDir);
  }

  private get deployDir(): string {
    return path.join(this.mlshipDir, 'deploy');
  }

  private get stateFile(): string {
    return path.join(this.deployDir, 'state.json');
  }

  /** Prediction logs written by the serving app. */
  get logDir(): string {
    return path.join(this.mlshipDir, 'logs');
  }

  async push(build: BuildRef, options: PushOptions): Promise<PushResult> {
    const metrics = readMetrics(this.ctx.manifest, build);
    const { record, created } = await this.registry.push(build, { ...options, ...(metrics && { metrics }), now: this.ctx.now() });
    return { version: { ...record, live: this.readState().live?.version === record.version }, created };
  }

  async versions(): Promise<VersionInfo[]> {
    const live = this.readState().live?.version;
    return (await this.records()).map((r) => ({ ...r, live: r.version === live }));
  }

  /** The registered versions, oldest first; a pending one that has been live is pending no more. */
  private async records() {
    return settlePending(this.registry.list(), await this.registry.history());
  }

  async baseline(version?: string): Promise<BaselineProfile> {
    const v = version ?? this.readState().live?.version ?? this.registry.newest()?.version;
    if (!v) throw new NoVersionsError('the local registry', 'Push a version first, or pass --baseline FILE to drift-check.');
    return this.registry.baseline(v);
  }

  async predictionLogs(window: LogWindow): Promise<LogSource[]> {
    // Only the prediction files: feedback logs share the folder.
    return localLogSources(path.join(this.logDir, 'predictions-*.jsonl'), window);
  }

  async feedbackLogs(window: LogWindow): Promise<LogSource[]> {
    return feedbackSources(this.logDir, window);
  }

  async plan(request: DeployRequest): Promise<DeployPlan> {
    const state = await this.cleanStale();
    const to = await this.resolveVersion(request.version);
    const port = this.stablePort(request, state);
    const url = `http://127.0.0.1:${port}`;
    const from = state.live?.version;
    const noop = from === to && state.live !== undefined && (await probe(`${url}/health`)) === 200;
    const steps = noop
      ? []
      : [
          { action: 'verify', resource: `artifact of ${to}`, details: { sha256: this.registry.get(to).digest } },
          { action: 'start', resource: `serving app ${to}`, details: { host: '127.0.0.1', port: 'a free port', python: this.pythonFor(to) } },
          { action: 'wait', resource: `health of ${to}`, details: { timeoutSeconds: request.timeoutSeconds ?? DEFAULT_TIMEOUT_S } },
          ...(request.strategy?.kind === 'canary' && state.router && from && from !== to
            ? [
                { action: 'split', resource: `router on ${url}`, details: { from, to, percent: request.strategy.percent } },
                {
                  action: 'bake',
                  resource: `canary ${to}`,
                  details: {
                    minutes: request.strategy.bakeMinutes,
                    minRequests: request.strategy.minRequests ?? this.ctx.manifest.rollout.canary.min_requests,
                  },
                },
                { action: 'promote or revert', resource: `router on ${url}`, details: { promote: to, revert: from } },
              ]
            : [
                state.router
                  ? { action: 'switch', resource: `router on ${url}`, details: { from, to } }
                  : { action: 'start', resource: `router on ${url}`, details: { to } },
              ]),
          ...(state.live ? [{ action: 'drain and stop', resource: `serving app ${state.live.version}`, details: { pid: state.live.pid } }] : []),
          { action: 'record', resource: 'registry history', details: { action: 'deploy', version: to } },
        ];
    return {
      target: 'local',
      ...(from && { from }),
      to,
      compute: selectForManifest(this.ctx.manifest),
      url,
      logging: { enabled: true, destination: this.logDir },
      steps,
      noop,
    };
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    return this.makeLive(await this.resolveVersion(request.version), request, 'deploy');
  }

  async rollback(request: RollbackRequest): Promise<DeployResult> {
    const state = await this.cleanStale();
    const to = chooseRollback({
      where: 'the local target',
      live: state.live?.version,
      ...(request.to && { to: request.to }),
      history: await this.registry.history(),
      versions: this.registry.list(),
    });
    return this.makeLive(to, { timeoutSeconds: request.timeoutSeconds }, 'rollback');
  }

  async status(): Promise<TargetStatus> {
    const state = await this.cleanStale();
    const history = await this.registry.history();
    let live: LiveInfo | undefined;
    let http: string | undefined;
    if (state.live && state.router) {
      const url = `http://127.0.0.1:${state.router.port}`;
      const health = await healthOf(`${url}/health`);
      // The app names the HTTP stack it serves on; an interpreter without httptools/uvloop (a build made
      // before mlship required them) serves on uvicorn's slow fallback, and this is where it shows.
      http =
        health.http &&
        (health.http.includes('h11') || health.http.includes('asyncio') ? `${health.http} (slow fallback: see ${state.live.logFile})` : health.http);
      live = {
        version: state.live.version,
        url,
        since: state.live.since,
        healthy: health.status === 200,
        details: { pid: state.live.pid, routerPid: state.router.pid, appPort: state.live.port, log: state.live.logFile },
      };
    }
    return {
      target: 'local',
      ...(live && { live }),
      history: recentHistory(history),
      versions: await this.versions(),
      details: { registry: this.registry.root, logs: this.logDir, ...(http && { http }) },
    };
  }

  async liveClient(): Promise<LiveClient | undefined> {
    const state = await this.cleanStale();
    if (!state.live || !state.router) return undefined;
    const url = `http://127.0.0.1:${state.router.port}`;
    return httpLiveClient({ version: state.live.version, routes: { predict: `${url}/predict`, chat: `${url}/v1/chat/completions` } });
  }

  async stop(): Promise<StopResult> {
    return withLock(path.join(this.deployDir, '.lock'), async () => {
      const state = this.readState();
      if (!state.router && !state.live) return { stopped: false };
      // Router first: it stops taking requests and finishes the ones in flight; then the app drains.
      await stopProcess(state.router?.pid);
      await stopProcess(state.live?.pid);
      writeJsonAtomic(this.stateFile, {});
      if (state.live) await this.registry.appendHistory(historyEntry(this.ctx, 'stop', state.live.version, undefined));
      return { stopped: true, ...(state.live && { version: state.live.version }) };
    });
  }

  /** Start `version`, wait for health, switch the router to it, drain and stop the old one. */
  private async makeLive(version: string, request: DeployRequest, action: 'deploy' | 'rollback'): Promise<DeployResult> {
    return withLock(path.join(this.deployDir, '.lock'), async () => {
      const state = await this.cleanStale();
      const port = this.stablePort(request, state);
      const url = `http://127.0.0.1:${port}`;
      if (state.live?.version === version && state.router && (await probe(`${url}/health`)) === 200) {
        return { live: this.liveInfo(state, true), changed: false };
      }
      // Refuse a corrupted or tampered artifact before anything changes.
      const { python, build } = await this.registry.verify(version);
      const llamaServer = localLlamaServer(
        build,
        { configured: this.ctx.manifest.targets.local.llama_server, env: this.ctx.env },
        `serve ${version} on the local target`,
      );
      const appPort = await freePort();
      const logFile = path.join(this.deployDir, `${version}-${appPort}.log`);
      const server = serverCommand(this.pythonFor(version, python), this.registry.contextDir(version), {
        port: appPort,
        host: '127.0.0.1',
        logDir: this.logDir,
        version,
        modelDir: this.registry.modelDir(version),
        ...(llamaServer && { llamaServer }),
      });
      const pid = startDetached({
        command: server.command,
        args: server.args,
        cwd: this.ctx.manifest.projectDir,
        env: { ...this.ctx.env, ...server.env },
        logFile,
      });
      const timeoutMs = (request.timeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000;
      try {
        await waitHealthy(`http://127.0.0.1:${appPort}/health`, pid, { timeoutMs, logFile, what: `${version} (serving app)` });
      } catch (error) {
        await stopProcess(pid, 2000);
        if (state.live) this.ctx.output.warn(`${state.live.version} is still live and serving on ${url}.`);
        throw error;
      }

      const backend = { url: `http://127.0.0.1:${appPort}`, version };
      const previous = state.live;
      let router = state.router;
      let warning: string | undefined;
      if (router && previous && previous.version !== version && request.strategy?.kind === 'canary') {
        warning = await this.canary(router, { url: `http://127.0.0.1:${previous.port}`, version: previous.version }, backend, pid, request.strategy);
      } else if (router) {
        await this.control(router, '/switch', backend);
      } else {
        router = await this.startRouter(port, backend);
      }
      const since = this.ctx.now().toISOString();
      const next: DeployState = { router, live: { version, pid, port: appPort, since, logFile } };
      writeJsonAtomic(this.stateFile, next);
      await this.registry.appendHistory(
        historyEntry(this.ctx, action, version, previous?.version, {
          url,
          pid,
          ...(request.strategy?.kind === 'canary' && previous && { strategy: 'canary' }),
          ...(warning && { warning }),
        }),
      );

      if (previous) {
        await this.control(router, '/drain', { url: `http://127.0.0.1:${previous.port}`, timeoutMs: 30_000 });
        await stopProcess(previous.pid);
      }
      return { live: this.liveInfo(next, true), ...(previous && { previous: previous.version }), changed: true };
    });
  }

  /**
   * A canary of `candidate` beside `stable` through the shared rollout controller, the router
   * splitting traffic and counting the canary's answers. Promoted: the router serves the candidate
   * (returns the controller's warning, if it promoted without enough evidence). Not promoted (or the
   * bake failed): the stable version serves everything again, the candidate drains and stops, and the
   * error is rethrown; the history is unchanged, since the candidate never became live.
   */
  private async canary(
    router: NonNullable<DeployState['router']>,
    stable: { url: string; version: string },
    candidate: { url: string; version: string },
    candidatePid: number,
    strategy: Extract<NonNullable<DeployRequest['strategy']>, { kind: 'canary' }>,
  ): Promise<string | undefined> {
    const traffic: TrafficControl = {
      split: async (_stable, _candidate, percent) => void (await this.control(router, '/split', { ...candidate, percent })),
      routeAll: async (version) => void (await this.control(router, '/switch', version === candidate.version ? candidate : stable)),
    };
    const metrics: MetricsReader = {
      read: async (version, _window, percentile) => (await this.control(router, '/stats', { version, quantile: QUANTILE[percentile] })) as VersionMetrics,
    };
    try {
      const outcome = await runRollout({
        strategy,
        stable: stable.version,
        candidate: candidate.version,
        traffic,
        metrics,
        guards: guardsFromManifest(this.ctx.manifest),
        clock: contextClock(this.ctx),
        reporter: this.ctx.output,
      });
      return outcome.warning;
    } catch (error) {
      await this.control(router, '/switch', stable).catch(() => undefined);
      await this.control(router, '/drain', { url: candidate.url, timeoutMs: 30_000 }).catch(() => undefined);
      await stopProcess(candidatePid);
      this.ctx.output.warn(`${stable.version} is still live and serving all traffic.`);
      throw error;
    }
  }

  private async startRouter(port: number, backend: { url: string; version: string }): Promise<NonNullable<DeployState['router']>> {
    const token = randomBytes(16).toString('hex');
    const readyFile = path.join(this.deployDir, `router-${process.pid}.ready`);
    rmSync(readyFile, { force: true });
    const logFile = path.join(this.deployDir, 'router.log');
    const pid = startDetached({
      command: process.execPath,
      args: [ROUTER_MAIN, JSON.stringify({ port, backend, token, readyFile })],
      cwd: this.ctx.manifest.projectDir,
      env: { PATH: this.ctx.env.PATH },
      logFile,
    });
    type Ready = { pid: number; port?: number; controlPort?: number; error?: string };
    try {
      const { value } = await pollUntil({
        what: 'the local router',
        read: async () => ({ ready: readJson<Ready>(readyFile), alive: isAlive(pid) }),
        classify: ({ ready, alive }) => {
          if (ready?.error === 'EADDRINUSE') {
            return {
              kind: 'failed',
              error: new OperationError('port_in_use', `port ${port} is already in use`, { hint: 'Pass --port N, or set targets.local.port in mlship.yaml.' }),
            };
          }
          if (ready?.error)
            return {
              kind: 'failed',
              error: new OperationError('router_failed', `the local router could not start: ${ready.error}`, { hint: `See ${logFile}.` }),
            };
          if (ready?.port && ready.controlPort) return { kind: 'done', value: { pid, port: ready.port, controlPort: ready.controlPort, token } };
          if (!alive)
            return { kind: 'failed', error: new OperationError('router_failed', 'the local router exited during start-up', { hint: `See ${logFile}.` }) };
          return { kind: 'pending', status: 'starting' };
        },
        timeoutSeconds: 10,
        onTimeout: () => new OperationError('router_failed', 'the local router did not start within 10 s', { hint: `See ${logFile}.` }),
        clock: systemClock,
        reporter: silentReporter,
        firstPollMs: 25,
        maxPollMs: 25,
      });
      return value;
    } finally {
      rmSync(readyFile, { force: true });
    }
  }

  private async control(router: NonNullable<DeployState['router']>, route: string, body: unknown): Promise<unknown> {
    const response = await fetch(`http://127.0.0.1:${router.controlPort}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${router.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).catch((error: Error) => {
      throw new OperationError('router_unreachable', `the local router does not answer: ${error.message}`, { hint: 'Run `mlship stop`, then deploy again.' });
    });
    if (!response.ok) throw new OperationError('router_failed', `the local router refused ${route}: ${await response.text()}`);
    return response.json();
  }

  private liveInfo(state: DeployState, healthy: boolean): LiveInfo {
    const live = state.live!;
    return {
      version: live.version,
      url: `http://127.0.0.1:${state.router!.port}`,
      since: live.since,
      healthy,
      details: { pid: live.pid, routerPid: state.router!.pid, appPort: live.port, log: live.logFile },
    };
  }

  private readState(): DeployState {
    return readJson<DeployState>(this.stateFile) ?? {};
  }

  /**
   * Detect what a crash left behind: a router or app whose process is gone. A dead router means no
   * deployment (its app is stopped too); a dead app behind a live router is reported as unhealthy
   * and replaced by the next deploy.
   */
  private async cleanStale(): Promise<DeployState> {
    const state = this.readState();
    if (state.router && !isAlive(state.router.pid)) {
      if (state.live) await stopProcess(state.live.pid, 2000);
      this.ctx.output.warn(`the local deployment had stopped (router pid ${state.router.pid} is gone); cleaned up its state.`);
      writeJsonAtomic(this.stateFile, {});
      return {};
    }
    return state;
  }

  private stablePort(request: DeployRequest, state: DeployState): number {
    if (state.router && request.port !== undefined && request.port !== state.router.port) {
      throw new UsageError(`the deployment already serves on port ${state.router.port}`, {
        code: 'port_change',
        hint: 'Run `mlship stop` first to move it to another port.',
      });
    }
    return state.router?.port ?? request.port ?? this.ctx.manifest.targets.local.port;
  }

  private async resolveVersion(version: string | undefined): Promise<string> {
    return resolveVersion(await this.records(), version, 'the local registry').version;
  }

  /** The interpreter the build prepared for this version (else MLSHIP_PYTHON, the manifest's, python3). */
  private pythonFor(version: string, recorded?: string): string {
    const build = recorded ?? readJson<{ runtime?: { python?: string } }>(path.join(this.registry.contextDir(version), 'build.json'))?.runtime?.python;
    return build ?? this.ctx.env.MLSHIP_PYTHON ?? this.ctx.manifest.targets.local.python ?? 'python3';
  }
}
