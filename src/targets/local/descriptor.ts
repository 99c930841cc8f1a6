/**
 * What mlship knows about the local target without loading it (SDK-free; see deploy/descriptor.ts).
 * Canary: the local router splits traffic by weight and counts the canary's requests, 5xx and
 * latency, and the shared rollout controller promotes or reverts it, as on the clouds.
 * `--require-approval` is refused (exit 2) naming the targets that have it.
 */
import type { TargetDescriptor } from '../../deploy/descriptor.js';
import type { Target } from '../../deploy/types.js';

/** `targets.local` as the loader resolves it (always present: its defaults suffice). */
export interface LocalSettings {
  port: number;
  python?: string;
  /** `llm`: the llama-server binary the gateway starts here. */
  llama_server?: string;
}

declare module '../../manifest/types.js' {
  interface TargetSettings {
    local: LocalSettings;
  }
}

export const localDescriptor: TargetDescriptor = {
  name: 'local',
  title: 'the local machine',
  settings: {
    description: 'the local runtime',
    properties: {
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 8080, description: 'the stable port of the local router' },
      python: {
        type: 'string',
        pattern: '^[A-Za-z0-9_./-]+$',
        'x-expected': 'a path or command name of a Python interpreter (letters, digits, . _ - /)',
        'x-default': 'your Python if it has what the app needs, else `.mlship/venv`',
        description: 'Python interpreter for the local runtime',
      },
      llama_server: {
        type: 'string',
        pattern: '^[A-Za-z0-9_./-]+$',
        'x-expected': "a path or command name of llama.cpp's llama-server (letters, digits, . _ - /)",
        'x-default': '`MLSHIP_LLAMA_SERVER`, else `llama-server` on `PATH`',
        description: '`llm` only: the llama.cpp server the gateway starts in front of a GGUF model on this machine',
      },
    },
  },
  initSnippet: [],
  ciLogin: [],
  catalog: 'local',
  // The app runs in a Python runtime here: `build` makes an image only with --image.
  deploysImages: false,
  create: async (ctx) => new (await import('./local-target.js')).LocalTarget(ctx) as unknown as Target,
  capabilities: { strategies: ['all-at-once', 'canary'], approval: false, alertEmail: false },
};
