import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type DesiredService, type DesiredSlice, desiredObjects } from '../../lib/mirror/desired.ts';
import {
  covers,
  type MirrorPlan,
  type ObservedNamespace,
  type ObservedObject,
  ownedBy,
  planMirror,
} from '../../lib/mirror/plan.ts';
import { handEntry, type RegistryDocument } from '../../lib/registry/document.ts';

const selection = { clusterId: 'prod', includeClusters: [], namespace: 'registry' };
const policy = { instance: 'prod', prune: true, maxDeleteShare: 0.5 };
const hand = (name: string, ...endpoints: string[]) => handEntry({ name, description: name, endpoints });
const doc = (...entries: RegistryDocument['entries'][number][]): RegistryDocument => ({ entries });
const empty: ObservedNamespace = { services: [], slices: [] };

let uids = 0;
/** What the API would list after the object was applied: the object plus fields the server adds. */
function asListed(object: DesiredService | DesiredSlice): ObservedObject {
  const uid = `uid-${++uids}`;
  const body =
    object.kind === 'Service'
      ? {
          ...object,
          metadata: { ...object.metadata, uid },
          spec: {
            ...object.spec,
            ...(object.spec.type === 'ClusterIP'
              ? {
                  clusterIP: '10.96.0.7',
                  ports: object.spec.ports.map((p) => ({ ...p, targetPort: p.port })),
                }
              : {}),
          },
        }
      : {
          ...object,
          metadata: { ...object.metadata, uid },
          endpoints: object.endpoints.map((e) => ({ ...e, conditions: { ready: true, serving: true } })),
        };
  return { kind: object.kind, name: object.metadata.name, uid, labels: object.metadata.labels, body };
}

/** The namespace after the plan's actions. */
function applied(observed: ObservedNamespace, plan: MirrorPlan): ObservedNamespace {
  const services = new Map(observed.services.map((o) => [o.name, o]));
  const slices = new Map(observed.slices.map((o) => [o.name, o]));
  for (const a of plan.actions) {
    const into = (a.kind === 'apply' ? a.object.kind : a.target.kind) === 'Service' ? services : slices;
    if (a.kind === 'apply') into.set(a.object.metadata.name, asListed(a.object));
    else into.delete(a.target.name);
  }
  return { services: [...services.values()], slices: [...slices.values()] };
}

const userService = (name: string): ObservedObject => ({
  kind: 'Service',
  name,
  uid: `user-${name}`,
  labels: { app: name },
  body: { metadata: { name, labels: { app: name } }, spec: { type: 'ClusterIP' } },
});

const summary = (plan: MirrorPlan) =>
  plan.actions.map((a) =>
    a.kind === 'apply'
      ? `${a.why} ${a.object.kind}/${a.object.metadata.name}`
      : `delete ${a.target.kind}/${a.target.name}`,
  );

describe('planMirror', () => {
  /** Three entries; kafka's endpoint is the one the tests change. */
  const withKafka = (endpoint: string) =>
    doc(hand('kafka', endpoint), hand('solr', 'solr.internal:8983'), hand('pg', '10.0.0.5:5432'));
  const three = withKafka('10.0.0.1:9092');
  const planFor = (d: RegistryDocument, observed = empty, p = policy) =>
    planMirror(desiredObjects(d, selection), observed, p);
  /** The namespace once the three entries are mirrored. */
  const mirroredThree = () => applied(empty, planFor(three));

  test('from scratch: every Service, then every slice', () => {
    const plan = planFor(three);
    expect(summary(plan)).toEqual([
      'create Service/kafka',
      'create Service/solr',
      'create Service/pg',
      'create EndpointSlice/kafka-ipv4',
      'create EndpointSlice/pg-ipv4',
    ]);
  });

  test('once applied, nothing to do (server-added fields are no change)', () => {
    const desired = desiredObjects(three, selection);
    const after = applied(empty, planMirror(desired, empty, policy));
    expect(planMirror(desired, after, policy).actions).toEqual([]);
  });

  test('a changed entry is one update of what changed', () => {
    const before = mirroredThree();
    expect(summary(planFor(withKafka('10.0.0.2:9092'), before))).toEqual(['update EndpointSlice/kafka-ipv4']);
  });

  test('an entry that gains IPv6 and loses IPv4: the new slice applied, the old one deleted', () => {
    const before = mirroredThree();
    expect(summary(planFor(withKafka('[2001:db8::1]:9092'), before))).toEqual([
      'update Service/kafka',
      'create EndpointSlice/kafka-ipv6',
      'delete EndpointSlice/kafka-ipv4',
    ]);
  });

  test('a deregistered entry: its slices, then its Service, with their uids', () => {
    const before = mirroredThree();
    const plan = planMirror(
      desiredObjects(doc(hand('kafka', '10.0.0.1:9092'), hand('solr', 'solr.internal:8983')), selection),
      before,
      policy,
    );
    expect(summary(plan)).toEqual(['delete EndpointSlice/pg-ipv4', 'delete Service/pg']);
    const pg = before.services.find((s) => s.name === 'pg');
    expect(plan.actions[1]).toMatchObject({ kind: 'delete', target: { uid: pg?.uid } });
  });

  test("a user's Service of the same name is a conflict: neither it nor slices for it are written", () => {
    const observed = { services: [userService('kafka')], slices: [] };
    const plan = planFor(three, observed);
    expect(plan.conflicts).toEqual([
      { entry: 'kafka', kind: 'Service', name: 'kafka', reason: expect.stringMatching(/without the labels/) },
    ]);
    expect(summary(plan)).not.toContain('create EndpointSlice/kafka-ipv4');
    expect(summary(plan).some((s) => s.includes('/kafka'))).toBe(false);
  });

  test("another mirror instance's Service is a conflict too, and never pruned", () => {
    const other = desiredObjects(three, { ...selection, clusterId: 'eu' });
    const observed = applied(empty, planMirror(other, empty, { ...policy, instance: 'eu' }));
    const plan = planFor(doc(hand('kafka', '10.0.0.1:9092')), observed);
    expect(plan.conflicts.map((c) => c.reason)).toEqual([
      expect.stringMatching(/another mirror instance \("eu"\)/),
    ]);
    expect(plan.actions).toEqual([]);
  });

  test('more than MAX_DELETE_SHARE of the Services: deletions held, the rest applied', () => {
    const before = mirroredThree();
    const plan = planFor(doc(hand('new', '10.9.9.9:1')), before);
    expect(plan.held).toMatch(
      /^refusing to delete 3 of the mirror's Services \(100%, more than the 50% allowed\)/,
    );
    expect(summary(plan)).toEqual(['create Service/new', 'create EndpointSlice/new-ipv4']);
  });

  test('--prune=false deletes no Service and no slice of one', () => {
    const before = mirroredThree();
    const plan = planMirror(desiredObjects(doc(hand('kafka', '10.0.0.1:9092')), selection), before, {
      ...policy,
      prune: false,
    });
    expect(plan.actions).toEqual([]);
    expect(plan.held).toBeUndefined();
  });
});

describe('covers', () => {
  test.each([
    [{ a: 1 }, { a: 1, b: 2 }, true],
    [{ a: [1, 2] }, { a: [1, 2, 3] }, false],
    [{ a: [{ x: 1 }] }, { a: [{ x: 1, y: 2 }] }, true],
    [{ a: { b: 'x' } }, { a: null }, false],
    [{ a: 'x' }, {}, false],
  ])('%j in %j: %s', (wanted, observed, result) => {
    expect(covers(wanted, observed)).toBe(result);
  });
});

describe('planMirror properties', () => {
  const ip = fc
    .tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }))
    .filter(([a]) => a !== 127 && a !== 169)
    .map(([a, b]) => `${a}.${b}.0.1`);
  const endpoint = fc.oneof(
    fc.tuple(ip, fc.integer({ min: 1, max: 4 })).map(([h, p]) => `${h}:${p}`),
    fc
      .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 3 }))
      .map(([h, p]) => `[2001:db8::${h}]:${p}`),
    fc.constantFrom('a.internal:1', 'b.internal:2'),
  );
  const name = fc.constantFrom('kafka', 'Kafka', 'a.b', 'a_b', 'a-b', 'pg', 'solr', 'x1', '9z');
  const entries = fc.uniqueArray(fc.tuple(name, fc.array(endpoint, { minLength: 1, maxLength: 4 })), {
    selector: ([n]) => n,
    maxLength: 6,
  });
  const document = entries.map((es) => doc(...es.map(([n, eps]) => hand(n, ...eps))));
  const users = fc.subarray(['kafka', 'pg', 'a-b', 'kafka-ipv4']);

  test('never touches what it does not own, converges in one step, prunes only what is owned and allowed', () => {
    fc.assert(
      fc.property(document, document, users, fc.boolean(), (first, second, taken, prune) => {
        const p = { ...policy, prune };
        const userObjects: ObservedNamespace = {
          services: taken.filter((n) => !n.includes('ipv4')).map(userService),
          slices: taken
            .filter((n) => n.includes('ipv4'))
            .map((n) => ({ ...userService(n), kind: 'EndpointSlice' as const })),
        };
        const start = applied(userObjects, planMirror(desiredObjects(first, selection), userObjects, p));
        const plan = planMirror(desiredObjects(second, selection), start, p);
        const all = [...start.services, ...start.slices];
        for (const a of plan.actions) {
          const name = a.kind === 'apply' ? a.object.metadata.name : a.target.name;
          const kind = a.kind === 'apply' ? a.object.kind : a.target.kind;
          const existing = all.find((o) => o.kind === kind && o.name === name);
          if (existing) expect(ownedBy(existing.labels, 'prod')).toBe(true);
          if (a.kind === 'delete' && a.target.kind === 'Service')
            expect(prune && plan.held === undefined).toBe(true);
        }
        const after = applied(start, plan);
        // User objects are all still there, unchanged.
        for (const u of [...userObjects.services, ...userObjects.slices]) {
          expect([...after.services, ...after.slices]).toContainEqual(u);
        }
        // A second plan against the result has nothing left to do, unless deletions were held or not pruned.
        const again = planMirror(desiredObjects(second, selection), after, p);
        expect(again.actions.filter((a) => a.kind === 'apply')).toEqual([]);
        if (prune && plan.held === undefined) expect(again.actions).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
