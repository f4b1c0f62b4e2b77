// esbuild plugins for serverless-esbuild (serverless.yml, custom.esbuild.plugins), which loads them with require().
//
// With `splitting`, what a function imports with `import()` (the SSM and Secrets Manager clients, the AWS credential
// chain) becomes chunks beside its entry, parsed only when the code asks for them. serverless-esbuild builds each
// function on its own into one shared folder and puts in a function's zip every file of that folder except the
// other functions' entries and whatever is named after them (`reconcile.*` stays out of the sync zip). Chunks in a
// folder named after their entry (`functions/sync.chunks/`) therefore reach their own function's zip only.
const { basename, extname } = require('node:path');

/** @type {import('esbuild').Plugin} */
const chunksBesideTheirEntry = {
  name: 'chunks-beside-their-entry',
  setup(build) {
    const entries = Object.values(build.initialOptions.entryPoints ?? {});
    if (entries.length !== 1) throw new Error(`one entry per build expected, got ${entries.length}`);
    const entry = typeof entries[0] === 'string' ? entries[0] : entries[0].in;
    const name = basename(entry, extname(entry));
    build.initialOptions.chunkNames = `${name}.chunks/[name]-[hash]`;
  },
};

module.exports = [chunksBesideTheirEntry];
