// Renders a kustomization with kubectl's built-in kustomize (offline), as `kubectl apply -k` would apply it.
import { parseAllDocuments } from 'yaml';
import { kubectlOffline } from './kubectl.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked field by field by the tests
  [field: string]: any;
}

export async function kustomize(path: string): Promise<K8sObject[]> {
  const stdout = await kubectlOffline(['kustomize', path]);
  return parseAllDocuments(stdout).map((d) => d.toJS() as K8sObject);
}

/** The one object of `kind`; throws if there is none or more than one. */
export function theOne(objects: readonly K8sObject[], kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`${found.length} objects of kind ${kind}, not one`);
  return found[0] as K8sObject;
}
