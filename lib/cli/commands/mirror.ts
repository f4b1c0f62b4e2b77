// `kube-zk-sync mirror`: registry entries as Services and EndpointSlices in one namespace. Parses flags and
// environment, opens ZooKeeper and the cluster, and runs the mirror process until SIGTERM (a leader releases its
// Lease on the way out). `--dry-run` reads the document and the namespace once and prints what a sync would do, and
// why entries are not mirrored, writing nothing.
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { KubeConfigError, kubeConfigFor } from '../../kube/connect.ts';
import {
  MIRROR_SETTINGS,
  type MirrorConfig,
  MirrorConfigError,
  type MirrorFlags,
  parseMirrorConfig,
} from '../../mirror/config.ts';
import { desiredObjects, instanceLabel } from '../../mirror/desired.ts';
import { mirrorKubeApi } from '../../mirror/kube.ts';
import type { MirrorPlan } from '../../mirror/plan.ts';
import { planMirror } from '../../mirror/plan.ts';
import { MIRROR_CALL_TIMEOUT_MS, startMirrorProcess } from '../../mirror/process.ts';
import { messageOf } from '../../util/errors.ts';
import { jsonLogger } from '../../util/log.ts';
import { type Print, printers } from '../output.ts';
import { CliError } from '../run.ts';
import { addSettingOptions } from '../setting-options.ts';
import { addZkOptions, registryFromCliOptions, withRegistry, type ZkCliOptions } from '../zk-options.ts';

type MirrorCommandOptions = MirrorFlags & ZkCliOptions & { dryRun?: boolean };

export function registerMirror(program: Command): void {
  configureMirrorCommand(program.command('mirror'));
}

/** Adds the mirror's options and action to `command` (a subcommand of the CLI, or the image's own program). */
export function configureMirrorCommand(command: Command): Command {
  command
    .description(
      "Keep the registry's hand-made entries (and, with --include-clusters, other clusters') as Services and " +
        'EndpointSlices in one namespace, so pods reach them by DNS. Runs in the cluster as 2 replicas; one writes.',
    )
    .option(
      '--dry-run',
      'read the document and the namespace once, print what a sync would do and why entries are not mirrored; write nothing',
    );
  addSettingOptions(command, MIRROR_SETTINGS);
  return addZkOptions(command).action((options: MirrorCommandOptions) => runMirrorCommand(options));
}

function configFrom(options: MirrorCommandOptions): MirrorConfig {
  try {
    return parseMirrorConfig(options, process.env, hostname());
  } catch (error) {
    if (error instanceof MirrorConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

async function kubeConfigOf(config: MirrorConfig) {
  try {
    return await kubeConfigFor({
      kind: 'kubeconfig',
      ...(config.kubeconfig ? { file: config.kubeconfig } : {}),
    });
  } catch (error) {
    if (error instanceof KubeConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** The dry run's lines: what would be written, deleted, held, and why entries are not mirrored. */
export function describeMirrorPlan(plan: MirrorPlan, print: Print): void {
  for (const a of plan.actions) {
    if (a.kind === 'apply')
      print(
        `${a.why === 'create' ? '+' : '~'} ${a.why} ${a.object.kind}/${a.object.metadata.name} (entry "${a.entry}")`,
      );
    else print(`- delete ${a.target.kind}/${a.target.name}: ${a.why}`);
  }
  for (const c of plan.conflicts) print(`! conflict ${c.kind}/${c.name} (entry "${c.entry}"): ${c.reason}`);
  for (const u of plan.unmirrorable) print(`? not mirrored "${u.entry}": ${u.reason}`);
  for (const s of plan.skipped) print(`. skipped "${s.entry}": ${s.reason}`);
  if (plan.held) print(`! held: ${plan.held}`);
  if (plan.actions.length === 0) print('nothing to change');
}

async function dryRun(options: MirrorCommandOptions, config: MirrorConfig): Promise<void> {
  const kubeConfig = await kubeConfigOf(config);
  const { line } = printers();
  await withRegistry(options, async (registry) => {
    const read = await registry.read();
    if (read.version < 0) throw new CliError(`the registry document ${registry.path} does not exist`, 1);
    const observed = await mirrorKubeApi(kubeConfig, config.namespace, MIRROR_CALL_TIMEOUT_MS).list();
    const plan = planMirror(desiredObjects(read.document, config), observed, {
      instance: instanceLabel(config.clusterId),
      prune: config.prune,
      maxDeleteShare: config.maxDeleteShare,
    });
    describeMirrorPlan(plan, line);
  });
}

async function runMirrorCommand(options: MirrorCommandOptions): Promise<void> {
  const config = configFrom(options);
  if (options.dryRun) return dryRun(options, config);
  const kubeConfig = await kubeConfigOf(config);
  const log = jsonLogger(config.logLevel, undefined, { component: 'mirror' });
  const registry = registryFromCliOptions(options, { sessionTimeoutMs: config.sessionTimeoutMs });

  let stopRequested: () => void = () => {};
  const stopping = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    log.info('stopping: releasing the lease', { signal });
    stopRequested();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let running: Awaited<ReturnType<typeof startMirrorProcess>>;
  try {
    running = await startMirrorProcess({
      config,
      source: registry,
      kubeConfig,
      logger: log,
      processMetrics: true,
    });
  } catch (error) {
    registry.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'EADDRINUSE' || code === 'EACCES'
        ? `port ${config.port} for /healthz, /readyz and /metrics cannot be opened (${code}): choose another --port (HTTP_PORT)`
        : messageOf(error),
    );
  }
  log.info('mirror started', {
    namespace: config.namespace,
    identity: config.identity,
    health: running.health?.url,
    includeClusters: config.includeClusters,
    prune: config.prune,
  });
  await stopping;
  await running.stop();
  registry.close();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
}
