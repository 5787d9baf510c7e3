/**
 * Writes one element of every memory page of every typed array reachable from `roots`, leaving
 * its value as it was. A new ArrayBuffer is zeroed lazily by the kernel: each page faults on its
 * first write. The detector tables are tens of MiB, so a shard that had not touched them paid
 * those faults inside its first second of traffic, when every key is new — in this VM about
 * twice its steady cost per record (inbound `add` 234 ms in the first second, ~100 ms later),
 * and a backlog that shed records. Done once at start-up instead.
 */
export function touchPages(...roots: unknown[]): number {
  const seen = new Set<unknown>();
  let pages = 0;
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || seen.has(v) || depth > 8) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      if (v instanceof DataView) return;
      const a = v as unknown as { [i: number]: number | bigint; length: number; BYTES_PER_ELEMENT: number };
      const step = Math.max(1, Math.floor(4096 / a.BYTES_PER_ELEMENT));
      for (let i = 0; i < a.length; i += step) {
        // eslint-disable-next-line no-self-assign -- the write is the point: it maps the page
        a[i] = a[i];
        pages++;
      }
      return;
    }
    if (v instanceof Map) {
      for (const x of v.values()) visit(x, depth + 1);
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) visit(x, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  return pages;
}
