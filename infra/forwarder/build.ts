// Bundles the in-cluster processes into one ESM file each that plain Node 22 runs with no node_modules: what the
// container image copies. The forwarder (lib/cli/forwarder-main.ts) and the mirror (lib/cli/mirror-main.ts) are
// separate files, so the forwarder stays thin (no ZooKeeper client). `npm run build:forwarder` writes both to dist/.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const DEFAULT_OUTFILE = `${root}dist/forwarder.mjs`;
export const DEFAULT_MIRROR_OUTFILE = `${root}dist/mirror.mjs`;

/** Builds the forwarder's bundle at `outfile`; returns its size in bytes. */
export const buildForwarder = (outfile: string = DEFAULT_OUTFILE): Promise<number> =>
  bundle('forwarder-main.ts', outfile);

/** Builds the mirror's bundle at `outfile`; returns its size in bytes. */
export const buildMirror = (outfile: string = DEFAULT_MIRROR_OUTFILE): Promise<number> =>
  bundle('mirror-main.ts', outfile);

async function bundle(entry: string, outfile: string): Promise<number> {
  const result = await build({
    entryPoints: [`${root}lib/cli/${entry}`],
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
  for (const [outfile, build] of [
    [DEFAULT_OUTFILE, buildForwarder],
    [DEFAULT_MIRROR_OUTFILE, buildMirror],
  ] as const) {
    const bytes = await build(outfile);
    process.stdout.write(`built ${outfile} (${(bytes / 1024 / 1024).toFixed(1)} MiB)\n`);
  }
}
