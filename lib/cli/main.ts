#!/usr/bin/env node
// The `kube-zk-sync` command. Each command lives in its own module under lib/cli/commands and is a thin adapter:
// it parses options, calls the library, prints, and turns failures into a one-line reason and a non-zero exit.
import { Command } from 'commander';
import { registerDev } from './commands/dev.ts';
import { registerForwarder } from './commands/forwarder.ts';
import { registerReconcile } from './commands/reconcile.ts';
import { registerRegistryCommands } from './commands/registry.ts';
import { registerSimulate } from './commands/simulate.ts';
import { runCli } from './run.ts';

type RegisterCommand = (program: Command) => void;

const program = new Command('kube-zk-sync')
  .description('Publish Kubernetes Services into a ZooKeeper service registry document.')
  .showHelpAfterError();

const commands: RegisterCommand[] = [
  registerRegistryCommands,
  registerSimulate,
  registerReconcile,
  registerForwarder,
  registerDev,
];
for (const register of commands) register(program);

await runCli(program, process.argv);
