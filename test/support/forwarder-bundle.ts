// Runs the forwarder's bundle as its container would: plain Node, no node_modules, only the pod's environment, and a
// local EventBridge endpoint standing in for AWS.
import { type ChildProcess, spawn } from 'node:child_process';

export interface BundleProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

export function spawnForwarderBundle(
  bundle: string,
  options: {
    readonly kubeconfig: string;
    readonly clusterId: string;
    readonly eventBridge: {
      endpoint: string;
      region: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
    };
    readonly cwd: string;
    readonly args?: readonly string[];
  },
): BundleProcess {
  const { eventBridge } = options;
  const child = spawn(
    process.execPath,
    [bundle, '--kubeconfig', options.kubeconfig, '--port', '0', ...(options.args ?? [])],
    {
      cwd: options.cwd,
      // Only what the pod would have: no NODE_PATH, no inherited npm environment.
      env: {
        PATH: process.env.PATH ?? '',
        CLUSTER_ID: options.clusterId,
        EVENT_BUS_NAME: 'services',
        AWS_REGION: eventBridge.region,
        EVENTBRIDGE_ENDPOINT: eventBridge.endpoint,
        AWS_ACCESS_KEY_ID: eventBridge.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: eventBridge.credentials.secretAccessKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, stdout: () => stdout, stderr: () => stderr };
}
