// `kube-zk-sync simulate`: a kube-apiserver for Services (and EndpointSlices, Leases, Events) on this machine, so the forwarder, the reconcile and kubectl
// can be tried without a cluster. The simulator is lib/local/apiserver; this module only parses options and runs it.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ApiServerSimulator, generateServices, startChurn } from '../../local/apiserver/index.ts';
import { CliError } from '../run.ts';

interface SimulateOptions {
  port: string;
  services: string;
  churn?: string;
  churnFor?: string;
  seed: string;
  lbDelay: string;
  kubeconfigOut: string;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'Serve simulated Kubernetes Services (read and written with kubectl, a cloud controller giving load balancers ' +
        'their address) on 127.0.0.1 until interrupted. ' +
        '--services N makes N LoadBalancer Services with an ingress, plus ClusterIP Services and pending load balancers.',
    )
    .requiredOption('--port <port>', 'TCP port to listen on (0: any free port)')
    .requiredOption('--services <n>', 'number of LoadBalancer Services with an ingress')
    .option('--churn <changes-per-second>', 'apply random creates, updates and deletes at this rate')
    .option(
      '--churn-for <seconds>',
      'stop the churn after this many seconds (default: run until interrupted)',
    )
    .option('--seed <seed>', 'seed for the generated Services and the churn', '1')
    .option(
      '--lb-delay <seconds>',
      'seconds until a LoadBalancer Service created through the API (kubectl) gets its address (0: at once)',
      '5',
    )
    .requiredOption('--kubeconfig-out <file>', 'write a kubeconfig for the simulator here')
    .action((options: SimulateOptions) => simulate(options));
}

async function simulate(options: SimulateOptions): Promise<void> {
  const port = integer(options.port, '--port', 0, 65535);
  const services = integer(options.services, '--services', 0, 1_000_000);
  const seed = integer(options.seed, '--seed', 0, 2 ** 32 - 1);
  const rate = options.churn === undefined ? undefined : positive(options.churn, '--churn');
  const churnFor = options.churnFor === undefined ? undefined : positive(options.churnFor, '--churn-for');
  if (churnFor !== undefined && rate === undefined)
    throw new CliError('--churn-for needs --churn <changes-per-second>');
  const lbDelay = Number(options.lbDelay);
  if (options.lbDelay.trim() === '' || !Number.isFinite(lbDelay) || lbDelay < 0 || lbDelay > 3600)
    throw new CliError(`--lb-delay must be a number of seconds from 0 to 3600, not "${options.lbDelay}"`);
  const kubeconfig = resolve(options.kubeconfigOut);
  // Listening for signals before anything is announced: whoever sees the kubeconfig may interrupt at once.
  const interrupted = new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

  const simulator = new ApiServerSimulator({ seed, lbDelayMs: lbDelay * 1000 });
  for (const input of generateServices(services, { seed })) simulator.createService(input);
  try {
    await simulator.start({ port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'is in use' : `cannot be opened (${code ?? String(error)})`;
    throw new CliError(`port ${port} on 127.0.0.1 ${reason}: choose another --port, or 0 for any free port`);
  }
  try {
    await simulator.writeKubeconfig(kubeconfig);
  } catch (error) {
    await simulator.stop();
    throw new CliError(`cannot write the kubeconfig to ${kubeconfig}: ${(error as Error).message}`);
  }
  const churn =
    rate === undefined
      ? undefined
      : startChurn(simulator, { changesPerSecond: rate, durationSeconds: churnFor, seed });
  process.stdout.write(
    `kube-zk-sync simulate: ${simulator.listServices().length} Services at ${simulator.url}` +
      `${rate === undefined ? '' : `, ${rate} changes/s${churnFor === undefined ? '' : ` for ${churnFor}s`}`}; ` +
      `try: kubectl --kubeconfig ${kubeconfig} get services -A --watch (Ctrl-C stops)\n`,
  );

  void churn?.done.then((c) =>
    process.stderr.write(
      `kube-zk-sync simulate: churn done: ${c.created} created, ${c.updated} updated, ${c.deleted} deleted\n`,
    ),
  );
  await interrupted;
  await churn?.stop();
  await simulator.stop();
  process.stderr.write('kube-zk-sync simulate: stopped\n');
}

function integer(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    throw new CliError(`${flag} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return n;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new CliError(`${flag} must be a number greater than 0, not "${value}"`);
  }
  return n;
}
