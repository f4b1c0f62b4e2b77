// The Services that ask "why is my Service not in the registry?", shared by the tests of `status` and of the Events:
// one with an invalid annotation, one that asks for a name a person registered by hand.
import type { ServiceInput } from '../../lib/local/apiserver/index.ts';
import { registryCli } from './cli.ts';

const loadBalancer = (namespace: string, name: string, ip: string, annotations: Record<string, string>) =>
  ({
    namespace,
    name,
    type: 'LoadBalancer',
    ports: [{ port: 80 }],
    ingress: [{ ip }],
    annotations,
  }) satisfies ServiceInput;

/** Its register annotation is neither "true" nor "false": invalid. */
export const typoService = (namespace: string) =>
  loadBalancer(namespace, 'typo', '203.0.113.11', { 'kube-zk-sync.io/register': 'yes please' });

/** It asks for `db.<namespace>`, which `registerTakenName` gives a hand-made entry: a conflict. */
export const takenNameService = (namespace: string) =>
  loadBalancer(namespace, 'db', '203.0.113.12', { 'kube-zk-sync.io/name': `db.${namespace}` });

/** A person registers `db.<namespace>` by hand in the document at `path` of ZooKeeper `zk`. */
export async function registerTakenName(zk: string, path: string, namespace: string): Promise<void> {
  const hand = await registryCli(zk)(
    path,
    'registry',
    'register',
    '--name',
    `db.${namespace}`,
    '--endpoint',
    'db:5432',
  );
  if (hand.code !== 0) throw new Error(`registering db.${namespace} by hand failed: ${hand.stderr}`);
}
