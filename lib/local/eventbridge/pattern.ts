// EventBridge event-pattern matching, for routing events in tests the way the deployed rule routes them. There is no
// maintained matcher on npm, so this follows the documented semantics (eb-create-pattern-operators): keys are ANDed,
// the values of a leaf are ORed, an array in the event matches when any element does, and a missing field matches
// only `exists: false`. A pattern this matcher cannot judge (cidr, an unknown operator) is refused, not guessed.

export type EventPattern = Readonly<Record<string, unknown>>;

export class EventPatternError extends Error {
  override readonly name = 'EventPatternError';
}

type Leaf = string | number | boolean | null;
/** Judges the leaf values found at one path of the event (empty when the field is missing). */
type Condition = (values: readonly Leaf[]) => boolean;
type Matcher = (value: unknown) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const fail = (path: string, why: string): never => {
  throw new EventPatternError(`event pattern at ${path || '(top)'}: ${why}`);
};

function leafValues(value: unknown): Leaf[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.filter((v): v is Leaf => !isObject(v) && !Array.isArray(v));
}

function wildcardRegExp(pattern: string, path: string): RegExp {
  if (pattern.includes('**')) fail(path, `wildcard "${pattern}" has consecutive "*"`);
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '*') source += '.*';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function stringTest(operator: string, operand: unknown, path: string): (s: string) => boolean {
  if (operator === 'prefix' || operator === 'suffix') {
    const ignoreCase = isObject(operand) && typeof operand['equals-ignore-case'] === 'string';
    const text = ignoreCase ? (operand['equals-ignore-case'] as string) : operand;
    if (typeof text !== 'string') fail(path, `${operator} takes a string or {"equals-ignore-case": string}`);
    const wanted = ignoreCase ? (text as string).toLowerCase() : (text as string);
    return (s) => {
      const subject = ignoreCase ? s.toLowerCase() : s;
      return operator === 'prefix' ? subject.startsWith(wanted) : subject.endsWith(wanted);
    };
  }
  if (operator === 'equals-ignore-case') {
    if (typeof operand !== 'string') fail(path, 'equals-ignore-case takes a string');
    const wanted = (operand as string).toLowerCase();
    return (s) => s.toLowerCase() === wanted;
  }
  if (operator === 'wildcard') {
    if (typeof operand !== 'string') fail(path, 'wildcard takes a string');
    const regexp = wildcardRegExp(operand as string, path);
    return (s) => regexp.test(s);
  }
  return fail(path, `unknown string operator "${operator}"`);
}

const isLiteral = (value: unknown): value is Leaf =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

const sameLiteral = (a: Leaf, b: Leaf): boolean => a === b;

function anythingBut(operand: unknown, path: string): (v: Leaf) => boolean {
  if (isLiteral(operand)) return (v) => !sameLiteral(v, operand);
  if (Array.isArray(operand)) {
    if (operand.length === 0 || !operand.every(isLiteral)) fail(path, 'anything-but list must hold values');
    return (v) => !operand.some((o) => sameLiteral(v, o as Leaf));
  }
  if (isObject(operand)) {
    const [operator, ...rest] = Object.keys(operand);
    if (operator === undefined || rest.length > 0) fail(path, 'anything-but takes one operator');
    const inner = operand[operator as string];
    if (operator === 'equals-ignore-case' && Array.isArray(inner)) {
      const tests = inner.map((i) => stringTest('equals-ignore-case', i, path));
      return (v) => typeof v === 'string' && !tests.some((t) => t(v));
    }
    const test = stringTest(operator as string, inner, path);
    return (v) => typeof v === 'string' && !test(v);
  }
  return fail(
    path,
    'anything-but takes a value, a list of values, or {prefix|suffix|wildcard|equals-ignore-case}',
  );
}

const COMPARATORS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function numeric(operand: unknown, path: string): (v: Leaf) => boolean {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
    fail(path, 'numeric takes one or two [operator, number] pairs, like [">", 0, "<=", 5]');
  }
  const checks: ((v: number) => boolean)[] = [];
  for (let i = 0; i < (operand as unknown[]).length; i += 2) {
    const op = (operand as unknown[])[i];
    const bound = (operand as unknown[])[i + 1];
    const compare = typeof op === 'string' ? COMPARATORS[op] : undefined;
    if (!compare || typeof bound !== 'number')
      fail(path, `numeric: "${String(op)}" ${String(bound)} is not a comparison`);
    checks.push((v: number) => (compare as (a: number, b: number) => boolean)(v, bound as number));
  }
  return (v) => typeof v === 'number' && checks.every((check) => check(v));
}

function compileCondition(item: unknown, path: string): Condition {
  if (isLiteral(item)) return (values) => values.some((v) => sameLiteral(v, item));
  if (!isObject(item)) return fail(path, `${JSON.stringify(item)} is neither a value nor an operator`);
  const keys = Object.keys(item);
  if (keys.length !== 1) fail(path, `an operator object has exactly one key, not ${JSON.stringify(keys)}`);
  const operator = keys[0] as string;
  const operand = item[operator];
  switch (operator) {
    case 'exists':
      if (typeof operand !== 'boolean') fail(path, 'exists takes true or false');
      return (values) => values.length > 0 === operand;
    case 'anything-but': {
      const test = anythingBut(operand, path);
      return (values) => values.some(test);
    }
    case 'numeric': {
      const test = numeric(operand, path);
      return (values) => values.some(test);
    }
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
    case 'wildcard': {
      const test = stringTest(operator, operand, path);
      return (values) => values.some((v) => typeof v === 'string' && test(v));
    }
    case 'cidr':
      return fail(path, 'cidr is not supported by this local matcher; add it here before a rule uses it');
    default:
      return fail(path, `unknown operator "${operator}"`);
  }
}

function compileObject(pattern: Readonly<Record<string, unknown>>, path: string): Matcher {
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(path, 'an empty object matches nothing useful; remove it');
  const parts: Matcher[] = keys.map((key) => {
    const here = path ? `${path}.${key}` : key;
    const value = pattern[key];
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
        fail(here, '$or takes a list of at least two patterns');
      }
      const alternatives = (value as Record<string, unknown>[]).map((alt, i) =>
        compileObject(alt, `${here}[${i}]`),
      );
      return (event) => alternatives.some((alternative) => alternative(event));
    }
    if (Array.isArray(value)) {
      if (value.length === 0) fail(here, 'an empty list matches nothing');
      const conditions = value.map((item) => compileCondition(item, here));
      return (event) => {
        const values = leafValues(isObject(event) ? event[key] : undefined);
        return conditions.some((condition) => condition(values));
      };
    }
    if (isObject(value)) {
      const nested = compileObject(value, here);
      return (event) => {
        const child = isObject(event) ? event[key] : undefined;
        // An array of objects in the event matches when any of its objects does.
        if (Array.isArray(child)) return child.some((item) => isObject(item) && nested(item));
        return nested(isObject(child) ? child : undefined);
      };
    }
    return fail(here, `${JSON.stringify(value)} must be a list of values or a nested pattern`);
  });
  return (event) => parts.every((part) => part(event));
}

/** Checks the pattern once and returns its matcher; throws EventPatternError naming the path of a bad part. */
export function compileEventPattern(pattern: unknown): (event: unknown) => boolean {
  if (!isObject(pattern)) throw new EventPatternError('an event pattern is a JSON object');
  return compileObject(pattern, '');
}

export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  return compileEventPattern(pattern)(event);
}
