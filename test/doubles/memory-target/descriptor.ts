/**
 * The in-memory target: a fifth target that exists only in the test suite, to prove that a target is
 * its descriptor plus its implementation and nothing else (ARCHITECTURE.md, "a target"). Nothing in
 * src/ names it: the conformance harness registers it in-process (`registerExtraTargets`), and a
 * spawned `mlship` learns of it from `MLSHIP_EXTRA_TARGETS=<this file>` (the CLI imports the module and
 * registers its `descriptors`). Like every descriptor, this file stays tiny and imports the
 * implementation only in `create`.
 */
import type { TargetDescriptor } from '../../../src/deploy/descriptor.js';
import type { Target } from '../../../src/deploy/types.js';

/** `targets.memory` as the loader resolves it (always present: its defaults suffice). */
export interface MemorySettings {
  /** Where the in-memory cloud is saved between commands (relative to the project). */
  state: string;
  /** Observations a deployment takes to become ready. */
  provision_polls: number;
}

declare module '../../../src/manifest/types.js' {
  interface TargetSettings {
    memory?: MemorySettings;
  }
}

export const memoryDescriptor: TargetDescriptor = {
  name: 'memory',
  title: 'the in-memory test target',
  settings: {
    description: 'the in-memory test target (test suite only)',
    properties: {
      state: {
        type: 'string',
        pattern: '^[A-Za-z0-9_./-]+$',
        'x-expected': 'a relative path',
        default: '.mlship/memory-cloud.json',
        description: 'file the in-memory cloud is saved to between commands',
      },
      provision_polls: { type: 'integer', minimum: 1, maximum: 100, default: 2, description: 'observations a deployment takes to become ready' },
    },
  },
  // Runs where mlship runs, one fixed "instance": the local catalog prices it.
  catalog: 'local',
  initSnippet: [],
  ciLogin: [],
  deploysImages: false,
  capabilities: { strategies: ['all-at-once', 'canary'], approval: false, alertEmail: false },
  create: async (ctx) => new (await import('./memory-target.js')).MemoryTarget(ctx) as Target,
};

/** What `MLSHIP_EXTRA_TARGETS` loads. */
export const descriptors: TargetDescriptor[] = [memoryDescriptor];
