import type { Command } from 'commander';
import { messageOf } from '../util/errors.ts';
import { printError } from './output.ts';

/** A failure that a person caused or can fix: printed as one line, without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Runs the program; any error becomes `kube-zk-sync: <reason>` on stderr and a non-zero exit status. */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const e = error as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      // commander already printed its message (help, version, or a usage error).
      process.exitCode = e.exitCode ?? 2;
      return;
    }
    printError(`kube-zk-sync: ${messageOf(error)}`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}
