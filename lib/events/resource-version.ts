// Kubernetes calls resourceVersion opaque, but within one cluster it is etcd's revision: a decimal integer that
// only grows. Ordering by it is what makes duplicated, late and reordered events harmless.

/** Negative when `a` is older than `b`, zero when equal, positive when newer. */
export function compareResourceVersions(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
