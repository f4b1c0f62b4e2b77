// What a Lambda keeps from one invocation to the next in a warm container: the registry (its ZooKeeper session) and
// whatever else is costly to make, made at the first invocation and made again after a failure.
import type { RegistryConfig } from '../config/config.ts';
import type { ZkRegistryStore } from '../zk/registry-store.ts';
import type { DigestCredentials } from '../zk/session.ts';
import { registryFromConfig } from './target.ts';

/**
 * `make` run once per Lambda container (cold start) and its result reused by every warm invocation. A failure is not
 * kept, so the next invocation tries again.
 */
export function oncePerContainer<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    if (!made) {
      const attempt = make();
      made = attempt;
      attempt.catch(() => {
        if (made === attempt) made = undefined;
      });
    }
    return made;
  };
}

/**
 * The registry of a Lambda container: credentials fetched and the store made on first use, once per cold start;
 * the store opens a new ZooKeeper session by itself when the old one expired while the container was frozen.
 */
export const containerRegistry = (
  config: RegistryConfig,
  fetchCredentials: () => Promise<DigestCredentials | undefined>,
): (() => Promise<ZkRegistryStore>) =>
  oncePerContainer(async () => registryFromConfig(config, await fetchCredentials()).registry);
