// Registry names as Kubernetes object names. A Service name is a DNS-1035 label (lower case letters, digits and
// `-`, starting with a letter, ending with a letter or digit, at most 63 characters); registry names allow upper
// case, `.`, `_` and 253 characters. The mapping is deterministic from the document alone, so every replica and
// every restart picks the same names.
import { createHash } from 'node:crypto';

export const MAX_LABEL_LENGTH = 63;
const HASH_LENGTH = 8;
const DNS_1035 = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const isDns1035Label = (name: string): boolean => DNS_1035.test(name);

/** The first characters of the name's SHA-256: the same name always gets the same suffix. */
export const shortHash = (name: string): string =>
  createHash('sha256').update(name, 'utf8').digest('hex').slice(0, HASH_LENGTH);

/** Lower case, every character outside `[a-z0-9-]` as `-`, a leading `r-` when it does not start with a letter. */
export function dns1035Base(name: string): string {
  let base = name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (!/^[a-z]/.test(base)) base = `r-${base}`;
  return base.replace(/-+$/, '');
}

/** `base` cut to leave room for `-<hash>`, with the hash of the original name. */
function hashed(base: string, original: string): string {
  const room = MAX_LABEL_LENGTH - HASH_LENGTH - 1;
  return `${base.slice(0, room).replace(/-+$/, '')}-${shortHash(original)}`;
}

/**
 * A Service name for each registry name. A name that already is a DNS-1035 label keeps itself. Names that become
 * the same label share it out: a name that is that label keeps it, else the first in code-unit order (the
 * document's order); the others, and every name longer than 63 characters once mapped, get `-<hash>` of their
 * original name. A hashed name that still meets another is left out of the result (the caller reports it).
 */
export function serviceNames(names: readonly string[]): Map<string, string> {
  const byBase = new Map<string, string[]>();
  for (const name of [...new Set(names)].sort()) {
    const base = dns1035Base(name);
    byBase.set(base, [...(byBase.get(base) ?? []), name]);
  }
  const result = new Map<string, string>();
  const taken = new Map<string, string>();
  const give = (name: string, label: string) => {
    if (taken.has(label)) return;
    taken.set(label, name);
    result.set(name, label);
  };
  const hashedLater: Array<[string, string]> = [];
  for (const [base, group] of byBase) {
    const fits = base.length <= MAX_LABEL_LENGTH;
    const keeper = fits ? (group.find((n) => n === base) ?? group[0]) : undefined;
    for (const name of group) {
      if (name === keeper) give(name, base);
      else hashedLater.push([name, hashed(base, name)]);
    }
  }
  // Plain names first, so a hashed name never takes a label that a name maps to plainly.
  for (const [name, label] of hashedLater) give(name, label);
  return result;
}
