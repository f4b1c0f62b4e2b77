// Label and field selectors as the apiserver parses them. Labels: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
// `a in (x,y)`, `a notin (x,y)`, joined by commas. Fields: only the two every resource supports for Services here,
// `metadata.name` and `metadata.namespace`, with `=`, `==` and `!=`.
import type { Service } from './store.ts';

export type ServiceFilter = (service: Service) => boolean;

/** A selector the apiserver would refuse with 400 Bad Request. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

const KEY = `(?:[a-zA-Z0-9.-]+/)?[a-zA-Z0-9](?:[-a-zA-Z0-9_.]*[a-zA-Z0-9])?`;
const VALUE = `(?:[a-zA-Z0-9](?:[-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?`;
const EXISTS = new RegExp(`^(${KEY})$`);
const NOT_EXISTS = new RegExp(`^!\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s+\\(([^()]*)\\)$`);

type Labels = Record<string, string> | undefined;

export function parseLabelSelector(text: string): ServiceFilter {
  const requirements = splitTerms(text).map(parseRequirement);
  return (service) => requirements.every((matches) => matches(service.metadata.labels));
}

export function parseFieldSelector(text: string): ServiceFilter {
  const requirements = splitTerms(text).map((term): ServiceFilter => {
    const match = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!match) throw new SelectorError(`invalid field selector: '${term}'`);
    const [, field, op, value] = match as unknown as [string, string, string, string];
    const read =
      field === 'metadata.name'
        ? (s: Service) => s.metadata.name
        : field === 'metadata.namespace'
          ? (s: Service) => s.metadata.namespace
          : undefined;
    if (!read) throw new SelectorError(`field label not supported: ${field}`);
    return op === '!=' ? (s) => read(s) !== value : (s) => read(s) === value;
  });
  return (service) => requirements.every((matches) => matches(service));
}

function parseRequirement(term: string): (labels: Labels) => boolean {
  let match = NOT_EXISTS.exec(term);
  if (match) {
    const key = match[1] as string;
    return (labels) => labels?.[key] === undefined;
  }
  match = EXISTS.exec(term);
  if (match) {
    const key = match[1] as string;
    return (labels) => labels?.[key] !== undefined;
  }
  match = EQUALITY.exec(term);
  if (match) {
    const key = match[1] as string;
    const op = match[2];
    const value = match[3] ?? '';
    // `a!=b` also matches objects without `a`, as in Kubernetes.
    return op === '!=' ? (labels) => labels?.[key] !== value : (labels) => labels?.[key] === value;
  }
  match = SET.exec(term);
  if (match) {
    const key = match[1] as string;
    const values = new Set((match[3] as string).split(',').map((v) => v.trim()));
    if (match[2] === 'in') return (labels) => labels?.[key] !== undefined && values.has(labels[key]);
    return (labels) => labels?.[key] === undefined || !values.has(labels[key]);
  }
  throw new SelectorError(`unable to parse requirement: '${term}'`);
}

/** Splits on the commas that are not inside `( … )`. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if ((c === ',' && depth === 0) || c === undefined) {
      const term = text.slice(start, i).trim();
      if (term) terms.push(term);
      start = i + 1;
    }
  }
  return terms;
}
