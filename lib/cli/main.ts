#!/usr/bin/env node
// The `kube-zk-sync` command. Each command lives in its own module under lib/cli/commands and is a thin adapter:
// it parses options, calls the library, prints, and turns failures into a one-line reason and a non-zero exit.
import { Command } from 'commander';
import { runCli } from './run.ts';

type RegisterCommand = (program: Command) => void;

// Loaded on demand: `registry list` should not pay for the Kubernetes client, the AWS SDK or the simulator.
const commands: Record<string, () => Promise<RegisterCommand>> = {
  registry: async () => (await import('./commands/registry.ts')).registerRegistryCommands,
  reconcile: async () => (await import('./commands/reconcile.ts')).registerReconcile,
  status: async () => (await import('./commands/status.ts')).registerStatus,
  forwarder: async () => (await import('./commands/forwarder.ts')).registerForwarder,
  mirror: async () => (await import('./commands/mirror.ts')).registerMirror,
  dev: async () => (await import('./commands/dev.ts')).registerDev,
  simulate: async () => (await import('./commands/simulate.ts')).registerSimulate,
};

const program = new Command('kube-zk-sync')
  .description('Publish Kubernetes Services into a ZooKeeper service registry document.')
  .showHelpAfterError();

const named = process.argv[2];
const wanted = named !== undefined && named in commands ? [named] : Object.keys(commands);
for (const name of wanted) (await commands[name]?.())?.(program);

await runCli(program, process.argv);
