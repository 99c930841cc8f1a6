/**
 * Worker threads that parse log batches while the main thread accumulates, so a check of a large
 * log can use more cores. Opt-in (MLSHIP_DRIFT_WORKERS=N): each thread adds ~50 MB of heap, which
 * the 300 MB memory aim cannot afford by default, and on a loaded machine it gains nothing. Used
 * only from the compiled package (the worker is a .js file next to this one); elsewhere, and for
 * logs shorter than one batch, batches are parsed inline.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ParsedBatch } from './batch.js';
import type { ParseRequest } from './parse-worker.js';

const WORKER = new URL('./parse-worker.js', import.meta.url);

/** Parser threads to use: MLSHIP_DRIFT_WORKERS (at most one fewer than the cores), else 0 = inline. */
export function parserThreads(env: NodeJS.ProcessEnv): number {
  const asked = env.MLSHIP_DRIFT_WORKERS;
  if (asked === undefined || !/^\d+$/.test(asked) || !existsSync(fileURLToPath(WORKER))) return 0;
  return Math.min(Number(asked), Math.max(1, availableParallelism() - 1));
}

/** A fixed set of parser threads; batches go round-robin. */
export class ParsePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (b: ParsedBatch) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      // A small young generation: a batch's garbage is short-lived, and each thread's heap counts
      // toward the check's peak memory.
      const w = new Worker(WORKER, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
      w.on('message', (m: { id: number; batch: ParsedBatch }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m.batch);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  /** Parse one batch on the next thread. */
  run(request: Omit<ParseRequest, 'id'>): Promise<ParsedBatch> {
    const id = this.nextId++;
    const worker = this.workers[this.turn++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
