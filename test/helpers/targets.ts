/**
 * Every test process knows the targets the CLI knows: importing the one list of descriptors registers
 * them with the manifest (src/targets/descriptors.ts), as `mlship` does at start-up. Vitest runs this
 * before each test file (`setupFiles`), so a test may load a manifest without importing a target.
 */
import '../../src/targets/descriptors.js';
