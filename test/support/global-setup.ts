// Starts the one ZooKeeper server that the test files share (each test uses its own znode paths), unless
// ZK_CONNECT points the suite at a running server. Tests that stop or kill servers start their own.
import type { TestProject } from 'vitest/node';
import { ZooKeeperCluster } from '../../lib/local/zookeeper.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    zkConnect: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.ZK_CONNECT;
  if (existing) {
    project.provide('zkConnect', existing);
    return async () => {};
  }
  const cluster = await ZooKeeperCluster.start();
  project.provide('zkConnect', cluster.connectString);
  return () => cluster.destroy();
}
