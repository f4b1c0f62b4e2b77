// Characters that change how text is shown instead of being shown: terminal control sequences start with them (ESC,
// the 8-bit CSI), line breaks forge lines, bidi controls reorder what a reader sees. The registry refuses them in
// what it accepts, and the CLI escapes them in what it prints, since a document may hold anything another writer
// put there.

/**
 * C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F), the Arabic letter mark, the left-to-right and right-to-left marks,
 * the line and paragraph separators, and the bidi embeddings, overrides and isolates.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const codePoint = (char: string) =>
  `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * `text` with every control character written as a `\uXXXX` escape, which is what JSON means by it too, so printed
 * JSON stays valid JSON of the same value. Characters in `keep` (a line break between printed lines) stay.
 */
export function escapeControlCharacters(text: string, keep = ''): string {
  return text.replace(CONTROL, (char) =>
    keep.includes(char) ? char : `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}

/** How much of the refused text a problem quotes. */
const QUOTED = 80;

/** Why `text` (named by `what`, e.g. "the description") is refused, or undefined when it holds no control character. */
export function controlCharacterProblem(what: string, text: string): string | undefined {
  const found = [...new Set(text.match(CONTROL) ?? [])];
  if (found.length === 0) return undefined;
  const shown = escapeControlCharacters(text);
  return (
    `${what} "${shown.length > QUOTED ? `${shown.slice(0, QUOTED)}…` : shown}" contains control characters (${found.map(codePoint).join(', ')}); ` +
    'terminal escapes, line breaks and bidi controls are not allowed'
  );
}
