// The one mapping configuration, read from the Lambdas' environment, so that sync and reconcile filter, name and
// address Services the same way, under the same name policy. Every problem is reported at once, naming the
// variable and the value it holds.
import { type Env, Settings } from '../util/settings.ts';
import { everything, type LabelSelector, LabelSelectorError, parseLabelSelector } from './label-selector.ts';

export interface MappingConfig {
  /** Service types that are published; others are skipped. */
  readonly serviceTypes: readonly string[];
  /** Namespaces (or `*` globs) that may be published; empty means every namespace. */
  readonly namespacesAllow: readonly string[];
  /** Namespaces (or `*` globs) never published; wins over the allow list. */
  readonly namespacesDeny: readonly string[];
  readonly labelSelector: LabelSelector;
  /** Whether a Service without the register annotation is published. */
  readonly defaultRegister: boolean;
  /** The registry name unless annotated; placeholders {name}, {namespace}, {cluster}. */
  readonly nameTemplate: string;
  /** The description unless annotated; undefined is "Kubernetes Service {namespace}/{name} (cluster {cluster})". */
  readonly descriptionTemplate: string | undefined;
  /** Namespaces (or `*` globs) trusted to publish any name; the others publish only names of their own namespace. */
  readonly nameOverrideNamespaces: readonly string[];
  /** Name patterns (`*` globs, any case) that no Service may publish, whatever its namespace. */
  readonly reservedNames: readonly string[];
  /** Name patterns (`*` globs, any case) published as shared entries unless a Service's annotation says otherwise. */
  readonly sharedNames: readonly string[];
  /** Whether spec.externalIPs are read at all; when false, addresses come from the load balancer only. */
  readonly allowExternalIPs: boolean;
  /** Namespaces (or `*` globs) whose spec.externalIPs are published, when allowExternalIPs is set. */
  readonly externalIPsNamespaces: readonly string[];
}

export const defaultMappingConfig: MappingConfig = {
  serviceTypes: ['LoadBalancer'],
  namespacesAllow: [],
  namespacesDeny: [],
  labelSelector: everything,
  defaultRegister: true,
  nameTemplate: '{name}.{namespace}',
  descriptionTemplate: undefined,
  nameOverrideNamespaces: [],
  reservedNames: [],
  sharedNames: [],
  allowExternalIPs: false,
  externalIPsNamespaces: [],
};

export const PLACEHOLDERS = ['name', 'namespace', 'cluster'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/**
 * Service types with an address outside the cluster. ExternalName is left out: it is a DNS alias, and its target is
 * not part of the event contract.
 */
const SERVICE_TYPES = ['LoadBalancer', 'NodePort', 'ClusterIP'] as const;

export class MappingConfigError extends Error {
  override readonly name = 'MappingConfigError';
}

/** The placeholders a template uses, or a sentence saying what is wrong with it. */
export function templatePlaceholders(template: string): { used: Placeholder[] } | { problem: string } {
  const found = [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] as string);
  const unknown = found.filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
  if (unknown.length > 0) {
    return { problem: `unknown placeholder {${unknown[0]}}; use {${PLACEHOLDERS.join('}, {')}}` };
  }
  if (/[{}]/.test(template.replace(/\{[^{}]*\}/g, ''))) return { problem: 'it has an unmatched "{" or "}"' };
  return { used: [...new Set(found as Placeholder[])] };
}

export function renderTemplate(template: string, values: Readonly<Record<Placeholder, string>>): string {
  return template.replace(/\{(name|namespace|cluster)\}/g, (_, key: Placeholder) => values[key]);
}

const NAMESPACE_GLOB = /^[a-z0-9*](?:[-a-z0-9*]*[a-z0-9*])?$/;
/** A registry name (lib/registry/validate.ts) in which `*` stands for any run of characters. */
const NAME_PATTERN = /^[A-Za-z0-9*](?:[A-Za-z0-9._*-]*[A-Za-z0-9*])?$/;

const compiled = new Map<string, RegExp>();

function globMatches(glob: string, text: string, flags: string): boolean {
  let pattern = compiled.get(`${flags}:${glob}`);
  if (!pattern) {
    const source = glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
      .join('.*');
    pattern = new RegExp(`^${source}$`, flags);
    // Settings are few, and read once: the cache stays as small as they are.
    compiled.set(`${flags}:${glob}`, pattern);
  }
  return pattern.test(text);
}

/** `*` matches any run of characters, so `*` alone is every namespace and `team-*` a family of them. */
export const namespaceMatches = (glob: string, namespace: string): boolean =>
  globMatches(glob, namespace, '');

/** A RESERVED_NAMES pattern: `*` matches any run of characters, and case does not count (`kafka` holds `Kafka`). */
export const nameMatches = (pattern: string, name: string): boolean => globMatches(pattern, name, 'i');

/** The first of `globs` that matches `namespace`, if any. */
export const matchingGlob = (globs: readonly string[], namespace: string): string | undefined =>
  globs.find((glob) => namespaceMatches(glob, namespace));

/**
 * Reads SERVICE_TYPES, NAMESPACES_ALLOW, NAMESPACES_DENY, LABEL_SELECTOR, DEFAULT_REGISTER, NAME_TEMPLATE,
 * DESCRIPTION_TEMPLATE, NAME_OVERRIDE_NAMESPACES, RESERVED_NAMES, ALLOW_EXTERNAL_IPS and EXTERNAL_IPS_NAMESPACES
 * (lists are comma-separated). Unset or blank variables keep their defaults. Throws one
 * MappingConfigError listing every bad setting.
 */
export function parseMappingConfig(env: Env): MappingConfig {
  const settings = new Settings(env);
  const config = readMappingConfig(settings);
  settings.check((problems) => new MappingConfigError(`invalid mapping configuration: ${problems}`));
  return config;
}

/** The mapping settings, with their problems recorded in `settings` (the Lambdas read them with the rest). */
export function readMappingConfig(settings: Settings): MappingConfig {
  let serviceTypes = defaultMappingConfig.serviceTypes;
  const types = settings.list('SERVICE_TYPES');
  if (types !== undefined) {
    serviceTypes = types.flatMap((type) => {
      const known = SERVICE_TYPES.find((t) => t.toLowerCase() === type.toLowerCase());
      if (!known) settings.bad('SERVICE_TYPES', `"${type}" is not one of ${SERVICE_TYPES.join(', ')}`);
      return known ? [known] : [];
    });
    serviceTypes = [...new Set(serviceTypes)];
  }

  const namespaces = (name: string): string[] => {
    const globs = settings.list(name) ?? [];
    for (const glob of globs) {
      if (glob.length > 63 || !NAMESPACE_GLOB.test(glob)) {
        settings.bad(
          name,
          `"${glob}" is not a namespace name (lower-case letters, digits, "-"; "*" as a wildcard)`,
        );
      }
    }
    return globs;
  };
  const namespacesAllow = namespaces('NAMESPACES_ALLOW');
  const namespacesDeny = namespaces('NAMESPACES_DENY');

  let labelSelector = everything;
  const selectorText = settings.text('LABEL_SELECTOR');
  if (selectorText !== undefined) {
    try {
      labelSelector = parseLabelSelector(selectorText);
    } catch (error) {
      if (!(error instanceof LabelSelectorError)) throw error;
      settings.bad('LABEL_SELECTOR', error.message);
    }
  }

  const defaultRegister = settings.boolean('DEFAULT_REGISTER', defaultMappingConfig.defaultRegister);

  const template = (name: string): string | undefined => {
    const text = settings.text(name);
    if (text === undefined) return undefined;
    const checked = templatePlaceholders(text);
    if ('problem' in checked) settings.bad(name, checked.problem);
    return text;
  };
  const nameTemplate = template('NAME_TEMPLATE') ?? defaultMappingConfig.nameTemplate;
  const descriptionTemplate = template('DESCRIPTION_TEMPLATE');

  const nameOverrideNamespaces = namespaces('NAME_OVERRIDE_NAMESPACES');
  // A Service's name is chosen by whoever creates the Service: a template without {namespace} would let every
  // tenant publish any name it likes (a Service called `kafka` becomes `kafka`), which is what trusting every
  // namespace means. So the operator has to say that, rather than find out from the registry.
  const templateUses = templatePlaceholders(nameTemplate);
  if (
    'used' in templateUses &&
    !templateUses.used.includes('namespace') &&
    !nameOverrideNamespaces.includes('*')
  ) {
    settings.bad(
      'NAME_TEMPLATE',
      'without {namespace}, any tenant could publish any name by naming a Service so; keep {namespace} in it, ' +
        'or trust every namespace with any name (NAME_OVERRIDE_NAMESPACES=*)',
    );
  }
  const namePatterns = (setting: string) => {
    const patterns = settings.list(setting) ?? [];
    for (const pattern of patterns) {
      if (pattern.length > 253 || !NAME_PATTERN.test(pattern)) {
        settings.bad(
          setting,
          `"${pattern}" is not a registry name (letters, digits, ".", "_", "-"; "*" as a wildcard)`,
        );
      }
    }
    return patterns;
  };
  const reservedNames = namePatterns('RESERVED_NAMES');
  const sharedNames = namePatterns('SHARED_NAMES');

  const allowExternalIPs = settings.boolean('ALLOW_EXTERNAL_IPS', defaultMappingConfig.allowExternalIPs);
  const externalIPsNamespaces = namespaces('EXTERNAL_IPS_NAMESPACES');
  if (allowExternalIPs && externalIPsNamespaces.length === 0) {
    settings.bad(
      'EXTERNAL_IPS_NAMESPACES',
      'ALLOW_EXTERNAL_IPS is true: list the namespaces whose spec.externalIPs are trusted ("*" for every one)',
    );
  }
  if (!allowExternalIPs && externalIPsNamespaces.length > 0) {
    settings.bad(
      'EXTERNAL_IPS_NAMESPACES',
      'spec.externalIPs are ignored unless ALLOW_EXTERNAL_IPS is "true" too',
      externalIPsNamespaces.join(','),
    );
  }

  return {
    serviceTypes,
    namespacesAllow,
    namespacesDeny,
    labelSelector,
    defaultRegister,
    nameTemplate,
    descriptionTemplate,
    nameOverrideNamespaces,
    reservedNames,
    sharedNames,
    allowExternalIPs,
    externalIPsNamespaces,
  };
}
