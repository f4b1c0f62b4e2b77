// The optional scope (a namespace, a label selector) only limits what is watched: the events for what is in scope
// are the same, and a Service that leaves the scope is reported gone.
import { afterEach, describe, expect, test } from 'vitest';
import { startChurn } from '../../lib/local/apiserver/index.ts';
import { eventually } from '../support/cli.ts';
import { expectConverged, Rig } from './rig.ts';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe('scope', () => {
  test('--namespace: only that namespace is listed and watched', async () => {
    rig = await Rig.start({ services: 200, seed: 51 });
    const forwarder = rig.forwarder({ namespace: 'payments' });
    await eventually('the first list', () => forwarder.ready);
    const churn = startChurn(rig.sim, { changesPerSecond: 100, durationSeconds: 1.5, seed: 51 });
    await churn.done;
    const inScope = (key: string) => key.startsWith('payments/');
    await expectConverged(rig.consumer, rig.sim, 10_000, inScope);
    expect(Object.keys(rig.consumer.state()).length).toBeGreaterThan(10);
    const urls = rig.sim.stats().recent.filter((r) => r.kind === 'list' || r.kind === 'watch');
    expect(urls.every((r) => r.url.startsWith('/api/v1/namespaces/payments/services?'))).toBe(true);
  });

  test('--label-selector: only matching Services; one that stops matching is reported deleted', async () => {
    rig = await Rig.start({ services: 200, seed: 52 });
    const forwarder = rig.forwarder({ labelSelector: 'env=prod' });
    await eventually('the first list', () => forwarder.ready);
    const prod = rig.sim.listServices().filter((s) => s.metadata.labels?.env === 'prod');
    const [leaving] = prod;
    if (!leaving) throw new Error('no prod Service');
    const inScope = (key: string) => {
      const [namespace, name] = key.split('/') as [string, string];
      return rig?.sim.getService(namespace, name)?.metadata.labels?.env === 'prod';
    };
    await expectConverged(rig.consumer, rig.sim, 10_000, inScope);
    const leavingKey = `${leaving.metadata.namespace}/${leaving.metadata.name}`;
    expect(rig.consumer.state()[leavingKey]).toBeDefined();
    rig.sim.updateService(leaving.metadata.namespace, leaving.metadata.name, (s) => {
      s.metadata.labels = { ...s.metadata.labels, env: 'staging' };
    });
    await expectConverged(rig.consumer, rig.sim, 10_000, inScope);
    expect(rig.consumer.state()[leavingKey]).toBeUndefined();
  });
});
