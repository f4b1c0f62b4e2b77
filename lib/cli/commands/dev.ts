// `kube-zk-sync dev`: the whole pipeline on this machine, against a real cluster or the simulator, and a ZooKeeper
// (one it starts when none is given). It shows what happens as it happens and leaves nothing running on Ctrl-C.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { ApiServerSimulator, generateServices, startChurn } from '../../local/apiserver/index.ts';
import { ZooKeeperCluster } from '../../local/zookeeper.ts';
import type { ReconcileResult } from '../../reconcile/reconcile.ts';
import { describeChange, documentChanges } from '../../registry/changes.ts';
import { emptyDocument, handEntry, isHandMade, type RegistryDocument } from '../../registry/document.ts';
import { describeDamage } from '../../registry/ownership.ts';
import type { SyncBatchResult } from '../../sync/batch.ts';
import type { EventCounts } from '../../sync/owner-events.ts';
import { LocalPipeline } from '../local-pipeline.ts';
import { block } from '../output.ts';
import { CliError } from '../run.ts';
import { lbDelayOption, parseLbDelay } from './simulate.ts';

interface DevOptions {
  kubeconfig?: string;
  simulate?: boolean;
  services: string;
  churn: string;
  zk?: string;
  path: string;
  clusterId: string;
  windowMs: string;
  batchSize: string;
  reconcileEvery: string;
  lbDelay: string;
  mirror?: boolean;
  mirrorNamespace: string;
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description(
      'Run the whole pipeline locally: forwarder → local EventBridge (the rule from serverless.yml) → a queue that ' +
        'batches like the SQS trigger → the sync handler → ZooKeeper, and the reconcile on a timer.',
    )
    .option('--kubeconfig <file>', 'a real cluster (default: KUBECONFIG or ~/.kube/config, current context)')
    .option('--simulate', 'use a simulated Kubernetes API with churning Services instead of a cluster')
    .option('--services <n>', 'with --simulate: LoadBalancer Services to start with', '200')
    .option('--churn <per-second>', 'with --simulate: random creates, updates and deletes per second', '2')
    .addOption(lbDelayOption())
    .option('--zk <hosts>', 'ZooKeeper connect string (default: start one on a free local port)')
    .option('--path <znode>', 'znode of the registry document', '/registry/services')
    .option('--cluster-id <id>', 'owner id of this cluster in the document', 'local')
    .option('--window-ms <ms>', 'the batching window of the queue (the debounce)', '1000')
    .option('--batch-size <n>', 'the most records in one sync invocation', '1000')
    .option('--reconcile-every <seconds>', 'seconds between reconciles (0: none)', '60')
    .option('--mirror', 'run the mirror too (the default with --simulate): hand-made entries as Services')
    .option('--no-mirror', 'do not run the mirror')
    .option('--mirror-namespace <namespace>', 'the namespace the mirror writes', 'registry')
    .action((options: DevOptions) => dev(options));
}

function count(value: string, option: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`${option} must be a whole number ≥ ${min}, not "${value}"`, 2);
  return n;
}

const time = () => new Date().toISOString().slice(11, 23);
// What it shows comes from the cluster and the document: escaped, like everything the CLI prints.
const say = (line: string) => process.stdout.write(`${block(`${time()} ${line}`)}\n`);

/** The deployed damage check runs every minute; locally a few seconds show the repair while one watches. */
const DAMAGE_CHECK_EVERY_MS = 5_000;

/** How many names a line of the terminal lists behind a count; the rest are counted. */
const NAMES_SHOWN = 10;

/** The names behind the counts, one line each: a count alone does not tell anyone what to fix. */
function details(lines: readonly string[]): string {
  if (lines.length === 0) return '';
  const more = lines.length > NAMES_SHOWN ? `\n    … and ${lines.length - NAMES_SHOWN} more` : '';
  return `\n${lines
    .slice(0, NAMES_SHOWN)
    .map((l) => `    ${l}`)
    .join('\n')}${more}`;
}

function describeBatch({ report: r, problems, eventErrors }: SyncBatchResult): string {
  const parts = [`${r.received} records`, `${r.applied} applied`];
  if (r.coalesced) parts.push(`${r.coalesced} coalesced`);
  if (r.stale) parts.push(`${r.stale} stale`);
  if (r.invalid) parts.push(`${r.invalid} invalid`);
  if (r.invalidServices) parts.push(`${r.invalidServices} invalid Services`);
  if (r.conflicts) parts.push(`${r.conflicts} conflicts`);
  if (r.repaired) parts.push(`${r.repaired} repaired (${r.reverted} hand edits reverted)`);
  if (r.unrepaired) parts.push(`${r.unrepaired} damaged, left for a reconcile`);
  if (r.identityMismatch) parts.push(`${r.identityMismatch} from another incarnation of the cluster`);
  if (r.reconcileRequested) parts.push('reconcile requested');
  const events = describeEvents(r.events);
  if (events) parts.push(events);
  const changes = `+${r.created} ~${r.updated} -${r.deleted}`;
  const write = r.error
    ? `write failed: ${r.error}`
    : r.documentWritten
      ? `document written (${changes})`
      : 'no change';
  const lines = [...problems.map((p) => p.problem), ...eventErrors.map((e) => `Event not written: ${e}`)];
  return `sync batch: ${parts.join(', ')}; ${write}${details(lines)}`;
}

/** The Events written on Services (kubectl describe svc shows them), and those that could not be. */
function describeEvents(e: EventCounts): string | undefined {
  const written = e.created + e.series;
  if (written + e.failed + e.unwritten === 0) return undefined;
  const lost = [e.failed ? `${e.failed} failed` : '', e.unwritten ? `${e.unwritten} not written` : '']
    .filter(Boolean)
    .join(', ');
  return `${written} Events on Services${lost ? ` (${lost})` : ''}`;
}

function describeReconcile(result: ReconcileResult | Error, why: string): string {
  if (result instanceof Error) return `reconcile (${why}) failed: ${result.message}`;
  const r = result.report;
  const outcome = r.refused ?? (r.documentWritten ? 'document written' : 'no change');
  const names = [
    ...(r.restarted ? [`sync state started afresh: ${r.restarted}`] : []),
    ...result.repaired.map((d) => describeDamage(d, true)),
    ...result.plan.conflicts.map((c) => `Service ${c.service} wants "${c.name}", held by ${c.heldBy}`),
    ...result.invalid.map((i) => i.error),
    ...result.eventErrors.map((e) => `Event not written: ${e}`),
  ];
  const events = describeEvents(r.events);
  return (
    `reconcile (${why}): ${r.listed} Services listed, +${r.created} ~${r.updated} -${r.deleted}, ${r.unchanged} unchanged, ` +
    `${r.conflicts} conflicts, ${r.skipped} skipped, ${r.repaired} repaired${events ? `, ${events}` : ''}; ` +
    `${outcome}${details(names)}`
  );
}

/** The example Service of the tour, as a path the user can paste from where they are. */
function examplePath(): string {
  const file = fileURLToPath(new URL('../../../infra/examples/web-service.yaml', import.meta.url));
  const near = relative(process.cwd(), file);
  return near.startsWith('..') ? file : near;
}

/** Three commands to paste: a Service created, renamed and deleted, and the lines the registry answers with. */
function tour(kubeconfig: string, lbDelayMs: number): string {
  const example = examplePath();
  const pending = lbDelayMs > 0 ? `, once its load balancer has an address (${lbDelayMs / 1000} s)` : '';
  return [
    'try it, in another terminal (the document lines below name each entry: + added, ~ changed, - removed):',
    `    export KUBECONFIG=${kubeconfig}`,
    `    kubectl apply -f ${example}`,
    `        → + web.demo${pending}; kubectl get svc -n demo shows EXTERNAL-IP <pending> until then`,
    '    kubectl annotate service web -n demo kube-zk-sync.io/name=storefront.demo',
    '        → - web.demo, + storefront.demo',
    `    kubectl delete -f ${example}`,
    '        → - storefront.demo',
  ].join('\n');
}

/** What the mirror did, one line each (its log is JSON for a cluster; here a person reads it). */
const mirrorLog = {
  debug() {},
  info: (message: string, fields: Readonly<Record<string, unknown>> = {}) =>
    message.startsWith('created') || message.startsWith('updated') || message.startsWith('deleted')
      ? say(`mirror: ${message} ${String(fields.name)}`)
      : message.startsWith('leading')
        ? say('mirror: leading, writing')
        : undefined,
  warn: (message: string, fields: Readonly<Record<string, unknown>> = {}) =>
    say(
      `mirror: ${message}${fields.entry ? ` "${String(fields.entry)}"` : ''}${fields.reason ? `: ${String(fields.reason)}` : ''}`,
    ),
  error: (message: string, fields: Readonly<Record<string, unknown>> = {}) =>
    say(`mirror: ${message}${fields.reason ? `: ${String(fields.reason)}` : ''}`),
};

/** A few databases and queues, as people register them, so the simulated registry has something to mirror. */
const EXAMPLES = [
  { name: 'kafka', description: 'Kafka brokers (example)', endpoints: ['kafka.example.internal:9092'] },
  {
    name: 'postgres.orders',
    description: 'Orders database (example)',
    endpoints: ['10.20.0.11:5432', '10.20.0.12:5432'],
  },
  { name: 'redis', description: 'Cache (example)', endpoints: ['10.20.1.5:6379', '[fd00:20::5]:6379'] },
];

async function registerExamples(pipeline: LocalPipeline): Promise<void> {
  const { written } = await pipeline.registry.modify((doc) => {
    if (doc.entries.some(isHandMade)) return { result: undefined };
    return { document: { entries: [...doc.entries, ...EXAMPLES.map(handEntry)] }, result: undefined };
  });
  if (written) say(`registry: registered ${EXAMPLES.map((e) => e.name).join(', ')} by hand (examples)`);
}

async function dev(options: DevOptions): Promise<void> {
  if (options.simulate && options.kubeconfig)
    throw new CliError('use either --kubeconfig or --simulate, not both', 2);
  const windowMs = count(options.windowMs, '--window-ms');
  const batchSize = count(options.batchSize, '--batch-size', 1);
  const reconcileEvery = count(options.reconcileEvery, '--reconcile-every');
  const services = count(options.services, '--services');
  const lbDelayMs = parseLbDelay(options.lbDelay);
  const churn = Number(options.churn);
  if (!Number.isFinite(churn) || churn < 0)
    throw new CliError(`--churn must be a number ≥ 0, not "${options.churn}"`, 2);

  const cleanup: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  };
  try {
    const kubeConfig = new KubeConfig();
    let simulatorKubeconfig: string | undefined;
    if (options.simulate) {
      const simulator = new ApiServerSimulator({ bookmarkIntervalMs: 10_000, lbDelayMs });
      for (const s of generateServices(services)) simulator.createService(s);
      const url = await simulator.start();
      cleanup.push(() => simulator.stop());
      const dir = await mkdtemp(join(tmpdir(), 'kube-zk-sync-dev-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const file = join(dir, 'kubeconfig');
      await simulator.writeKubeconfig(file);
      kubeConfig.loadFromFile(file);
      simulatorKubeconfig = file;
      say(
        `Kubernetes: simulator at ${url} with ${simulator.listServices().length} Services (kubectl --kubeconfig ${file} get services -A)`,
      );
      if (churn > 0) {
        const driver = startChurn(simulator, { changesPerSecond: churn });
        cleanup.push(async () => {
          await driver.stop();
        });
        say(`Kubernetes: ${churn} random changes a second`);
      }
    } else {
      try {
        if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
        else kubeConfig.loadFromDefault();
      } catch (error) {
        throw new CliError(`cannot load the kubeconfig: ${(error as Error).message}`, 2);
      }
      say(
        `Kubernetes: ${kubeConfig.getCurrentCluster()?.server ?? '(no current cluster)'}, context ${kubeConfig.getCurrentContext()}`,
      );
    }

    let zkConnect = options.zk;
    if (!zkConnect) {
      const zk = await ZooKeeperCluster.start();
      cleanup.push(() => zk.destroy());
      zkConnect = zk.connectString;
      say(`ZooKeeper: started at ${zkConnect} (stopped on exit)`);
    }

    const mirroring = options.mirror ?? options.simulate === true;
    const pipeline = await LocalPipeline.start({
      kubeConfig,
      zkConnect,
      registryPath: options.path,
      clusterId: options.clusterId,
      // The mapping, policy and budget settings come from the environment, as the Lambdas read them.
      env: process.env,
      queue: { windowMs, batchSize },
      reconcileEveryMs: reconcileEvery * 1000,
      damageCheckEveryMs: DAMAGE_CHECK_EVERY_MS,
      onSyncReport: (result) => say(describeBatch(result)),
      onReconcile: (result, why) => say(describeReconcile(result, why)),
      ...(mirroring ? { mirror: { namespace: options.mirrorNamespace, logger: mirrorLog } } : {}),
    });
    cleanup.push(() => pipeline.stop());
    say(
      `registry: ${options.path} on ${zkConnect}, owner "${options.clusterId}"; window ${windowMs} ms, reconcile every ${reconcileEvery} s`,
    );
    say(`watch it: npx kube-zk-sync registry watch --zk ${zkConnect} --path ${options.path}`);
    if (simulatorKubeconfig) say(tour(simulatorKubeconfig, lbDelayMs));
    if (mirroring) {
      if (options.simulate) await registerExamples(pipeline);
      say(
        `mirror: hand-made entries as Services in namespace ${options.mirrorNamespace} (kubectl get svc,endpointslices -n ${options.mirrorNamespace})`,
      );
    }

    let shown: RegistryDocument | undefined;
    const stopWatch = pipeline.registry.watch(({ document, error, version, bytes }) => {
      if (error) return say(`document v${version}: does not parse (${error.message})`);
      const current = document ?? emptyDocument;
      const hand = current.entries.filter(isHandMade).length;
      const changes = shown ? documentChanges(shown, current).map(describeChange) : [];
      shown = current;
      say(
        `document v${version}: ${current.entries.length} entries (${hand} hand-made), ${bytes} bytes${details(changes)}`,
      );
    });
    cleanup.push(async () => stopWatch());
    const status = setInterval(() => {
      const f = pipeline.forwarders[0];
      say(
        `forwarder: ${f?.ready ? 'ready' : 'listing'}, ${f?.pending ?? 0} pending; EventBridge: ` +
          `${pipeline.eventBridge.deliveries.length} events routed; queue: ${pipeline.queue.depth} waiting, ` +
          `${pipeline.queue.stats.batches} batches`,
      );
    }, 10_000);
    cleanup.push(async () => clearInterval(status));

    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    say('stopping…');
  } finally {
    await stopAll();
  }
  say('stopped');
}
