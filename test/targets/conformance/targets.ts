/** The targets in the conformance suite: one line per target, each harness in its own file. */
import type { ConformanceHarness } from './harness.js';
import { harness as local } from './local.js';
import { harness as sagemaker } from './sagemaker.js';
import { harness as vertex } from './vertex.js';
import { harness as azure } from './azure.js';
import { harness as memory } from '../../doubles/memory-target/conformance.js';

export const HARNESSES: ConformanceHarness[] = [local, sagemaker, vertex, azure, memory];
