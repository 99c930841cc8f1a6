/** Types of manifest-docs.mjs for the test that runs it. */
export declare const SCHEMA_FILE: string;
export declare const PAGE_FILE: string;
export declare function renderManifestDocs(schema: Record<string, unknown>): string;
