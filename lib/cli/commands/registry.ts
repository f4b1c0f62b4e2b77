// `kube-zk-sync registry …`: for the people who register databases and queues by hand. Edits are compare-and-set
// writes, like the sync's, so a person and the Lambdas never lose each other's updates.
import { type Command, Option } from 'commander';
import {
  handEntry,
  type RegistryDocument,
  type RegistryEntry,
  readerView,
  type StoredEntry,
} from '../../registry/document.ts';
import { InvalidEntryError, validEntry } from '../../registry/validate.ts';
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

function find(doc: RegistryDocument, name: string): StoredEntry | undefined {
  return doc.entries.find((e) => e.name === name);
}

function refuseManaged(entry: StoredEntry | undefined, force: boolean, verb: string): void {
  if (entry?.owner && !force) {
    throw new CliError(
      `refusing to ${verb} "${entry.name}": it is managed by cluster "${entry.owner.cluster}" (Service ` +
        `${entry.owner.service}) and the next sync would undo it; pass --force to take it over by hand`,
    );
  }
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
        const entry = find((await store.read()).document, options.name);
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
        const outcome = await store.modify((doc) => {
          const existing = find(doc, options.name);
          refuseManaged(existing, options.force === true, 'overwrite');
          const wanted = checked({
            name: options.name,
            description: options.description ?? (existing ? readerView(existing).description : ''),
            endpoints: options.endpoint,
          });
          if (!existing)
            return { document: { entries: [...doc.entries, handEntry(wanted)] }, result: 'created' };
          const before = readerView(existing);
          if (!existing.owner && JSON.stringify(before) === JSON.stringify(wanted))
            return { result: 'unchanged' };
          // An update keeps the fields people added to the entry; only a cluster's marker is dropped.
          const { 'kube-zk-sync': _marker, ...kept } = existing.value;
          const updated: StoredEntry = {
            name: wanted.name,
            value: { ...kept, ...wanted, endpoints: [...wanted.endpoints] },
          };
          return {
            document: { entries: doc.entries.map((e) => (e === existing ? updated : e)) },
            result: 'updated',
          };
        });
        print(`${outcome.result} "${options.name}" in ${store.path} (document version ${outcome.version})`);
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
        const outcome = await store.modify((doc) => {
          const existing = find(doc, options.name);
          if (!existing) throw new CliError(`no entry named "${options.name}" in ${store.path}`);
          refuseManaged(existing, options.force === true, 'remove');
          return { document: { entries: doc.entries.filter((e) => e !== existing) }, result: 'removed' };
        });
        print(`${outcome.result} "${options.name}" from ${store.path} (document version ${outcome.version})`);
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

function checked(entry: RegistryEntry): RegistryEntry {
  try {
    return validEntry(entry);
  } catch (error) {
    if (error instanceof InvalidEntryError) throw new CliError(error.message, 2);
    throw error;
  }
}
