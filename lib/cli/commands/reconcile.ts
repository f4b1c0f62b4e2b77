// `kube-zk-sync reconcile`: the reconcile Lambda's work, run by a person from a kubeconfig. Same configuration (the
// mapping settings come from the same environment variables), same mapping, same compare-and-set write.
import { type Command, Option } from 'commander';
import { ConfigError, parseReconcileConfig, type ReconcileConfig } from '../../config/config.ts';
import { fetchZkCredentials } from '../../config/credentials.ts';
import { KubeConfigError, kubeConfigFor, serverOf, serviceListApiFor } from '../../kube/connect.ts';
import { KubeListError } from '../../kube/list.ts';
import { type ReconcileResult, reconcile } from '../../reconcile/reconcile.ts';
import { clusterList } from '../../reconcile/request.ts';
import type { RegistryEntry } from '../../registry/document.ts';
import { describeDamage } from '../../registry/ownership.ts';
import { registryFromConfig, registryTarget } from '../../sync/target.ts';
import { oneLine, type Print, printers } from '../output.ts';
import { CliError } from '../run.ts';
import { addZkOptions, identityFromCliOptions, timeoutMs, type ZkCliOptions } from '../zk-options.ts';

/** Exit status when the deletion guard stopped the reconcile (nothing was written). */
export const EXIT_REFUSED = 3;

interface ReconcileOptions extends ReconcileCliOptions {
  dryRun?: boolean;
  force?: boolean;
  resetState?: boolean;
  json?: boolean;
}

const endpoints = (e: RegistryEntry) => e.endpoints.join(',') || '(none)';

/** One line per change: + created, ~ updated, - deleted, ! conflict; then the counts and what was written. */
export function formatReconcile(result: ReconcileResult, path: string): string {
  const { plan, report } = result;
  const lines = [
    `reconcile of cluster "${plan.owner}" from ${report.listed} Services (list at resourceVersion ` +
      `${report.listVersion}) into ${path}`,
  ];
  for (const c of plan.creates) lines.push(`+ ${c.entry.name}  ${endpoints(c.entry)}  (${c.service})`);
  for (const u of plan.updates) {
    const what: string[] = [];
    if (u.before.name !== u.after.name) what.push(`name ${u.before.name} → ${u.after.name}`);
    if (endpoints(u.before) !== endpoints(u.after))
      what.push(`${endpoints(u.before)} → ${endpoints(u.after)}`);
    if (u.before.description !== u.after.description)
      what.push(`description "${u.before.description}" → "${u.after.description}"`);
    lines.push(`~ ${u.after.name}  ${what.join('; ')}  (${u.service})`);
  }
  for (const d of plan.deletes) lines.push(`- ${d.entry.name}  ${endpoints(d.entry)}  (${d.service})`);
  for (const c of plan.conflicts)
    lines.push(`! ${c.name}  wanted by ${c.service}, held by ${oneLine(c.heldBy)}`);
  // An invalid Service's problem quotes its annotations as a tenant wrote them.
  for (const i of result.invalid) lines.push(`! ${oneLine(i.error)}`);
  // Entry names come from the document, which other writers write too.
  for (const d of result.repaired) lines.push(`* ${oneLine(describeDamage(d, true))}`);
  if (report.restarted) lines.push(`sync state started afresh: ${report.restarted}`);
  lines.push(
    `created ${report.created}, updated ${report.updated}, deleted ${report.deleted}, unchanged ${report.unchanged}, ` +
      `conflicts ${report.conflicts}, skipped ${report.skipped}, invalid ${report.invalid}`,
  );
  if (report.refused) lines.push(`refused: ${report.refused}`);
  else if (report.dryRun) lines.push('dry run: nothing written');
  else if (report.documentWritten)
    lines.push(`written: document version ${report.version}, ${report.documentBytes} bytes`);
  else lines.push('no change to the document: nothing written');
  return lines.join('\n');
}

export function registerReconcile(program: Command, write?: Print): void {
  // Names, descriptions and problems come from tenants' annotations and the document: escaped before printing.
  const { block: print } = printers(write);
  addReconcileOptions(
    program
      .command('reconcile')
      .description(
        'List every Service of a cluster and make its entries in the registry document match: the same mapping, ' +
          'filters (SERVICE_TYPES, NAMESPACES_ALLOW, … from the environment) and write as the reconcile Lambda.',
      ),
  )
    .option('--dry-run', 'show what would change, write nothing')
    .option('--force', 'delete even when more than MAX_DELETE_SHARE of the entries would go')
    .option(
      '--reset-state',
      "start the cluster's sync state afresh from this list (a corrupt or suspect state); ownership is kept",
    )
    .option('--json', 'print the report and the changes as JSON')
    .action((options: ReconcileOptions) => run(options, print));
}

/** The options every command that runs a reconcile from a kubeconfig takes (reconcile, status). */
export type ReconcileCliOptions = ZkCliOptions & {
  kubeconfig?: string;
  context?: string;
  clusterId?: string;
};

/** Adds the kubeconfig and cluster options of a command that runs a reconcile. */
export function addReconcileOptions(command: Command): Command {
  return addZkOptions(command)
    .addOption(new Option('--kubeconfig <file>', 'kubeconfig of the cluster (default: as kubectl finds it)'))
    .addOption(new Option('--context <name>', 'kubeconfig context (default: its current context)'))
    .addOption(new Option('--cluster-id <id>', "the id that owns this cluster's entries").env('CLUSTER_ID'));
}

/**
 * A reconcile of the cluster the kubeconfig names into the registry the options name, with the configuration the
 * Lambdas read from the environment. `request` says what it may do (a dry run writes nothing).
 */
export async function reconcileFromCli(
  options: ReconcileCliOptions,
  request: { dryRun: boolean; force?: boolean; resetState?: boolean },
): Promise<{ result: ReconcileResult; config: ReconcileConfig }> {
  if (!options.zk) throw new CliError('no ZooKeeper given: pass --zk host:port or set ZK_CONNECT', 2);
  if (!options.path) throw new CliError('no registry path given: pass --path /znode or set REGISTRY_PATH', 2);
  if (!options.clusterId)
    throw new CliError('no cluster id given: pass --cluster-id ID or set CLUSTER_ID', 2);
  const ms = String(timeoutMs(options));
  let config: ReconcileConfig;
  try {
    config = parseReconcileConfig({
      ...process.env,
      ZK_CONNECT: options.zk,
      REGISTRY_PATH: options.path,
      CLUSTER_ID: options.clusterId,
      ZK_CONNECT_TIMEOUT_MS: ms,
      ZK_OPERATION_TIMEOUT_MS: ms,
      // A kubeconfig, never the Lambda's EKS settings: a person reaches the cluster with their own credentials.
      EKS_CLUSTER_NAME: '',
      EKS_ENDPOINT: '',
      EKS_CA_DATA: '',
      ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}),
      ...(options.context ? { KUBE_CONTEXT: options.context } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  const identity = identityFromCliOptions(options);
  const auth = identity.auth ?? (await fetchZkCredentials(config.credentials));
  let api: ReturnType<typeof serviceListApiFor>;
  let server: string | undefined;
  try {
    const kc = await kubeConfigFor(config.kube);
    api = serviceListApiFor(kc);
    server = serverOf(kc);
  } catch (error) {
    if (error instanceof KubeConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  const { registry } = registryFromConfig({ ...config, openAcl: identity.openAcl }, auth, identity.writers);
  try {
    const result = await reconcile({
      registry,
      target: registryTarget(config),
      list: clusterList(api, config.listPageSize, server ? { server } : {}),
      maxDeleteShare: config.maxDeleteShare,
      dryRun: request.dryRun,
      force: request.force === true,
      resetState: request.resetState === true,
    });
    return { result, config };
  } catch (error) {
    if (error instanceof KubeListError) throw new CliError(error.message);
    throw error;
  } finally {
    registry.close();
  }
}

async function run(options: ReconcileOptions, print: Print): Promise<void> {
  const { result, config } = await reconcileFromCli(options, {
    dryRun: options.dryRun === true,
    force: options.force === true,
    resetState: options.resetState === true,
  });
  if (options.json) {
    const { report, plan, skipped, invalid, repaired } = result;
    print(
      JSON.stringify(
        {
          report,
          created: plan.creates,
          updated: plan.updates,
          deleted: plan.deletes,
          conflicts: plan.conflicts,
          skipped,
          invalid,
          repaired,
        },
        null,
        2,
      ),
    );
  } else print(formatReconcile(result, config.registryPath));
  if (result.report.refused) throw new CliError(result.report.refused, EXIT_REFUSED);
}
