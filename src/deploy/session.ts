/**
 * A cloud target's connection (SDK clients, resolved names, registry), made on first use and shared
 * by every later call of the command. A failed attempt (a passing 429, an expired token) is not kept:
 * the next call connects again.
 */
export class LazySession<S> {
  private pending?: Promise<S>;

  constructor(private readonly connect: () => Promise<S>) {}

  get(): Promise<S> {
    if (!this.pending) {
      const attempt = this.connect();
      this.pending = attempt;
      attempt.catch(() => {
        if (this.pending === attempt) this.pending = undefined;
      });
    }
    return this.pending;
  }

  /** The connection if one was started (to close it), else undefined. */
  get started(): Promise<S> | undefined {
    return this.pending;
  }
}
