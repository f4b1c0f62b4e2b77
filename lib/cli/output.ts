// What the CLI prints. Much of it comes from the registry document, which any writer may have filled with terminal
// escape sequences, or from Kubernetes annotations that tenants write: control characters are printed as visible
// `\uXXXX` escapes (lib/registry/printable.ts), never sent raw to a person's terminal.
import { escapeControlCharacters } from '../registry/printable.ts';

export type Print = (text: string) => void;

/** One line: every control character escaped, line breaks included, so that no value can forge another line. */
export const oneLine = (text: string): string => escapeControlCharacters(text);

/**
 * Lines the CLI lays out itself (a table whose cells are `oneLine`, indented JSON): its line breaks stay, every
 * other control character is escaped.
 */
export const block = (text: string): string => escapeControlCharacters(text, '\n');

const stdout: Print = (text) => process.stdout.write(`${text}\n`);

/** The printers of a command that writes to `write` (stdout by default). */
export function printers(write: Print = stdout): { line: Print; block: Print } {
  return { line: (text) => write(oneLine(text)), block: (text) => write(block(text)) };
}

/** One line on stderr, escaped. */
export const printError: Print = (text) => process.stderr.write(`${oneLine(text)}\n`);
