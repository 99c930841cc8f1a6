/**
 * How a build is started: the one launch contract shared by `mlship serve`, the local target and the
 * image's ENTRYPOINT — `<python> <buildDir>/serve.py serve` with the settings in the environment.
 */
import path from 'node:path';

/** The launch settings the app reads from its environment. */
export interface ServerSettings {
  port: number;
  /** Default 0.0.0.0 in the app; local runs pass 127.0.0.1. */
  host?: string;
  /** Folder of the prediction log. */
  logDir: string;
  /** `v3`…; the app says "dev" when unset. */
  version?: string;
  /** Folder holding the artifact; default `<buildDir>/model`. */
  modelDir?: string;
  /** An LLM build: the llama-server binary its gateway starts (`localLlamaServer`). */
  llamaServer?: string;
}

/** A ready-to-spawn command line. */
export interface ServerCommand {
  command: string;
  args: string[];
  /** Variables to add to the environment. */
  env: Record<string, string>;
}

/** The command line and environment that serve a build. */
export function serverCommand(python: string, buildDir: string, settings: ServerSettings): ServerCommand {
  return {
    command: python,
    args: [path.join(buildDir, 'serve.py'), 'serve'],
    env: {
      PORT: String(settings.port),
      MLSHIP_HOST: settings.host ?? '127.0.0.1',
      MLSHIP_LOG_DIR: settings.logDir,
      ...(settings.version !== undefined && { MLSHIP_VERSION: settings.version }),
      ...(settings.modelDir !== undefined && { MLSHIP_MODEL_DIR: settings.modelDir }),
      ...(settings.llamaServer !== undefined && { MLSHIP_LLAMA_SERVER: settings.llamaServer }),
      PYTHONDONTWRITEBYTECODE: '1',
    },
  };
}
