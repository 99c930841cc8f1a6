/** `mlship serve` — run the current build's serving app in the foreground on 127.0.0.1. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { OperationError, UsageError } from '../../util/errors.js';
import type { CommandModule } from '../context.js';

export const run: CommandModule['run'] = async (ctx, _args, options) => {
  const manifest = await ctx.manifest();
  const port = Number(options.port ?? manifest.targets.local.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`--port must be a port number, got "${String(options.port)}"`);
  const { currentBuild, localLlamaServer, localPython, readBuildInfo, serverCommand } = await import('../../packaging/index.js');
  const build = await currentBuild(manifest);
  const info = build && readBuildInfo(build.dir);
  if (!build || !info) {
    throw new UsageError(
      'no build of the current project: the manifest, model, features package or baseline changed since the last `mlship build`, or it never ran',
      {
        code: 'no_build',
        hint: 'Run `mlship build` first.',
      },
    );
  }
  const logDir = path.join(manifest.projectDir, '.mlship', 'logs');
  const action = `serve build ${build.id} here`;
  const llamaServer = localLlamaServer(info, { configured: manifest.targets.local.llama_server, env: ctx.env }, action);
  const cmd = serverCommand(localPython(info, action), build.dir, { port, host: '127.0.0.1', logDir, ...(llamaServer && { llamaServer }) });
  const routes = info.llm ? 'POST /v1/chat/completions, /v1/completions' : 'POST /predict';
  ctx.output.info(
    `serving build ${build.id} on http://127.0.0.1:${port} (${routes}); prediction log in ${path.relative(ctx.cwd, logDir) || logDir}; Ctrl-C stops`,
  );
  // The app's own lines are logs, not results: they go to stderr, as everything but results does.
  const child = spawn(cmd.command, cmd.args, { env: { ...ctx.env, ...cmd.env }, stdio: ['ignore', 2, 2] });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  if (exit.error)
    throw new OperationError('serve_failed', `cannot start ${cmd.command}: ${exit.error.message}`, {
      hint: 'Run `mlship build` again to prepare the Python environment.',
    });
  // Stopped by Ctrl-C / SIGTERM (the app exits 0 on them; a signal death counts the same).
  if (exit.code !== 0 && exit.signal === null) {
    throw new OperationError('serve_failed', `the serving app exited with code ${exit.code} (its message is above)`, {
      hint: 'Fix the cause above; `mlship build` again if the build is stale.',
    });
  }
  return { data: { id: build.id, url: `http://127.0.0.1:${port}`, stopped: true }, text: '' };
};
