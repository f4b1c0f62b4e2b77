#!/usr/bin/env node
// The mirror's entry in the container image (dist/mirror.mjs): only the mirror command. `node mirror.mjs --help`
// lists the options; `kube-zk-sync mirror` is the same.
import { Command } from 'commander';
import { configureMirrorCommand } from './commands/mirror.ts';
import { runCli } from './run.ts';

const program = configureMirrorCommand(new Command('kube-zk-sync-mirror')).showHelpAfterError();
await runCli(program, process.argv);
