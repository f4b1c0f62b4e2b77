// `kube-zk-sync registry …`: for the people who register databases and queues by hand. Edits are compare-and-set
// writes, like the sync's, so a person and the Lambdas never lose each other's updates.
import { type Command, Option } from 'commander';
import { describeChange, documentChanges } from '../../registry/changes.ts';
import { entryNamed, type RegistryDocument, readerView, type StoredEntry } from '../../registry/document.ts';
import {
  deregisterByHand,
  type HandEdit,
  type HandEditRefusal,
  registerByHand,
} from '../../registry/hand-edits.ts';
import { HandoverError, withManagers } from '../../registry/handover.ts';
import type { ZkRegistryStore } from '../../zk/registry-store.ts';
import { oneLine, type Print, printError, printers } from '../output.ts';
import { CliError } from '../run.ts';
import { addZkOptions, registryFromCliOptions, withRegistry, type ZkCliOptions } from '../zk-options.ts';

const ownerLabel = (e: StoredEntry) => (e.owner ? `${e.owner.cluster}:${e.owner.service}` : 'hand-made');

/** A plain-text table: one row an entry, columns padded to their widest cell, every cell on one line. */
export function formatTable(entries: readonly StoredEntry[]): string {
  const rows = [
    ['NAME', 'ENDPOINTS', 'OWNER', 'DESCRIPTION'],
    ...entries.map((e) => {
      const view = readerView(e);
      return [view.name, view.endpoints.join(',') || '-', ownerLabel(e), view.description].map(oneLine);
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
  // An entry whose marker another writer dropped is still a cluster's: its state says so.
  const states = await store.clusterStates();
  const { result, version } = await store.modify<HandEdit>((doc) => {
    const done = edit(withManagers(doc, states));
    return 'document' in done ? { document: done.document, result: done } : { result: done };
  });
  if (result.outcome === 'refused') throw refusalError(result.refusal, store.path);
  return { outcome: result.outcome, version };
}

async function adoptOrExplain(store: ZkRegistryStore, name: string) {
  try {
    return await store.adopt(name);
  } catch (error) {
    if (error instanceof HandoverError) throw new CliError(`${error.message} (${store.path})`);
    throw error;
  }
}

async function adoptIfManaged(store: ZkRegistryStore, name: string, print: Print): Promise<void> {
  const entry = entryNamed((await store.readWithManagers()).document, name);
  if (!entry?.owner) return;
  const adopted = await adoptOrExplain(store, name);
  print(`adopted "${name}" from cluster "${adopted.cluster}" (Service ${adopted.service}) to take it over`);
}

/**
 * The document to show, with the managers of entries whose marker was dropped. Anyone may read the document, but
 * only a cluster's writers its sync state: a state this identity may not read is said on stderr and left out.
 */
async function readToShow(store: ZkRegistryStore): Promise<RegistryDocument> {
  const { document, unreadable } = await store.readWithManagers({ skipUnreadableStates: true });
  for (const u of unreadable) {
    printError(
      `note: entries of cluster "${u.cluster}" whose ownership marker another writer dropped show as hand-made: ${u.message}`,
    );
  }
  return document;
}

interface RegisterOptions extends ZkCliOptions {
  name: string;
  endpoint: string[];
  description?: string;
  force?: boolean;
}

export function registerRegistryCommands(program: Command, write?: Print): void {
  // Everything printed may come from the document: escaped here, whoever prints it.
  const { line: print, block: printBlock } = printers(write);
  const registry = program
    .command('registry')
    .description('read and edit the registry document in ZooKeeper');

  addZkOptions(registry.command('list').description('list every entry'))
    .option('--json', 'print the entries as JSON')
    .action((options: ZkCliOptions & { json?: boolean }) =>
      withRegistry(options, async (store) => {
        const document = await readToShow(store);
        printBlock(
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
        const entry = entryNamed(await readToShow(store), options.name);
        if (!entry) throw new CliError(`no entry named "${options.name}" in ${store.path}`);
        printBlock(options.json ? JSON.stringify(entry.value, null, 2) : formatTable([entry]));
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
        // Taking over a cluster's entry is an adoption first, or the cluster would revert the edit; and a name a
        // cluster removed lately is let go first, or the cluster would take the new entry for an old copy of its own.
        if (options.force) await adoptIfManaged(store, options.name, print);
        await store.forgetReleased(options.name);
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

  addZkOptions(
    registry
      .command('adopt')
      .description(
        'make an entry a cluster manages hand-made: what readers see stays, the cluster stops managing it and ' +
          'reports a conflict for its Service instead',
      ),
  )
    .requiredOption('--name <name>', 'the entry to adopt')
    .action((options: ZkCliOptions & { name: string }) =>
      withRegistry(options, async (store) => {
        const adopted = await adoptOrExplain(store, options.name);
        print(
          `adopted "${options.name}" in ${store.path}: now hand-made; cluster "${adopted.cluster}" no longer manages ` +
            `it (Service ${adopted.service} is reported as a conflict) (document version ${adopted.version})`,
        );
      }),
    );

  addZkOptions(
    registry
      .command('purge')
      .description(
        'remove every entry of a decommissioned cluster, and its sync state, with compare-and-set',
      ),
  )
    .requiredOption('--cluster-id <id>', 'the cluster whose entries go')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .action((options: ZkCliOptions & { clusterId: string; dryRun?: boolean }) =>
      withRegistry(options, async (store) => {
        const purge = await store.purge(options.clusterId, { dryRun: options.dryRun === true });
        for (const e of purge.removed) print(describeChange({ kind: '-', ...e }));
        const what = `${purge.removed.length} entries of cluster "${options.clusterId}"`;
        if (options.dryRun) print(`dry run: would remove ${what} from ${store.path}, and its sync state`);
        else print(`removed ${what} from ${store.path}${purge.stateRemoved ? ', and its sync state' : ''}`);
      }),
    );

  addZkOptions(
    registry
      .command('watch')
      .description(
        'print one line for every new version of the document, and a line for each entry it changes',
      ),
  )
    .option('--json', 'print each version as one JSON line with its entries')
    .action(async (options: ZkCliOptions & { json?: boolean }) => {
      const store = registryFromCliOptions(options);
      let shown: RegistryDocument | undefined;
      await new Promise<void>((resolve) => {
        const stop = store.watch(
          ({ document, error, version, bytes }) => {
            const at = new Date().toISOString();
            if (error) {
              printError(
                `${at} version ${version}: not shown, the document does not parse: ${error.message}`,
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
              const current = document ?? { entries: [] };
              if (shown)
                for (const change of documentChanges(shown, current)) print(`  ${describeChange(change)}`);
              shown = current;
            }
          },
          (error) => printError(`${new Date().toISOString()} ${error.message}; retrying`),
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
