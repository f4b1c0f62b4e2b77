// Which names a Service may publish. The registry is one set of names for the whole company, while the people who
// can create a Service in a shared cluster are many: by default a Service publishes only names of its own
// namespace, the operator names the namespaces trusted with any name, and some names no cluster may ever take.
// The mapping refuses a Service that asks for another name, and the step gives back a name a Service holds but may
// no longer have, both through this one function. README.md ("Security model", "Names") explains the rules.
import {
  type MappingConfig,
  matchingGlob,
  nameMatches,
  renderTemplate,
  templatePlaceholders,
} from './mapping-config.ts';

/** The name NAME_TEMPLATE gives a Service, or undefined when the template cannot be rendered for it. */
export function templateName(
  config: MappingConfig,
  namespace: string,
  name: string,
  cluster: string | undefined,
): string | undefined {
  const checked = templatePlaceholders(config.nameTemplate);
  if ('problem' in checked || (cluster === undefined && checked.used.includes('cluster'))) return undefined;
  return renderTemplate(config.nameTemplate, { name, namespace, cluster: cluster ?? '' });
}

/**
 * Why Service `name` of `namespace` may not publish `entryName`, naming the rule and the setting; undefined when
 * it may. Names are compared without case, as the plan compares them: `Kafka` is `kafka` to a reader who
 * searches, and to this policy.
 * - RESERVED_NAMES: never, whoever asks;
 * - NAME_OVERRIDE_NAMESPACES: any other name;
 * - otherwise the Service's own NAME_TEMPLATE name, or a name ending in `.<namespace>` (namespace and Service
 *   names have no dots, so no other namespace's Services can ask for those).
 */
export function nameRefusal(
  entryName: string,
  namespace: string,
  name: string,
  config: MappingConfig,
  cluster: string | undefined,
): string | undefined {
  const reserved = config.reservedNames.find((pattern) => nameMatches(pattern, entryName));
  if (reserved !== undefined) {
    return (
      `the name "${entryName}" matches RESERVED_NAMES entry "${reserved}": no cluster may publish it ` +
      '(it is kept for entries registered by hand)'
    );
  }
  if (matchingGlob(config.nameOverrideNamespaces, namespace) !== undefined) return undefined;
  const wanted = entryName.toLowerCase();
  const own = templateName(config, namespace, name, cluster);
  if (own?.toLowerCase() === wanted || wanted.endsWith(`.${namespace}`)) return undefined;
  return (
    `the name "${entryName}" is not namespace ${namespace}'s: its Services may publish their NAME_TEMPLATE name` +
    `${own === undefined ? '' : ` ("${own}")`} or a name ending in ".${namespace}"; other names only Services ` +
    'of the namespaces in NAME_OVERRIDE_NAMESPACES may publish'
  );
}
