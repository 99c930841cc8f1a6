/** The one autocannon entry point the serving benches call; each narrows its options and results. */
declare module 'autocannon' {
  const autocannon: (options: Record<string, unknown>) => Promise<unknown>;
  export default autocannon;
}
