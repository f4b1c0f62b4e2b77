// IAM's decision for one request, from the statements of the identity's policies and of the resource's policy, for
// a principal of the same account (where either may allow): an explicit deny anywhere wins, then any allow, else
// the request is denied implicitly. It implements what AWS documents for the parts of the policy language the stack
// uses, and throws on any other (NotAction, ForAllValues:, Null…) rather than decide without it:
// - Action matches case-insensitively, with * and ?; Resource and the Arn* operators match each of the six
//   colon-separated parts of an ARN on its own, with * and ? (the resource part may hold colons).
// - In a condition, every operator and every key must hold; a key holds if any of its values matches. A key the
//   request lacks fails a positive operator (unless …IfExists) and satisfies a negated one (…Not…).
// - `aws:PrincipalArn` is the role's ARN for a role, and absent for a service principal.

export type Statement = Readonly<Record<string, unknown>>;

export type Principal = { readonly arn: string } | { readonly service: string };

export interface Request {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  /** Condition keys of the request (their names are case-insensitive, as in IAM). */
  readonly context?: Readonly<Record<string, string>>;
}

export type Decision = 'allowed' | 'denied explicitly' | 'denied implicitly';

export interface Policies {
  /** The statements of every policy of the principal. */
  readonly identity?: readonly Statement[];
  /** The statements of the resource's policy (they name principals). */
  readonly resource?: readonly Statement[];
}

export function decide(request: Request, policies: Policies): Decision {
  const matching = [
    ...(policies.identity ?? []).filter((s) => applies(s, request, false)),
    ...(policies.resource ?? []).filter((s) => applies(s, request, true)),
  ];
  if (matching.some((s) => effect(s) === 'Deny')) return 'denied explicitly';
  if (matching.some((s) => effect(s) === 'Allow')) return 'allowed';
  return 'denied implicitly';
}

const SUPPORTED = new Set(['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition']);

function effect(statement: Statement): 'Allow' | 'Deny' {
  const value = statement.Effect;
  if (value !== 'Allow' && value !== 'Deny')
    throw new Error(`statement without a valid Effect: ${show(statement)}`);
  return value;
}

function applies(statement: Statement, request: Request, resourcePolicy: boolean): boolean {
  for (const key of Object.keys(statement)) {
    if (!SUPPORTED.has(key)) throw new Error(`unsupported statement element ${key}: ${show(statement)}`);
  }
  if (resourcePolicy !== 'Principal' in statement) {
    throw new Error(`${resourcePolicy ? 'a resource' : 'an identity'} policy statement ${show(statement)}`);
  }
  return (
    (!resourcePolicy || principalMatches(statement.Principal, request.principal)) &&
    strings(statement.Action).some((a) => glob(a, request.action, true)) &&
    strings(statement.Resource).some((r) => r === '*' || arnMatches(r, request.resource)) &&
    conditionHolds(statement.Condition, contextOf(request))
  );
}

function principalMatches(element: unknown, principal: Principal): boolean {
  if (element === '*') return true;
  if (typeof element !== 'object' || element === null)
    throw new Error(`unsupported Principal ${show(element)}`);
  const { AWS, Service, ...other } = element as Record<string, unknown>;
  if (Object.keys(other).length > 0) throw new Error(`unsupported Principal ${show(element)}`);
  if ('arn' in principal) return strings(AWS ?? []).some((a) => a === '*' || a === principal.arn);
  return strings(Service ?? []).includes(principal.service);
}

function contextOf(request: Request): Map<string, string> {
  const context = new Map(Object.entries(request.context ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  if ('arn' in request.principal) context.set('aws:principalarn', request.principal.arn);
  return context;
}

type Matcher = (pattern: string, value: string) => boolean;

const OPERATORS: Readonly<Record<string, { match: Matcher; negated: boolean }>> = {
  StringEquals: { match: (p, v) => p === v, negated: false },
  StringNotEquals: { match: (p, v) => p === v, negated: true },
  StringLike: { match: (p, v) => glob(p, v, false), negated: false },
  StringNotLike: { match: (p, v) => glob(p, v, false), negated: true },
  ArnEquals: { match: arnMatches, negated: false },
  ArnLike: { match: arnMatches, negated: false },
  ArnNotEquals: { match: arnMatches, negated: true },
  ArnNotLike: { match: arnMatches, negated: true },
};

function conditionHolds(condition: unknown, context: Map<string, string>): boolean {
  if (condition === undefined) return true;
  return Object.entries(condition as Record<string, Record<string, unknown>>).every(([name, keys]) => {
    const ifExists = name.endsWith('IfExists');
    const operator = OPERATORS[ifExists ? name.slice(0, -'IfExists'.length) : name];
    if (!operator) throw new Error(`unsupported condition operator ${name}`);
    return Object.entries(keys).every(([key, values]) => {
      const actual = context.get(key.toLowerCase());
      if (actual === undefined) return operator.negated || ifExists;
      const any = strings(values).some((pattern) => operator.match(pattern, actual));
      return operator.negated ? !any : any;
    });
  });
}

function arnMatches(pattern: string, arn: string): boolean {
  const parts = (s: string) => {
    const split = s.split(':');
    return [...split.slice(0, 5), split.slice(5).join(':')];
  };
  const p = parts(pattern);
  const a = parts(arn);
  return p.length === 6 && a.length === 6 && p.every((part, i) => glob(part, a[i] as string, false));
}

function glob(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

function strings(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v) => typeof v === 'string')) throw new Error(`not resolved to strings: ${show(value)}`);
  return list;
}

const show = (value: unknown) => JSON.stringify(value);
