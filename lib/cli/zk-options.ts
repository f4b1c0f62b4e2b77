// The ZooKeeper options every command shares (--zk, --path, --timeout, --auth), and the store they open.
import { type Command, Option } from 'commander';
import { ZK_TIMEOUT_MS } from '../util/defaults.ts';
import { messageOf } from '../util/errors.ts';
import { parseDigest } from '../zk/digest-credentials.ts';
import { ZkRegistryStore } from '../zk/registry-store.ts';
import type { DigestCredentials } from '../zk/session.ts';
import { ZkStore } from '../zk/store.ts';
import { CliError } from './run.ts';

export interface ZkCliOptions {
  zk?: string;
  path?: string;
  timeout: string;
  auth?: string;
  aclWriter?: string[];
}

export function addZkOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--zk <hosts>', 'ZooKeeper connect string, host:port[,host:port…]').env('ZK_CONNECT'),
    )
    .addOption(
      new Option('--path <znode>', 'znode of the registry document, e.g. /registry/services').env(
        'REGISTRY_PATH',
      ),
    )
    .addOption(
      new Option('--timeout <seconds>', 'give up when ZooKeeper does not answer in time').default(
        String(ZK_TIMEOUT_MS / 1000),
      ),
    )
    .addOption(new Option('--auth <user:password>', 'digest identity to authenticate as').env('ZK_AUTH'))
    .addOption(
      new Option(
        '--acl-writer <user:password>',
        'identity allowed to write a document this command creates (repeatable; everyone may read it)',
      ).argParser((value: string, previous: string[] = []) => [...previous, value]),
    );
}

/** The digest credentials an option's value holds; a usage error naming the option otherwise. */
export function digestOption(value: string, option: string): DigestCredentials {
  const parsed = parseDigest(value);
  if ('problem' in parsed) throw new CliError(`${option}: ${parsed.problem}`, 2);
  return parsed.credentials;
}

export function timeoutMs(options: { timeout: string }): number {
  const seconds = Number(options.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new CliError(`--timeout must be a positive number of seconds, not "${options.timeout}"`, 2);
  }
  return seconds * 1000;
}

/** Opens the registry the options name; throws a usage error when --zk or --path is missing. */
export function registryFromCliOptions(options: ZkCliOptions): ZkRegistryStore {
  if (!options.zk) throw new CliError('no ZooKeeper given: pass --zk host:port or set ZK_CONNECT', 2);
  if (!options.path) throw new CliError('no registry path given: pass --path /znode or set REGISTRY_PATH', 2);
  const ms = timeoutMs(options);
  const auth = options.auth ? digestOption(options.auth, '--auth') : undefined;
  const writers = (options.aclWriter ?? []).map((w) => digestOption(w, '--acl-writer'));
  const store = new ZkStore({
    connectString: options.zk,
    connectTimeoutMs: ms,
    operationTimeoutMs: ms,
    ...(auth ? { auth } : {}),
    writers,
  });
  try {
    return new ZkRegistryStore(store, options.path);
  } catch (error) {
    store.close();
    throw new CliError(messageOf(error), 2);
  }
}

/** Runs `work` with the registry and always closes its session, so the process can exit. */
export async function withRegistry<T>(
  options: ZkCliOptions,
  work: (registry: ZkRegistryStore) => Promise<T>,
): Promise<T> {
  const registry = registryFromCliOptions(options);
  try {
    return await work(registry);
  } finally {
    registry.close();
  }
}
