#!/usr/bin/env node
// The container image's entry point: only the forwarder command, so the bundle carries neither the ZooKeeper client
// nor the registry commands. `node forwarder.mjs --help` lists the options; `kube-zk-sync forwarder` is the same.
import { Command } from 'commander';
import { configureForwarderCommand } from './commands/forwarder.ts';
import { runCli } from './run.ts';

const program = configureForwarderCommand(new Command('kube-zk-sync-forwarder')).showHelpAfterError();
await runCli(program, process.argv);
