/**
 * A write-once, read-many spool of float64 values: the first values stay in memory, the rest go to
 * a temporary file in fixed-size blocks. The numeric accumulator spools the current sample here so
 * that an exact second look at a few baseline intervals (Wasserstein, where the two CDFs cross)
 * never needs the sample in memory and never re-reads or re-parses the log.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Values kept in memory before the spool moves to disk (512 KiB). */
const MEMORY_VALUES = 65_536;
/** Values per disk block (512 KiB). */
const BLOCK_VALUES = 65_536;

/** A temporary folder for spool files, removed with `dispose()`. */
export class SpillDir {
  private dir: string | undefined;
  private readonly spools: Spool[] = [];

  /** A new spool in this folder. */
  spool(): Spool {
    const s = new Spool(() => {
      this.dir ??= mkdtempSync(path.join(tmpdir(), 'mlship-drift-'));
      return path.join(this.dir, `spool-${this.spools.length}.f64`);
    });
    this.spools.push(s);
    return s;
  }

  /** Close every spool and remove the folder. */
  dispose(): void {
    for (const s of this.spools) s.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

/** An append-only sequence of float64 values. */
export class Spool {
  private buffer = new Float64Array(MEMORY_VALUES);
  private used = 0;
  private fd: number | undefined;
  private file: string | undefined;
  private flushed = 0;

  constructor(private readonly fileFor: () => string) {}

  /** Number of values written. */
  get length(): number {
    return this.flushed + this.used;
  }

  push(x: number): void {
    if (this.used === this.buffer.length) this.flush();
    this.buffer[this.used++] = x;
  }

  private flush(): void {
    if (this.fd === undefined) {
      this.file = this.fileFor();
      this.fd = openSync(this.file, 'w+');
    }
    writeSync(this.fd, this.buffer, 0, this.used * 8, this.flushed * 8);
    this.flushed += this.used;
    this.used = 0;
  }

  /** Append many values. */
  pushAll(values: Float64Array): void {
    let from = 0;
    while (from < values.length) {
      if (this.used === this.buffer.length) this.flush();
      const n = Math.min(values.length - from, this.buffer.length - this.used);
      this.buffer.set(values.subarray(from, from + n), this.used);
      this.used += n;
      from += n;
    }
  }

  /** Visit every value in the order written, one block at a time. */
  forEach(visit: (x: number) => void): void {
    if (this.fd !== undefined) {
      const block = new Float64Array(BLOCK_VALUES);
      for (let offset = 0; offset < this.flushed; ) {
        const n = Math.min(BLOCK_VALUES, this.flushed - offset);
        readSync(this.fd, block, 0, n * 8, offset * 8);
        for (let i = 0; i < n; i++) visit(block[i]!);
        offset += n;
      }
    }
    for (let i = 0; i < this.used; i++) visit(this.buffer[i]!);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
