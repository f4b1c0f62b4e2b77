// The ZooKeeper options every command shares (--zk, --path, --timeout, the identity and the ACL of what it creates),
// and the store they open. Passwords can come from a file or the environment, where `ps` does not show them.
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { ZK_TIMEOUT_MS } from '../util/defaults.ts';
import { messageOf } from '../util/errors.ts';
import { type Env, Settings } from '../util/settings.ts';
import { parseDigest, parseDigestList } from '../zk/digest-credentials.ts';
import { ZkRegistryStore } from '../zk/registry-store.ts';
import type { DigestCredentials } from '../zk/session.ts';
import { ZkStore } from '../zk/store.ts';
import { CliError } from './run.ts';

export interface ZkCliOptions {
  zk?: string;
  path?: string;
  timeout: string;
  auth?: string;
  authFile?: string;
  aclWriter?: string[];
  aclWriterFile?: string;
  insecureOpenAcl?: boolean;
}

/** Who a command is, in ZooKeeper, and the ACL of the znodes it creates (lib/zk/acl.ts). */
export interface CliIdentity {
  readonly auth?: DigestCredentials;
  readonly writers: readonly DigestCredentials[];
  readonly openAcl: boolean;
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
    .addOption(
      new Option('--auth <user:password>', 'digest identity to authenticate as')
        .env('ZK_AUTH')
        .conflicts('authFile'),
    )
    .addOption(
      new Option(
        '--auth-file <file>',
        'the identity to authenticate as, from a file: user:password, or the JSON a secret holds',
      ),
    )
    .addOption(
      new Option(
        '--acl-writer <user:password>',
        'identity allowed to write a znode this command creates (repeatable; default: the --auth identity)',
      ).argParser((value: string, previous: string[] = []) => [...previous, value]),
    )
    .addOption(
      new Option(
        '--acl-writer-file <file>',
        'identities allowed to write, from a file: one user:password a line (ZK_ACL_WRITERS holds the same)',
      ),
    )
    .addOption(
      new Option(
        '--insecure-open-acl',
        'without any identity, create znodes that anyone may write: a local ZooKeeper only (ZK_OPEN_ACL=true)',
      ),
    );
}

/** The digest credentials an option's value holds; a usage error naming the option otherwise. */
export function digestOption(value: string, option: string): DigestCredentials {
  const parsed = parseDigest(value);
  if ('problem' in parsed) throw new CliError(`${option}: ${parsed.problem}`, 2);
  return parsed.credentials;
}

/** The text of a credentials file; a usage error naming the option and the file (never its text) otherwise. */
function readCredentialsFile(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `${option} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`,
      2,
    );
  }
}

function digestList(text: string, where: string): DigestCredentials[] {
  const parsed = parseDigestList(text);
  if ('problem' in parsed) throw new CliError(`${where}: ${parsed.problem}`, 2);
  return parsed.credentials;
}

/**
 * The identity the options give, and who writes what the command creates: the --acl-writer identities and those of
 * --acl-writer-file, or else those of ZK_ACL_WRITERS. `--insecure-open-acl` or ZK_OPEN_ACL=true allows an open ACL.
 */
export function identityFromCliOptions(options: ZkCliOptions, env: Env = process.env): CliIdentity {
  let auth: DigestCredentials | undefined;
  if (options.authFile) {
    const [one, ...more] = digestList(
      readCredentialsFile(options.authFile, '--auth-file'),
      `--auth-file ${options.authFile}`,
    );
    if (more.length > 0) {
      throw new CliError(
        `--auth-file ${options.authFile}: holds ${more.length + 1} identities; it takes one`,
        2,
      );
    }
    auth = one;
  } else if (options.auth) auth = digestOption(options.auth, '--auth');
  const writers = (options.aclWriter ?? []).map((w) => digestOption(w, '--acl-writer'));
  if (options.aclWriterFile) {
    const file = options.aclWriterFile;
    writers.push(...digestList(readCredentialsFile(file, '--acl-writer-file'), `--acl-writer-file ${file}`));
  }
  const settings = new Settings(env);
  const fromEnv = settings.text('ZK_ACL_WRITERS');
  if (writers.length === 0 && fromEnv !== undefined) writers.push(...digestList(fromEnv, 'ZK_ACL_WRITERS'));
  const openAcl = options.insecureOpenAcl === true || settings.boolean('ZK_OPEN_ACL', false);
  settings.check((problems) => new CliError(problems, 2));
  return { ...(auth ? { auth } : {}), writers, openAcl };
}

export function timeoutMs(options: { timeout: string }): number {
  const seconds = Number(options.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new CliError(`--timeout must be a positive number of seconds, not "${options.timeout}"`, 2);
  }
  return seconds * 1000;
}

/** Opens the registry the options name; throws a usage error when --zk or --path is missing. */
export function registryFromCliOptions(
  options: ZkCliOptions,
  session: { sessionTimeoutMs?: number } = {},
): ZkRegistryStore {
  if (!options.zk) throw new CliError('no ZooKeeper given: pass --zk host:port or set ZK_CONNECT', 2);
  if (!options.path) throw new CliError('no registry path given: pass --path /znode or set REGISTRY_PATH', 2);
  const ms = timeoutMs(options);
  const { auth, writers, openAcl } = identityFromCliOptions(options);
  const store = new ZkStore({
    connectString: options.zk,
    ...(session.sessionTimeoutMs ? { sessionTimeoutMs: session.sessionTimeoutMs } : {}),
    connectTimeoutMs: ms,
    operationTimeoutMs: ms,
    ...(auth ? { auth } : {}),
    writers,
    openAcl,
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
