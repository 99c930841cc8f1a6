/** Types of check-layers.mjs for the test that runs it. */
export declare const LAYERS: string[][];
export declare function layerViolations(root: string): { from: string; to: string; why: string }[];
