// Bundles the forwarder (lib/cli/forwarder-main.ts and everything it imports) into one ESM file that plain Node 22
// runs with no node_modules: what the container image copies. `npm run build:forwarder` writes dist/forwarder.mjs.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const DEFAULT_OUTFILE = `${root}dist/forwarder.mjs`;

/** Builds the bundle at `outfile`; returns its size in bytes. */
export async function buildForwarder(outfile: string = DEFAULT_OUTFILE): Promise<number> {
  const result = await build({
    entryPoints: [`${root}lib/cli/forwarder-main.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    // Names stay readable in stack traces; the bundle's size is dominated by the SDK either way.
    keepNames: true,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // Several dependencies are CommonJS and call require() for Node built-ins; ESM has no require of its own.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  const output = Object.values(result.metafile?.outputs ?? {})[0];
  return output?.bytes ?? 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outfile = process.argv[2] ?? DEFAULT_OUTFILE;
  const bytes = await buildForwarder(outfile);
  process.stdout.write(`built ${outfile} (${(bytes / 1024 / 1024).toFixed(1)} MiB)\n`);
}
