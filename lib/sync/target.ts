// The write path that the sync and the reconcile share: one ZooKeeper store built from the one configuration, and
// one mapping of Services to entries, so the two can never disagree on what a Service publishes or where.
import type { RegistryConfig } from '../config/config.ts';
import type { TrimmedService } from '../events/contract.ts';
import { mapService, mayPublish, nameRefusalFor } from '../kube/mapping.ts';
import type { Budgets } from '../registry/budgets.ts';
import type { Policy } from '../registry/plan.ts';
import type { EntryDecision } from '../registry/step.ts';
import { ZkRegistryStore } from '../zk/registry-store.ts';
import type { DigestCredentials } from '../zk/session.ts';
import { ZkStore } from '../zk/store.ts';

/** Whose entries a step manages (lib/registry/step.ts), under which policy, and how a Service becomes one. */
export interface RegistryTarget {
  readonly cluster: string;
  readonly policy: Policy;
  readonly toEntry: (service: TrimmedService) => EntryDecision;
  /** Whether a Service of this key may ever be published: the sync state keeps versions of no other. */
  readonly tracks: (key: string) => boolean;
  /** Why a Service may not hold an entry of this name (the name policy), or undefined when it may. */
  readonly nameRefusal: (key: string, name: string) => string | undefined;
  readonly budgets: Budgets;
}

export function registryTarget(
  config: Pick<RegistryConfig, 'clusterId' | 'policy' | 'mapping' | 'budgets'>,
): RegistryTarget {
  return {
    cluster: config.clusterId,
    policy: config.policy,
    toEntry: (service) => mapService(service, config.mapping, config.clusterId),
    tracks: (key) => mayPublish(key, config.mapping),
    nameRefusal: (key, name) => nameRefusalFor(key, name, config.mapping, config.clusterId),
    budgets: config.budgets,
  };
}

/** What a step (lib/registry/step.ts) takes from the target, besides how a Service becomes an entry. */
export const stepRules = (target: RegistryTarget) => ({
  policy: target.policy,
  tracks: target.tracks,
  nameRefusal: target.nameRefusal,
  budgets: target.budgets,
});

/** The ZooKeeper store and the registry document on it (closing the registry closes the store). */
export interface RegistryStores {
  readonly store: ZkStore;
  readonly registry: ZkRegistryStore;
}

/**
 * A store for the configured ZooKeeper and document. Nothing connects until the first call. The znodes it creates
 * (the sync state, and the document if it is missing) are writable by that identity (or `writers`) only; everyone
 * reads the document, only they read the state. Without any identity it creates nothing, unless the configuration
 * asks for an open ACL (lib/zk/acl.ts).
 */
export function registryFromConfig(
  config: RegistryConfig,
  auth?: DigestCredentials,
  /** Identities allowed to write the znodes this store creates (default: `auth` alone). */
  writers?: readonly DigestCredentials[],
): RegistryStores {
  const store = new ZkStore({
    connectString: config.zk.connectString,
    sessionTimeoutMs: config.zk.sessionTimeoutMs,
    connectTimeoutMs: config.zk.connectTimeoutMs,
    operationTimeoutMs: config.zk.operationTimeoutMs,
    maxDataBytes: config.zk.maxDataBytes,
    maxAttempts: config.zk.maxAttempts,
    openAcl: config.openAcl,
    ...(auth ? { auth } : {}),
    ...(writers ? { writers } : {}),
  });
  return { store, registry: new ZkRegistryStore(store, config.registryPath) };
}
