// `kube-zk-sync status`: "why is my Service not in the registry?" answered for each Service, as the reconcile would
// decide it now: a dry-run reconcile (the same list, mapping, filters, name policy, budgets and plan; nothing is
// written), shown one line per Service. The reconcile Lambda's `{"dryRun": true}` answers with the same rows.
import type { Command } from 'commander';
import { type StatusRow, statusRows, withContributors } from '../../registry/outcome.ts';
import { oneLine, type Print, printers } from '../output.ts';
import { CliError } from '../run.ts';
import { addReconcileOptions, type ReconcileCliOptions, reconcileFromCli } from './reconcile.ts';

interface StatusOptions extends ReconcileCliOptions {
  namespace?: string;
  json?: boolean;
}

const AGREEMENT: Record<NonNullable<StatusRow['document']>, string> = {
  agrees: 'the document agrees',
  missing: 'not in the document yet: the next sync or reconcile adds it',
  differs: 'the document holds an older version: the next sync or reconcile updates it',
};

/** One line per Service: its key, where it stands, and for a published one whether the document agrees. */
function formatStatus(rows: readonly StatusRow[]): string {
  const width = Math.max(0, ...rows.map((r) => r.service.length));
  return rows
    .map((r) => {
      const agreement = r.document ? ` (${AGREEMENT[r.document]})` : '';
      return oneLine(`${r.service.padEnd(width)}  ${r.status}${agreement}`);
    })
    .join('\n');
}

export function registerStatus(program: Command, write?: Print): void {
  const { block: print } = printers(write);
  addReconcileOptions(
    program
      .command('status')
      .argument('[service]', 'only this Service (in the namespace of -n, default "default")')
      .description(
        'Where each Service stands in the registry, as the reconcile would decide it now: published (and whether ' +
          'the document agrees), skipped and why, invalid, in conflict and with whom. Reads only.',
      ),
  )
    .option('-n, --namespace <namespace>', 'only the Services of this namespace')
    .option('--json', 'print the rows as JSON')
    .action((service: string | undefined, options: StatusOptions) => status(service, options, print));
}

async function status(service: string | undefined, options: StatusOptions, print: Print): Promise<void> {
  const { result } = await reconcileFromCli(options, { dryRun: true });
  const namespace = options.namespace ?? (service !== undefined ? 'default' : undefined);
  const rows = withContributors(statusRows(result.outcomes), result.document).filter(
    (r) =>
      (namespace === undefined || r.service.startsWith(`${namespace}/`)) &&
      (service === undefined || r.service === `${namespace}/${service}`),
  );
  if (service !== undefined && rows.length === 0)
    throw new CliError(`there is no Service ${namespace}/${service} in the cluster`);
  if (options.json) print(JSON.stringify(rows, null, 2));
  else if (rows.length > 0) print(formatStatus(rows));
  else print(`no Services${namespace ? ` in namespace ${namespace}` : ''}`);
  // A reconcile that would be refused says so: its deletions wait, and the rows show which.
  if (result.report.refused && !result.report.superseded)
    print(oneLine(`note: the reconcile would be refused: ${result.report.refused}`));
}
