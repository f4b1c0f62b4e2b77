// Label and field selectors as the apiserver parses them. Labels: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
// `a in (x,y)`, `a notin (x,y)`, joined by commas. Fields: `metadata.name` and `metadata.namespace` for every kind,
// plus what each kind adds (core Events: `involvedObject.*`, as `kubectl describe` sends), with `=`, `==` and `!=`.
import type { ResourceKind } from './resources.ts';
import type { KubeObject } from './store.ts';

export type ObjectFilter = (object: KubeObject) => boolean;
type FieldReader = (object: KubeObject) => string;

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

export function parseLabelSelector(text: string): ObjectFilter {
  const requirements = splitTerms(text).map(parseRequirement);
  return (object) => requirements.every((matches) => matches(object.metadata.labels));
}

const text = (value: unknown): string => (value === undefined || value === null ? '' : String(value));
const at =
  (...path: string[]): FieldReader =>
  (object) => {
    let value: unknown = object;
    for (const step of path) value = (value as Record<string, unknown> | undefined)?.[step];
    return text(value);
  };

const META_FIELDS: Record<string, FieldReader> = {
  'metadata.name': at('metadata', 'name'),
  'metadata.namespace': at('metadata', 'namespace'),
};

/** Events are stored in their core/v1 shape; events.k8s.io/v1 names the same fields its own way. */
const INVOLVED = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];
const CORE_EVENT_FIELDS: Record<string, FieldReader> = {
  ...Object.fromEntries(INVOLVED.map((f) => [`involvedObject.${f}`, at('involvedObject', f)])),
  reason: at('reason'),
  reportingComponent: at('reportingComponent'),
  source: at('source', 'component'),
  type: at('type'),
};
const EVENTS_API_FIELDS: Record<string, FieldReader> = {
  ...Object.fromEntries(INVOLVED.map((f) => [`regarding.${f}`, at('involvedObject', f)])),
  reason: at('reason'),
  reportingController: at('reportingComponent'),
  type: at('type'),
};
const SERVICE_FIELDS: Record<string, FieldReader> = {
  'spec.clusterIP': at('spec', 'clusterIP'),
  'spec.type': at('spec', 'type'),
};

/** The field selectors a kind supports, read from its stored objects. */
export function selectableFields(resource: ResourceKind): Record<string, FieldReader> {
  if (resource.plural === 'events')
    return { ...META_FIELDS, ...(resource.group === '' ? CORE_EVENT_FIELDS : EVENTS_API_FIELDS) };
  if (resource.plural === 'services' && resource.group === '') return { ...META_FIELDS, ...SERVICE_FIELDS };
  return META_FIELDS;
}

export function parseFieldSelector(
  text: string,
  fields: Record<string, FieldReader> = META_FIELDS,
): ObjectFilter {
  const requirements = splitTerms(text).map((term): ObjectFilter => {
    const match = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!match) throw new SelectorError(`invalid field selector: '${term}'`);
    const [, field, op, value] = match as unknown as [string, string, string, string];
    const read = fields[field];
    if (!read) throw new SelectorError(`field label not supported: ${field}`);
    return op === '!=' ? (o) => read(o) !== value : (o) => read(o) === value;
  });
  return (object) => requirements.every((matches) => matches(object));
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
