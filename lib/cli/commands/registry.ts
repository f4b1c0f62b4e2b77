// `kube-zk-sync registry …`: for the people who register databases and queues by hand. Edits are compare-and-set
// writes, like the sync's, so a person and the Lambdas never lose each other's updates.
import { type Command, Option } from 'commander';
import { entryNamed, type RegistryDocument, readerView, type StoredEntry } from '../../registry/document.ts';
import {
  deregisterByHand,
  type HandEdit,
  type HandEditRefusal,
  registerByHand,
} from '../../registry/hand-edits.ts';
import type { ZkRegistryStore } from '../../zk/registry-store.ts';
import { CliError } from '../run.ts';
import { addZkOptions, registryFromCliOptions, withRegistry, type ZkCliOptions } from '../zk-options.ts';

type Print = (line: string) => void;
const out: Print = (line) => process.stdout.write(`${line}\n`);

const ownerLabel = (e: StoredEntry) => (e.owner ? `${e.owner.cluster}:${e.owner.service}` : 'hand-made');

/** A plain-text table: one row an entry, columns padded to their widest cell. */
export function formatTable(entries: readonly StoredEntry[]): string {
  const rows = [
    ['NAME', 'ENDPOINTS', 'OWNER', 'DESCRIPTION'],
    ...entries.map((e) => {
      const view = readerView(e);
      return [view.name, view.endpoints.join(',') || '-', ownerLabel(e), view.description];
    }),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A refused edit as the CLI says it; input that can never work is a usage error (status 2). */
function refusalError(refusal: HandEditRefusal, path: string): CliError {
  switch (refusal.reason) {
    case 'not-found':
      return new CliError(`${refusal.message} in ${path}`);
    case 'invalid':
      return new CliError(refusal.message, 2);
    case 'taken-by-cluster':
    case 'not-hand-made':
      return new CliError(`${refusal.message}; pass --force to take it over by hand`);
  }
}

/**
 * Applies a hand edit with compare-and-set (again on the document as it is, should someone else write first) and
 * returns what it did and the document's version; a refusal writes nothing.
 */
async function editByHand(
  store: ZkRegistryStore,
  edit: (doc: RegistryDocument) => HandEdit,
): Promise<{ outcome: string; version: number }> {
  const { result, version } = await store.modify<HandEdit>((doc) => {
    const done = edit(doc);
    return 'document' in done ? { document: done.document, result: done } : { result: done };
  });
  if (result.outcome === 'refused') throw refusalError(result.refusal, store.path);
  return { outcome: result.outcome, version };
}

interface RegisterOptions extends ZkCliOptions {
  name: string;
  endpoint: string[];
  description?: string;
  force?: boolean;
}

export function registerRegistryCommands(program: Command, print: Print = out): void {
  const registry = program
    .command('registry')
    .description('read and edit the registry document in ZooKeeper');

  addZkOptions(registry.command('list').description('list every entry'))
    .option('--json', 'print the entries as JSON')
    .action((options: ZkCliOptions & { json?: boolean }) =>
      withRegistry(options, async (store) => {
        const { document } = await store.read();
        print(
          options.json
            ? JSON.stringify(
                document.entries.map((e) => e.value),
                null,
                2,
              )
            : formatTable(document.entries),
        );
      }),
    );

  addZkOptions(registry.command('get').description('show one entry'))
    .requiredOption('--name <name>', 'the entry to show')
    .option('--json', 'print the entry as JSON')
    .action((options: ZkCliOptions & { name: string; json?: boolean }) =>
      withRegistry(options, async (store) => {
        const entry = entryNamed((await store.read()).document, options.name);
        if (!entry) throw new CliError(`no entry named "${options.name}" in ${store.path}`);
        print(options.json ? JSON.stringify(entry.value, null, 2) : formatTable([entry]));
      }),
    );

  addZkOptions(registry.command('register').description('add or update a hand-made entry'))
    .requiredOption('--name <name>', 'name of the entry')
    .addOption(
      new Option('--endpoint <host:port>', 'an endpoint (repeatable)')
        .argParser((value: string, previous: string[] = []) => [...previous, value])
        .makeOptionMandatory(),
    )
    .option('--description <text>', 'what the service is (kept as it is when omitted on an update)')
    .option('--force', 'take over an entry that a cluster manages')
    .action((options: RegisterOptions) =>
      withRegistry(options, async (store) => {
        const { outcome, version } = await editByHand(store, (doc) =>
          registerByHand(doc, {
            name: options.name,
            endpoints: options.endpoint,
            description: options.description,
            force: options.force,
          }),
        );
        print(`${outcome} "${options.name}" in ${store.path} (document version ${version})`);
      }),
    );

  addZkOptions(registry.command('deregister').description('remove a hand-made entry'))
    .requiredOption('--name <name>', 'the entry to remove')
    .option(
      '--force',
      'remove an entry that a cluster manages (it comes back at its next sync if it still exists)',
    )
    .action((options: ZkCliOptions & { name: string; force?: boolean }) =>
      withRegistry(options, async (store) => {
        const { outcome, version } = await editByHand(store, (doc) =>
          deregisterByHand(doc, { name: options.name, force: options.force }),
        );
        print(`${outcome} "${options.name}" from ${store.path} (document version ${version})`);
      }),
    );

  addZkOptions(registry.command('watch').description('print one line for every new version of the document'))
    .option('--json', 'print each version as one JSON line with its entries')
    .action(async (options: ZkCliOptions & { json?: boolean }) => {
      const store = registryFromCliOptions(options);
      await new Promise<void>((resolve) => {
        const stop = store.watch(
          ({ document, error, version, bytes }) => {
            const at = new Date().toISOString();
            if (error) {
              process.stderr.write(
                `${at} version ${version}: not shown, the document does not parse: ${error.message}\n`,
              );
            } else if (options.json) {
              print(
                JSON.stringify({ at, version, bytes, entries: document?.entries.map((e) => e.value) ?? [] }),
              );
            } else {
              const entries = document?.entries ?? [];
              const hand = entries.filter((e) => !e.owner).length;
              const state =
                version < 0
                  ? 'does not exist'
                  : `${entries.length} entries (${hand} hand-made), ${bytes} bytes`;
              print(`${at} version ${version}: ${state}`);
            }
          },
          (error) => process.stderr.write(`${new Date().toISOString()} ${error.message}; retrying\n`),
        );
        const finish = () => {
          stop();
          store.close();
          resolve();
        };
        process.once('SIGINT', finish);
        process.once('SIGTERM', finish);
      });
    });
}
