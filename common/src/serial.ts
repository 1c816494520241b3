/**
 * Runs work one at a time per key, within this process: e.g. a pledge's release is checked against the
 * loan and the releases recorded so far, so two releases (or a release and a loan change) of one pledge
 * must not interleave. Across processes, see StateStore.exclusivePledge.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const run = prev.then(work, work);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }
}
