// Reads the EventBridge rules declared in serverless.yml, so that the local endpoint routes with the very pattern
// that is deployed. Rules are expected as CloudFormation resources:
//   resources:
//     Resources:
//       ServiceEventsRule:
//         Type: AWS::Events::Rule
//         Properties:
//           EventBusName: !Ref ServiceEventsBus   # optional; only a literal name restricts the local route
//           EventPattern: { source: [kube-zk-sync], detail-type: [Kubernetes Service observed] }
import { readFileSync } from 'node:fs';
import { parse, type Tags } from 'yaml';
import { compileEventPattern, type EventPattern } from './pattern.ts';
import type { Rule } from './server.ts';

export class ServerlessRulesError extends Error {
  override readonly name = 'ServerlessRulesError';
}

/** CloudFormation short forms, read as their long forms (`!Ref X` → `{Ref: X}`), so the file parses. */
const INTRINSICS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Length',
  'Select',
  'Split',
  'Sub',
  'ToJsonString',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
];

function cloudFormationTags(): Tags {
  const longForm = (name: string): string => (name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`);
  const forms = (name: string, fromScalar: (value: string) => unknown): Tags => [
    { tag: `!${name}`, resolve: (value: string) => ({ [longForm(name)]: fromScalar(value) }) },
    { tag: `!${name}`, collection: 'seq', resolve: (seq) => ({ [longForm(name)]: seq.toJSON() }) },
    { tag: `!${name}`, collection: 'map', resolve: (map) => ({ [longForm(name)]: map.toJSON() }) },
  ];
  return [
    ...forms('Ref', (v) => v),
    ...forms('Condition', (v) => v),
    // `!GetAtt Bus.Arn` is the short form of `Fn::GetAtt: [Bus, Arn]`.
    ...forms('GetAtt', (v) => {
      const dot = v.indexOf('.');
      return dot < 0 ? [v] : [v.slice(0, dot), v.slice(dot + 1)];
    }),
    ...INTRINSICS.flatMap((name) => forms(name, (v) => v)),
  ];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The first place in a pattern that the local endpoint cannot resolve as deployed: a variable or an intrinsic. */
function unresolved(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') {
    return /\$\{[^}]*\}/.test(value) ? `${path} holds the Serverless variable "${value}"` : undefined;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unresolved(item, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'Ref' || key.startsWith('Fn::')) return `${path} uses the CloudFormation function ${key}`;
      const found = unresolved(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

/** The rules in a serverless.yml text; `origin` names the file in errors. */
export function rulePatternsFromServerlessYmlText(text: string, origin = 'serverless.yml'): Rule[] {
  let document: unknown;
  try {
    document = parse(text, { customTags: cloudFormationTags() });
  } catch (error) {
    throw new ServerlessRulesError(`${origin} is not valid YAML: ${(error as Error).message}`);
  }
  const resources =
    isObject(document) && isObject(document.resources) ? document.resources.Resources : undefined;
  if (!isObject(resources)) return [];
  const rules: Rule[] = [];
  for (const [name, resource] of Object.entries(resources)) {
    if (!isObject(resource) || resource.Type !== 'AWS::Events::Rule') continue;
    const properties = isObject(resource.Properties) ? resource.Properties : {};
    // A schedule rule has no pattern and routes nothing from PutEvents.
    if (properties.EventPattern === undefined) continue;
    const where = `${origin}: resources.Resources.${name}.Properties.EventPattern`;
    // CloudFormation also takes the pattern as a JSON string.
    let pattern = properties.EventPattern;
    if (typeof pattern === 'string') {
      try {
        pattern = JSON.parse(pattern);
      } catch (error) {
        throw new ServerlessRulesError(`${where} is a string but not JSON: ${(error as Error).message}`);
      }
    }
    const problem = unresolved(pattern, where);
    if (problem) {
      throw new ServerlessRulesError(
        `${problem}, which the local EventBridge cannot resolve; write the value literally`,
      );
    }
    try {
      compileEventPattern(pattern);
    } catch (error) {
      throw new ServerlessRulesError(`${where}: ${(error as Error).message}`);
    }
    const bus = properties.EventBusName;
    rules.push({
      name,
      pattern: pattern as EventPattern,
      ...(typeof bus === 'string' && !/\$\{/.test(bus) ? { eventBusName: bus } : {}),
    });
  }
  return rules;
}

/** The rules declared in the serverless.yml at `path` (see the top of this file for the expected shape). */
export function rulePatternsFromServerlessYml(path: string): Rule[] {
  return rulePatternsFromServerlessYmlText(readFileSync(path, 'utf8'), path);
}
