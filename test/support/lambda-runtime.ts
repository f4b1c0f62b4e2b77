// A stand-in for the nodejs22.x runtime, run as a fresh process that has only an unpacked function zip and the
// environment it is given. It imports each file in turn, as the runtime's Init phase imports the handler file, and
// records every file Node loads for it; given an event, it invokes the first file's `handler` once, as the runtime
// does, and records what that loads. Prints one JSON object (a `RuntimeReport`) and exits.
//   node test/support/lambda-runtime.ts [--event <JSON>] <file.mjs>...
import { randomUUID } from 'node:crypto';
import { registerHooks } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RuntimeReport } from './lambda-bundle.ts';

const args = process.argv.slice(2);
const event = args[0] === '--event' ? JSON.parse(args[1] as string) : undefined;
const files = event === undefined ? args : args.slice(2);

let loaded: string[] = [];
registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith('file:')) loaded.push(fileURLToPath(url));
    return nextLoad(url, context);
  },
});
/** The files Node loaded since the last call. */
const taken = (): string[] => {
  const files = loaded;
  loaded = [];
  return files;
};

const modules: RuntimeReport['modules'][number][] = [];
let first: Record<string, unknown> | undefined;
for (const file of files) {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  first ??= module;
  modules.push({ file, exports: Object.keys(module), loaded: taken() });
}
let invoked: RuntimeReport['invoked'];
if (event !== undefined) {
  const handler = first?.handler as (event: unknown, context: unknown) => Promise<unknown>;
  const deadline = Date.now() + 60_000;
  const context = {
    functionName: 'kube-zk-sync-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:kube-zk-sync-local',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/kube-zk-sync-local',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const result = await handler(event, context);
  invoked = { result, loaded: taken() };
}
// The handler keeps its ZooKeeper session for the next invocation, as a warm container does: leave on purpose.
const report: RuntimeReport = { modules, ...(invoked ? { invoked } : {}) };
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
