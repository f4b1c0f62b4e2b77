// Keeps the arrows between the folders pointing one way: product code (lib/, functions/) never reaches into test/,
// and lib/cli/ is the top floor, the only part of lib/ that wires in the Lambda handlers (functions/), imported by
// nothing in lib/ or functions/. Biome's noRestrictedImports matches a specifier as written, so `../../test/x.ts` and
// `../test/x.ts` would need a pattern per folder depth; this check resolves each relative specifier against its
// file instead. `npm run lint` runs it after biome; `node infra/check-imports.ts [root]` prints file:line per breach.
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export interface ImportViolation {
  /** The importing file, relative to the repository root, with `/` separators. */
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly rule: string;
}

interface Rule {
  readonly from: (file: string) => boolean;
  readonly to: (target: string) => boolean;
  readonly rule: string;
}

const under =
  (...folders: string[]) =>
  (path: string): boolean =>
    folders.some((folder) => path === folder || path.startsWith(`${folder}/`));
const inLibBelowCli = (file: string): boolean => under('lib')(file) && !under('lib/cli')(file);

const RULES: readonly Rule[] = [
  {
    from: under('lib', 'functions'),
    to: under('test'),
    rule: 'product code (lib/, functions/) must not import test/',
  },
  {
    from: inLibBelowCli,
    to: under('functions'),
    rule: 'only lib/cli/ may import functions/',
  },
  {
    from: (file) => inLibBelowCli(file) || under('functions')(file),
    to: under('lib/cli'),
    rule: 'lib/cli/ is the top floor: nothing in lib/ or functions/ imports it',
  },
  {
    // The simulator and the other local stand-ins must never end up in the product's processes (the forwarder, the
    // mirror, the Lambdas): only the CLI wires them in, for `dev` and `simulate`.
    from: (file) => (inLibBelowCli(file) && !under('lib/local')(file)) || under('functions')(file),
    to: under('lib/local'),
    rule: 'only lib/cli/ may import lib/local/ (the local world)',
  },
];

/** The folders whose files the rules constrain. */
const CHECKED = ['lib', 'functions'];
const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;

/** The breaches in one file's text; `file` is its path from the repository root. */
export function importViolations(file: string, text: string): ImportViolation[] {
  const rules = RULES.filter((r) => r.from(file));
  if (rules.length === 0) return [];
  const violations: ImportViolation[] = [];
  // The TypeScript scanner, not a regular expression: comments and strings that look like imports are not imports,
  // and type-only imports, re-exports and dynamic import() calls are.
  for (const { fileName: specifier, pos } of ts.preProcessFile(text, true, true).importedFiles) {
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
    const target = posix.normalize(posix.join(posix.dirname(file), specifier));
    const line = text.slice(0, pos).split('\n').length;
    for (const r of rules) if (r.to(target)) violations.push({ file, line, specifier, rule: r.rule });
  }
  return violations;
}

/** The breaches in every source file under lib/ and functions/ of the tree at `root`. */
export async function checkImports(root: string): Promise<ImportViolation[]> {
  const violations: ImportViolation[] = [];
  for (const folder of CHECKED) {
    const entries = await readdir(posix.join(root, folder), { recursive: true });
    for (const entry of entries.sort()) {
      if (!SOURCE.test(entry)) continue;
      const file = posix.join(folder, entry.split('\\').join('/'));
      violations.push(...importViolations(file, await readFile(posix.join(root, file), 'utf8')));
    }
  }
  return violations;
}

export function describeViolation(v: ImportViolation): string {
  return `${v.file}:${v.line}: imports '${v.specifier}': ${v.rule}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
  const violations = await checkImports(root);
  for (const v of violations) process.stderr.write(`${describeViolation(v)}\n`);
  if (violations.length > 0) process.exitCode = 1;
}
