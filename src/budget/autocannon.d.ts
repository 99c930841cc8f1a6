/** The one autocannon entry point mlship calls; `load-test.ts` narrows its options and results. */
declare module 'autocannon' {
  const autocannon: (options: Record<string, unknown>) => Promise<unknown>;
  export default autocannon;
}
