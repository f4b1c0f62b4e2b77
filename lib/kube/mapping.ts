// One Service → at most one registry entry, as a pure function of the Service and the mapping configuration. The
// rules are written down for users in README.md ("Which Services are published"); keep the two together.
import { type ServiceKey, serviceKey, type TrimmedService } from '../events/contract.ts';
import type { RegistryEntry } from '../registry/document.ts';
import type { SkipCause } from '../registry/outcome.ts';
import { entryProblems } from '../registry/validate.ts';
import { ANNOTATIONS } from './annotations.ts';
import { endpointsOf, externalIPsOf, selectPorts, serviceAddresses } from './endpoints.ts';
import { matchesLabelSelector, requirementHolds } from './label-selector.ts';
import {
  type MappingConfig,
  matchingGlob,
  nameMatches,
  namespaceMatches,
  renderTemplate,
  templatePlaceholders,
} from './mapping-config.ts';
import { nameRefusal } from './name-policy.ts';

export {
  defaultMappingConfig,
  type MappingConfig,
  MappingConfigError,
  parseMappingConfig,
} from './mapping-config.ts';

export type MapResult =
  | {
      readonly kind: 'entry';
      readonly key: ServiceKey;
      readonly entry: RegistryEntry;
      /** Published together with the other clusters that share the name (lib/registry/shared.ts). */
      readonly shared?: boolean;
    }
  /** Not meant to be published (filtered, opted out, or no address yet); not an error. */
  | {
      readonly kind: 'skipped';
      readonly key: ServiceKey;
      readonly reason: string;
      readonly cause: SkipCause;
    }
  /** Meant to be published, but its annotations or data are wrong: report it, and carry on with the others. */
  | { readonly kind: 'invalid'; readonly key: ServiceKey; readonly error: string };

export type { SkipCause };

type Filtered =
  | { readonly skip: string; readonly cause: SkipCause }
  | { readonly invalid: string }
  | undefined;

/** Why a namespace is never published, or undefined when its Services may be. */
function namespaceExcluded(namespace: string, config: MappingConfig): string | undefined {
  const denied = config.namespacesDeny.find((glob) => namespaceMatches(glob, namespace));
  if (denied !== undefined) return `namespace ${namespace} matches NAMESPACES_DENY entry "${denied}"`;
  if (
    config.namespacesAllow.length > 0 &&
    !config.namespacesAllow.some((g) => namespaceMatches(g, namespace))
  ) {
    return `namespace ${namespace} is not in NAMESPACES_ALLOW (${config.namespacesAllow.join(',')})`;
  }
  return undefined;
}

/**
 * Whether a Service of this key may ever be published. A Service cannot change its namespace, so one outside the
 * allowed namespaces never needs a version in the sync state.
 */
export const mayPublish = (key: ServiceKey, config: MappingConfig): boolean =>
  namespaceExcluded(key.slice(0, key.indexOf('/')), config) === undefined;

/**
 * Why the Service of this key may not hold an entry called `entryName` under the name policy, or undefined when it
 * may: what lets a step give back a name a Service took before the policy forbade it.
 */
export function nameRefusalFor(
  key: ServiceKey,
  entryName: string,
  config: MappingConfig,
  cluster?: string,
): string | undefined {
  const slash = key.indexOf('/');
  return nameRefusal(entryName, key.slice(0, slash), key.slice(slash + 1), config, cluster);
}

/** Why this namespace's spec.externalIPs are not read, or undefined when they are. */
function externalIPsIgnored(namespace: string, config: MappingConfig): string | undefined {
  if (!config.allowExternalIPs) return 'ALLOW_EXTERNAL_IPS is not "true"';
  if (matchingGlob(config.externalIPsNamespaces, namespace) === undefined) {
    return `namespace ${namespace} is not in EXTERNAL_IPS_NAMESPACES (${config.externalIPsNamespaces.join(',')})`;
  }
  return undefined;
}

function filter(svc: TrimmedService, config: MappingConfig): Filtered {
  const excluded = namespaceExcluded(svc.metadata.namespace, config);
  if (excluded !== undefined) return { skip: excluded, cause: 'filtered' };
  if (!matchesLabelSelector(config.labelSelector, svc.metadata.labels)) {
    const failed = config.labelSelector.requirements.find(
      (r) => !requirementHolds(r, svc.metadata.labels ?? {}),
    );
    return {
      skip: `its labels do not match LABEL_SELECTOR "${config.labelSelector.text}" (at "${failed?.key}")`,
      cause: 'filtered',
    };
  }
  const register = svc.metadata.annotations?.[ANNOTATIONS.register];
  if (register !== undefined) {
    const normalized = register.trim().toLowerCase();
    if (normalized !== 'true' && normalized !== 'false') {
      return { invalid: `annotation ${ANNOTATIONS.register} is "${register}"; use "true" or "false"` };
    }
    if (normalized === 'false')
      return { skip: `it opted out with ${ANNOTATIONS.register}: "false"`, cause: 'opted-out' };
  } else if (!config.defaultRegister) {
    return {
      skip: `DEFAULT_REGISTER is false and it has no ${ANNOTATIONS.register}: "true" annotation`,
      cause: 'filtered',
    };
  }
  // Kubernetes defaults the type to ClusterIP.
  const type = svc.spec.type ?? 'ClusterIP';
  if (!config.serviceTypes.includes(type)) {
    return {
      skip: `its type ${type} is not in SERVICE_TYPES (${config.serviceTypes.join(',')})`,
      cause: 'filtered',
    };
  }
  return undefined;
}

/** A name or description, and where it came from (for messages), or why it could not be made. */
type Text = { readonly text: string; readonly from: string } | { readonly problem: string };

function fromTemplate(
  template: string,
  svc: TrimmedService,
  cluster: string | undefined,
  setting: string,
): Text {
  const checked = templatePlaceholders(template);
  if ('problem' in checked) return { problem: `${setting} "${template}": ${checked.problem}` };
  if (cluster === undefined && checked.used.includes('cluster')) {
    return {
      problem: `${setting} "${template}" uses {cluster}, but the cluster is not known to the mapping`,
    };
  }
  const { name, namespace } = svc.metadata;
  return { text: renderTemplate(template, { name, namespace, cluster: cluster ?? '' }), from: setting };
}

function entryName(svc: TrimmedService, config: MappingConfig, cluster: string | undefined): Text {
  const annotated = svc.metadata.annotations?.[ANNOTATIONS.name];
  if (annotated !== undefined) return { text: annotated, from: `annotation ${ANNOTATIONS.name}` };
  return fromTemplate(config.nameTemplate, svc, cluster, 'NAME_TEMPLATE');
}

function entryDescription(svc: TrimmedService, config: MappingConfig, cluster: string | undefined): Text {
  const annotated = svc.metadata.annotations?.[ANNOTATIONS.description];
  if (annotated !== undefined) return { text: annotated, from: `annotation ${ANNOTATIONS.description}` };
  if (config.descriptionTemplate !== undefined) {
    return fromTemplate(config.descriptionTemplate, svc, cluster, 'DESCRIPTION_TEMPLATE');
  }
  const where = `${svc.metadata.namespace}/${svc.metadata.name}`;
  const text =
    cluster === undefined
      ? `Kubernetes Service ${where}`
      : `Kubernetes Service ${where} (cluster ${cluster})`;
  return { text, from: 'the default description' };
}

/**
 * Whether the entry is shared: the annotation when the Service has it, else whether its name matches SHARED_NAMES.
 * A string is the problem with the annotation.
 */
function sharing(svc: TrimmedService, name: string, config: MappingConfig): boolean | string {
  const annotated = svc.metadata.annotations?.[ANNOTATIONS.shared];
  if (annotated === undefined) return config.sharedNames.some((pattern) => nameMatches(pattern, name));
  const normalized = annotated.trim().toLowerCase();
  if (normalized === 'true' || normalized === 'false') return normalized === 'true';
  return `annotation ${ANNOTATIONS.shared} is "${annotated}"; use "true" or "false"`;
}

/**
 * Maps one Service. `cluster` is the id of the cluster it lives in, for the {cluster} placeholder and the default
 * description. Never throws for bad Service data: that is an `invalid` result naming the Service and the problem.
 */
export function mapService(svc: TrimmedService, config: MappingConfig, cluster?: string): MapResult {
  const key = serviceKey(svc.metadata.namespace, svc.metadata.name);
  const invalid = (problem: string): MapResult => ({
    kind: 'invalid',
    key,
    error: `Service ${key}: ${problem}`,
  });

  const filtered = filter(svc, config);
  if (filtered && 'skip' in filtered)
    return { kind: 'skipped', key, reason: `Service ${key}: ${filtered.skip}`, cause: filtered.cause };
  if (filtered) return invalid(filtered.invalid);

  const ignored = externalIPsIgnored(svc.metadata.namespace, config);
  const addresses = serviceAddresses(svc, ignored === undefined);
  if (addresses.length === 0) {
    const unread =
      ignored !== undefined && externalIPsOf(svc).length > 0
        ? `; its spec.externalIPs are ignored: ${ignored}`
        : '';
    const why =
      svc.spec.type === 'LoadBalancer'
        ? `its load balancer has no ingress address yet${unread}`
        : unread === ''
          ? 'it has no external address (no spec.externalIPs)'
          : `it has no load balancer address${unread}`;
    return { kind: 'skipped', key, reason: `Service ${key}: ${why}`, cause: 'no-address' };
  }

  const portAnnotation = svc.metadata.annotations?.[ANNOTATIONS.port];
  const ports = selectPorts(svc, portAnnotation?.trim());
  if ('problem' in ports) {
    return invalid(
      portAnnotation === undefined ? ports.problem : `${ports.problem} (annotation ${ANNOTATIONS.port})`,
    );
  }

  const name = entryName(svc, config, cluster);
  if ('problem' in name) return invalid(name.problem);
  const description = entryDescription(svc, config, cluster);
  if ('problem' in description) return invalid(description.problem);

  const entry: RegistryEntry = {
    name: name.text,
    description: description.text,
    endpoints: endpointsOf(addresses, ports.ports),
  };
  const problems = entryProblems(entry);
  if (problems.length > 0) {
    return invalid(
      `its registry entry "${entry.name}" is invalid: ${problems.join('; ')} ` +
        `(name from ${name.from}, description from ${description.from})`,
    );
  }
  const refused = nameRefusal(entry.name, svc.metadata.namespace, svc.metadata.name, config, cluster);
  if (refused !== undefined) return invalid(`${refused} (name from ${name.from})`);
  const shared = sharing(svc, entry.name, config);
  if (typeof shared === 'string') return invalid(shared);
  return { kind: 'entry', key, entry, ...(shared ? { shared } : {}) };
}

/** Maps many Services; one bad Service only produces its own `invalid` result. */
export function mapServices(
  services: readonly TrimmedService[],
  config: MappingConfig,
  cluster?: string,
): MapResult[] {
  return services.map((svc) => mapService(svc, config, cluster));
}
