// `kube-zk-sync forwarder`: the in-cluster process. Parses flags and environment, builds the clients, runs the
// forwarder and its health server until SIGTERM, then flushes within the deadline. The same command is the entry of
// the container image (lib/cli/forwarder-main.ts), so what the tests run is what the pod runs.
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Command } from 'commander';
import {
  type ForwarderConfig,
  ForwarderConfigError,
  type ForwarderFlags,
  parseForwarderConfig,
  SETTINGS,
} from '../../forwarder/config.ts';
import { Forwarder } from '../../forwarder/forwarder.ts';
import { KubeConfigError, kubeConfigFor } from '../../kube/connect.ts';
import { type HealthServer, startHealthServer } from '../../util/health-server.ts';
import { jsonLogger } from '../../util/log.ts';
import { CliError } from '../run.ts';
import { addSettingOptions } from '../setting-options.ts';

/** Adds the forwarder's options and action to `command` (a subcommand of the CLI, or the image's own program). */
export function configureForwarderCommand(command: Command): Command {
  command.description(
    'Watch Kubernetes Services and publish each change to an EventBridge bus (the in-cluster forwarder). ' +
      'Every option can also be set by the environment variable named in its help.',
  );
  addSettingOptions(command, SETTINGS);
  return command.action((flags: ForwarderFlags) => runForwarder(flags));
}

export function registerForwarder(program: Command): void {
  configureForwarderCommand(program.command('forwarder'));
}

async function runForwarder(flags: ForwarderFlags): Promise<void> {
  let config: ForwarderConfig;
  try {
    config = parseForwarderConfig(flags, process.env);
  } catch (error) {
    if (error instanceof ForwarderConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  const log = jsonLogger(config.logLevel);
  let kubeConfig: Awaited<ReturnType<typeof kubeConfigFor>>;
  try {
    kubeConfig = await kubeConfigFor({
      kind: 'kubeconfig',
      ...(config.kubeconfig ? { file: config.kubeconfig } : {}),
    });
  } catch (error) {
    if (error instanceof KubeConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  const eventBridge = new EventBridgeClient({
    region: config.region,
    ...(config.eventBridgeEndpoint ? { endpoint: config.eventBridgeEndpoint } : {}),
    // The forwarder retries per entry and per call itself; SDK retries would stack a second policy on top.
    maxAttempts: 1,
  });
  const forwarder = new Forwarder({
    clusterId: config.clusterId,
    eventBusName: config.eventBusName,
    kubeConfig,
    eventBridge,
    ...(config.namespace ? { namespace: config.namespace } : {}),
    ...(config.labelSelector ? { labelSelector: config.labelSelector } : {}),
    watch: {
      timeoutSeconds: config.watchTimeoutSeconds,
      stallMs: config.stallSeconds * 1000,
      pageSize: config.pageSize,
    },
    send: { concurrency: config.sendConcurrency },
    logger: log,
  });

  // Signals are caught before anything starts, so a pod deleted during startup still exits cleanly.
  let signals = 0;
  let stopRequested: () => void = () => {};
  const stopping = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log.info('stopping: flushing pending events', { signal, flushSeconds: config.flushSeconds });
      stopRequested();
    } else {
      log.warn('second signal: exiting without flushing', { signal });
      process.exit(1);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let health: HealthServer;
  try {
    health = await startHealthServer(forwarder, { port: config.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    eventBridge.destroy();
    throw new CliError(
      `port ${config.port} for /healthz, /readyz and /metrics ${code === 'EADDRINUSE' ? 'is in use' : `cannot be opened (${code ?? String(error)})`}: choose another --port (HTTP_PORT)`,
    );
  }
  log.info('health and metrics listening', { url: health.url, port: health.port });
  forwarder.start();

  await stopping;
  const result = await forwarder.stop({ flushMs: config.flushSeconds * 1000 });
  await health.close();
  eventBridge.destroy();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  // Unsent events are not an error of this process, but the exit status lets an operator see the flush fell short.
  if (!result.flushed) process.exitCode = 3;
}
