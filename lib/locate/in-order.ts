/**
 * Runs one task per item, at most `limit` at a time, started in the items' order, and gives the
 * results in the items' order whichever finishes first: so that work spread over the cores (the
 * intake's gzip inflation runs on libuv's thread pool, its line checks on the main thread) leaves
 * every list it builds, and so the evidence, the same as a run one item after the other.
 */

/** How many files the intake takes in at once: one per core, and never fewer than two (I/O and inflation overlap the checks even on one core). */
export function intakeConcurrency(cores: number): number {
  return Math.max(2, cores);
}

/**
 * `task(item, index)` for every item, at most `limit` running at once, started in order; the results
 * in the items' order. When a task fails no further one is started, the running ones are awaited
 * (none is left writing), and the failure of the lowest index is thrown: the one a run in order
 * would have thrown, since every item before a failing one was started before it.
 */
export async function mapInOrder<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const failures: { index: number; error: unknown }[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length && failures.length === 0) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failures.length > 0) {
    failures.sort((a, b) => a.index - b.index);
    throw (failures[0] as { error: unknown }).error;
  }
  return results;
}
