/**
 * Worker threads that parse log batches while the main thread accumulates, so a check of a large
 * log uses the machine's cores. On by default where there are at least two cores and the memory
 * for them (MLSHIP_DRIFT_WORKERS=N overrides: 0 or 1 = parse on the main thread). Used only from
 * the compiled package (the worker is a .js file next to this one); elsewhere, and for logs shorter
 * than one batch, batches are parsed inline.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ParseRequest, ParseResponse } from './parse-worker.js';

const WORKER = new URL('./parse-worker.js', import.meta.url);

/**
 * Most parser threads by default: past a few, the main thread's accumulation is the bottleneck
 * and more threads only cost memory.
 */
const MAX_DEFAULT_THREADS = 4;
/** Memory one parser thread may take at its peak (measured 30–45 MB of resident memory each), with margin. */
const THREAD_BYTES = 64 * 2 ** 20;
/** Most threads MLSHIP_DRIFT_WORKERS can ask for. */
const MAX_THREADS = 32;

/** What the default depends on: the cores this process may use and the memory available. */
export interface Machine {
  cores: number;
  freeBytes: number;
}

/**
 * Parser threads to use: none where the worker file is absent (running from the TypeScript
 * sources), else as `threadsFor` decides for this machine.
 */
export function parserThreads(env: NodeJS.ProcessEnv, machine: Machine = { cores: availableParallelism(), freeBytes: freemem() }): number {
  return existsSync(fileURLToPath(WORKER)) ? threadsFor(env, machine) : 0;
}

/**
 * MLSHIP_DRIFT_WORKERS=N when set (0 or 1: none, the main thread parses); else one per core, up
 * to MAX_DEFAULT_THREADS and to what half the available memory holds, and none on one core (the
 * threads would only compete with the main thread for it).
 */
export function threadsFor(env: NodeJS.ProcessEnv, machine: Machine): number {
  const asked = env.MLSHIP_DRIFT_WORKERS?.trim();
  const n =
    asked !== undefined && /^\d+$/.test(asked)
      ? Math.min(Number(asked), MAX_THREADS)
      : Math.min(machine.cores, MAX_DEFAULT_THREADS, Math.floor(machine.freeBytes / 2 / THREAD_BYTES));
  return n <= 1 ? 0 : n;
}

/** A fixed set of parser threads; batches go round-robin. */
export class ParsePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (r: ParseResponse) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private turn = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      // A small young generation: a batch's garbage is short-lived, and each thread's heap counts
      // toward the check's peak memory.
      const w = new Worker(WORKER, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
      w.on('message', (m: ParseResponse) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  /** Parse one batch on the next thread; its bytes come back with the answer. */
  run(request: Omit<ParseRequest, 'id'>): Promise<ParseResponse> {
    const id = this.nextId++;
    const worker = this.workers[this.turn++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Bytes move to the thread (the caller made them for this batch alone); text is copied once.
      worker.postMessage({ ...request, id }, typeof request.payload === 'string' ? [] : [request.payload.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
