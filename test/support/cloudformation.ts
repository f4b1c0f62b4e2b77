// Resolves the values of a compiled CloudFormation template as a deployed stack would: conditions, `Fn::If` and
// `AWS::NoValue`, `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Split`, `Fn::Join`. The ARNs and names of the stack's own
// resources are what the test says they are. Any other function throws: a value this cannot resolve is never
// guessed.

/** What CloudFormation would know once the stack exists. */
export interface Stack {
  readonly region: string;
  readonly accountId: string;
  readonly partition?: string;
  /** `Logical` (what `Ref` gives) or `Logical.Attribute` (what `Fn::GetAtt` gives) → its value. */
  readonly resources: Readonly<Record<string, string>>;
}

export interface Template {
  readonly Conditions?: Readonly<Record<string, unknown>>;
}

const NO_VALUE = Symbol('AWS::NoValue');

export interface Resolver {
  /** The value with every intrinsic function resolved; `AWS::NoValue` removes the property or item it stands for. */
  value(value: unknown): unknown;
  condition(name: string): boolean;
}

export function resolver(template: Template, stack: Stack): Resolver {
  const pseudo: Record<string, unknown> = {
    'AWS::Region': stack.region,
    'AWS::AccountId': stack.accountId,
    'AWS::Partition': stack.partition ?? 'aws',
    'AWS::NoValue': NO_VALUE,
  };
  const named = (name: string): unknown => {
    if (name in pseudo) return pseudo[name];
    const found = stack.resources[name];
    if (found === undefined) throw new Error(`the stack does not say what ${name} resolves to`);
    return found;
  };
  const conditions = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const definition = template.Conditions?.[name];
    if (definition === undefined) throw new Error(`no condition ${name} in the template`);
    const result = value(definition);
    if (typeof result !== 'boolean') throw new Error(`condition ${name} is not a boolean`);
    conditions.set(name, result);
    return result;
  };
  const list = (v: unknown): unknown[] => {
    const resolved = value(v);
    if (!Array.isArray(resolved)) throw new Error(`not a list: ${JSON.stringify(v)}`);
    return resolved;
  };
  const sub = (text: string, variables: Record<string, unknown>): string =>
    text.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) =>
      literal ? `\${${name}}` : String(name in variables ? variables[name] : named(name)),
    );
  const call = (fn: string, arg: unknown): unknown => {
    const args = arg as unknown[];
    switch (fn) {
      case 'Ref':
        return named(arg as string);
      case 'Fn::GetAtt':
        return named(`${args[0]}.${args[1]}`);
      case 'Condition':
        return condition(arg as string);
      case 'Fn::If':
        return value(condition(args[0] as string) ? args[1] : args[2]);
      case 'Fn::Equals':
        return String(value(args[0])) === String(value(args[1]));
      case 'Fn::Not':
        return !value(args[0]);
      case 'Fn::And':
        return args.every((a) => value(a) === true);
      case 'Fn::Or':
        return args.some((a) => value(a) === true);
      case 'Fn::Split':
        return String(value(args[1])).split(args[0] as string);
      case 'Fn::Join':
        return list(args[1]).join(args[0] as string);
      case 'Fn::Sub':
        return typeof arg === 'string'
          ? sub(arg, {})
          : sub(args[0] as string, value(args[1]) as Record<string, unknown>);
      default:
        throw new Error(`unsupported CloudFormation function ${fn}`);
    }
  };
  const value = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(value).filter((item) => item !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const entries = Object.entries(v);
    const [first] = entries;
    if (
      entries.length === 1 &&
      first &&
      (first[0] === 'Ref' || first[0] === 'Condition' || first[0].startsWith('Fn::'))
    ) {
      return call(first[0], first[1]);
    }
    return Object.fromEntries(
      entries.map(([key, item]) => [key, value(item)] as const).filter(([, item]) => item !== NO_VALUE),
    );
  };
  return { value, condition };
}
