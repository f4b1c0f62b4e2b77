// Kubernetes label selectors as kubectl and external-dns's --label-filter accept them, so that a selector copied from
// one of them means the same thing here: comma-separated requirements, all of which must hold.
//   a=b, a==b   label a is b            a!=b        a is not b, or a is absent
//   a in (x,y)  a is x or y             a notin (x) a is not x, or a is absent
//   a           a is present            !a          a is absent

export type Requirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | 'absent' };

export interface LabelSelector {
  /** The selector as written; reasons and errors quote it. */
  readonly text: string;
  readonly requirements: readonly Requirement[];
}

export const everything: LabelSelector = { text: '', requirements: [] };

export class LabelSelectorError extends Error {
  override readonly name = 'LabelSelectorError';
}

const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string, term: string): string {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  if (!prefixOk || name.length > 63 || !NAME.test(name)) {
    throw new LabelSelectorError(`"${term}": "${key}" is not a valid label key`);
  }
  return key;
}

function checkValue(value: string, term: string): string {
  if (value.length > 63 || !VALUE.test(value)) {
    throw new LabelSelectorError(`"${term}": "${value}" is not a valid label value`);
  }
  return value;
}

/** Splits on the commas that separate requirements, not those inside `in (…)` lists. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) throw new LabelSelectorError(`unbalanced parentheses in "${text}"`);
  }
  if (depth !== 0) throw new LabelSelectorError(`unbalanced parentheses in "${text}"`);
  out.push(text.slice(start));
  return out.map((t) => t.trim());
}

function parseTerm(term: string): Requirement {
  if (term === '')
    throw new LabelSelectorError('empty requirement (two commas in a row, or a trailing comma)');
  const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
  if (set) {
    const values = (set[3] as string).split(',').map((v) => checkValue(v.trim(), term));
    if (values.length === 1 && values[0] === '') {
      throw new LabelSelectorError(`"${term}": a set needs at least one value`);
    }
    return { key: checkKey(set[1] as string, term), op: set[2] as 'in' | 'notin', values };
  }
  const equality = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (equality) {
    const op = equality[2] === '!=' ? 'notin' : 'in';
    return {
      key: checkKey(equality[1] as string, term),
      op,
      values: [checkValue(equality[3] as string, term)],
    };
  }
  const absent = /^!\s*(\S+)$/.exec(term);
  if (absent) return { key: checkKey(absent[1] as string, term), op: 'absent' };
  if (/^[^=!<>()\s]+$/.test(term)) return { key: checkKey(term, term), op: 'exists' };
  throw new LabelSelectorError(
    `cannot parse "${term}": use a=b, a!=b, a in (x,y), a notin (x,y), a or !a, separated by commas`,
  );
}

/** Parses a selector; the empty string selects everything. Throws LabelSelectorError naming the bad requirement. */
export function parseLabelSelector(text: string): LabelSelector {
  const trimmed = text.trim();
  if (trimmed === '') return everything;
  return { text: trimmed, requirements: terms(trimmed).map(parseTerm) };
}

export function requirementHolds(
  requirement: Requirement,
  labels: Readonly<Record<string, string>>,
): boolean {
  const value = Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined;
  switch (requirement.op) {
    case 'exists':
      return value !== undefined;
    case 'absent':
      return value === undefined;
    case 'in':
      return value !== undefined && requirement.values.includes(value);
    case 'notin':
      return value === undefined || !requirement.values.includes(value);
  }
}

export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return selector.requirements.every((r) => requirementHolds(r, labels ?? {}));
}
