/**
 * modelLoadSeconds: the time health checks allow a serving container to load its model grows with
 * the model's size and a GPU's warm-up, and never drops below what a small model needs.
 */
import { describe, expect, it } from 'vitest';
import { GPU_WARMUP_S, MARGIN, modelLoadSeconds, probeFailures, READ_BYTES_PER_S, START_S, STEP_S } from '../../src/compute/load-time.js';

describe('modelLoadSeconds', () => {
  it('allows a small model the container start, with the margin', () => {
    expect(modelLoadSeconds(572_000, false)).toBe(Math.ceil((MARGIN * (START_S + 572_000 / READ_BYTES_PER_S)) / STEP_S) * STEP_S);
    expect(modelLoadSeconds(0, false)).toBe(MARGIN * START_S);
    expect(modelLoadSeconds(Number.NaN, false)).toBe(MARGIN * START_S);
  });

  it('grows with the bytes to read and with a GPU warm-up', () => {
    const fp16_7b = 14e9;
    const cpu = modelLoadSeconds(fp16_7b, false);
    const gpu = modelLoadSeconds(fp16_7b, true);
    expect(cpu).toBe(Math.ceil((MARGIN * (START_S + 140)) / STEP_S) * STEP_S);
    expect(gpu - cpu).toBe(MARGIN * GPU_WARMUP_S);
    expect(modelLoadSeconds(2 * fp16_7b, true)).toBeGreaterThan(gpu);
    for (const s of [cpu, gpu]) expect(s % STEP_S).toBe(0);
  });

  it('probeFailures covers the time with whole probe periods', () => {
    expect(probeFailures(460, 10)).toBe(46);
    expect(probeFailures(461, 10)).toBe(47);
    expect(probeFailures(0, 10)).toBe(1);
  });
});
