/**
 * Runs `work` for every item with at most `limit` calls in flight. After a failure no new call
 * starts; it rejects with the first error once the calls in flight have settled, so a caller can
 * clean up after all of them.
 *
 * @example
 * ```ts
 * await forEachConcurrently(files, 4, async (file, i) => { sizes[i] = (await Deno.stat(file)).size; });
 * ```
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !failure) {
      const index = next++;
      try {
        await work(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
}
