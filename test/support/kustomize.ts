// Renders a kustomization with kubectl's built-in kustomize (offline), as `kubectl apply -k` would apply it.
import { Deployment } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { kubectlMinor, kubectlOffline } from './kubectl.ts';

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

/** The manifests use kustomize v4 fields (`labels`, `patches` with a target): kubectl's built-in one from 1.21 on. */
const KUSTOMIZE_V4_MINOR = 21;

export async function kustomize(path: string): Promise<K8sObject[]> {
  const minor = kubectlMinor();
  if (minor < KUSTOMIZE_V4_MINOR) {
    throw new Error(
      `kubectl 1.${minor} cannot render the manifests: its built-in kustomize predates the fields they use ` +
        `(labels, patches with a target), as does every kubectl before 1.${KUSTOMIZE_V4_MINOR} (Debian's ` +
        'kubernetes-client among them). Put a newer kubectl on the PATH, or name it with KUBECTL.',
    );
  }
  const stdout = await kubectlOffline(['kustomize', path]);
  return parseAllDocuments(stdout).map((d) => d.toJS() as K8sObject);
}

/** The one object of `kind`; throws if there is none or more than one. */
export function theOne(objects: readonly K8sObject[], kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`${found.length} objects of kind ${kind}, not one`);
  return found[0] as K8sObject;
}

/** The kubernetes-models class that validates each kind the manifests ship, by `apiVersion/kind`. */
const MODELS = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
} as const;

/** The model class for the object's kind; a kind no manifest should ship fails the test that asks. */
export function modelFor(object: {
  apiVersion: string;
  kind: string;
}): new (
  data: never,
) => { validate(): void } {
  const model = MODELS[`${object.apiVersion}/${object.kind}` as keyof typeof MODELS];
  if (!model)
    throw new Error(`no schema for ${object.apiVersion} ${object.kind}: not a kind the manifests ship`);
  return model as never;
}
