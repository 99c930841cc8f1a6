/** Placeholder replaced below. */
import type { DriftResult } from './check.js';
export async function writeDriftReport(_r: DriftResult, _file: string, _o: { project: string; generatedAt: Date }): Promise<void> {}
