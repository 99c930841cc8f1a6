/**
 * What a GGUF file's header says about its weights: the ggml type of every tensor, read from the
 * header alone (the metadata and the tensor table, a few MB even for a large model; the weights are
 * never read). The quantization sweep uses it to refuse a source that is already quantized.
 * Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (versions 2 and 3).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { GgufSourceType } from '../compute/estimate.js';

/** ggml tensor type ids (ggml.h `enum ggml_type`) → llama.cpp's names. */
const GGML_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  6: 'Q5_0',
  7: 'Q5_1',
  8: 'Q8_0',
  9: 'Q8_1',
  10: 'Q2_K',
  11: 'Q3_K',
  12: 'Q4_K',
  13: 'Q5_K',
  14: 'Q6_K',
  15: 'Q8_K',
  16: 'IQ2_XXS',
  17: 'IQ2_XS',
  18: 'IQ3_XXS',
  19: 'IQ1_S',
  20: 'IQ4_NL',
  21: 'IQ3_S',
  22: 'IQ2_S',
  23: 'IQ4_XS',
  24: 'I8',
  25: 'I16',
  26: 'I32',
  27: 'I64',
  28: 'F64',
  29: 'IQ1_M',
  30: 'BF16',
  34: 'TQ1_0',
  35: 'TQ2_0',
  39: 'MXFP4',
};

/** The header facts the sweep needs. */
export interface GgufHeader {
  version: number;
  /** Tensor name → type name (`F16`, `Q4_K`, …; `type <id>` for an id this table does not know). */
  tensors: Map<string, { type: string; dims: number[] }>;
}

/** Reads the file in growing chunks: headers are small next to the weights after them. */
class Reader {
  private buf = Buffer.alloc(0);
  private start = 0;
  pos = 0;
  constructor(
    private readonly fd: number,
    private readonly file: string,
  ) {}

  private need(n: number): void {
    if (this.pos + n <= this.start + this.buf.length) return;
    const from = this.pos;
    const size = Math.max(n, 1 << 20);
    const chunk = Buffer.alloc(size);
    const got = readSync(this.fd, chunk, 0, size, from);
    if (got < n) throw new Error(`${this.file}: the GGUF header ends early (at byte ${from + got})`);
    this.buf = chunk.subarray(0, got);
    this.start = from;
  }
  private at(n: number): number {
    this.need(n);
    const off = this.pos - this.start;
    this.pos += n;
    return off;
  }
  u32(): number {
    return this.buf.readUInt32LE(this.at(4));
  }
  u64(): number {
    const v = this.buf.readBigUInt64LE(this.at(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${this.file}: a GGUF length of ${v} is not plausible`);
    return Number(v);
  }
  bytes(n: number): Buffer {
    const off = this.at(n);
    return this.buf.subarray(off, off + n);
  }
  string(): string {
    return this.bytes(this.u64()).toString('utf8');
  }
  skip(n: number): void {
    // Large arrays (a vocabulary) are skipped in bounded steps so the buffer never grows past them.
    while (n > 0) {
      const step = Math.min(n, 1 << 20);
      this.at(step);
      n -= step;
    }
  }
}

/** Sizes of the fixed-width metadata value types (GGUF `gguf_metadata_value_type`). */
const VALUE_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;

function skipValue(r: Reader, type: number): void {
  if (type === STRING) r.skip(r.u64());
  else if (type === ARRAY) {
    const inner = r.u32();
    const count = r.u64();
    if (inner === STRING) for (let i = 0; i < count; i++) r.skip(r.u64());
    else if (VALUE_SIZE[inner] !== undefined) r.skip(VALUE_SIZE[inner] * count);
    else for (let i = 0; i < count; i++) skipValue(r, inner);
  } else if (VALUE_SIZE[type] !== undefined) r.skip(VALUE_SIZE[type]);
  else throw new Error(`unknown GGUF metadata type ${type}`);
}

/** Read a GGUF file's header. Throws (a plain Error with the reason) when the file is not GGUF. */
export function readGgufHeader(file: string): GgufHeader {
  const fd = openSync(file, 'r');
  try {
    const r = new Reader(fd, file);
    if (r.bytes(4).toString('latin1') !== 'GGUF') throw new Error(`${file} is not a GGUF file (no "GGUF" magic)`);
    const version = r.u32();
    if (version < 2) throw new Error(`${file} is GGUF version ${version}; versions 2 and 3 are read`);
    const tensorCount = r.u64();
    const kvCount = r.u64();
    for (let i = 0; i < kvCount; i++) {
      r.string();
      skipValue(r, r.u32());
    }
    const tensors = new Map<string, { type: string; dims: number[] }>();
    for (let i = 0; i < tensorCount; i++) {
      const name = r.string();
      const nDims = r.u32();
      const dims = Array.from({ length: nDims }, () => r.u64());
      const id = r.u32();
      r.u64(); // offset
      tensors.set(name, { type: GGML_TYPES[id] ?? `type ${id}`, dims });
    }
    return { version, tensors };
  } finally {
    closeSync(fd);
  }
}

/**
 * The width of an unquantized source: the type of its weight matrices (tensors of two or more
 * dimensions; norms and biases stay F32 in every file), when they are all F32, F16 or BF16 (the
 * widest when mixed). Otherwise the quantized types found, to say why it cannot be a source.
 */
export function sourceType(header: GgufHeader): { type: GgufSourceType } | { quantized: string[] } {
  const types = new Set<string>();
  for (const t of header.tensors.values()) if (t.dims.filter((d) => d > 1).length >= 2) types.add(t.type);
  const quantized = [...types].filter((t) => t !== 'F32' && t !== 'F16' && t !== 'BF16');
  if (quantized.length > 0 || types.size === 0) return { quantized: quantized.sort() };
  return { type: types.has('F32') ? 'F32' : types.has('BF16') ? 'BF16' : 'F16' };
}
