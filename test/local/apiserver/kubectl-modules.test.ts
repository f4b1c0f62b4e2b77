import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ApiServerSimulator, type KubeObject } from '../../../lib/local/apiserver/index.ts';
import { eventually } from '../../support/cli.ts';
import {
  type Kubectl,
  kubectlBin,
  kubectlBinaries,
  kubectlFor,
  kubectlMinor,
} from '../../support/kubectl.ts';

// A new cluster for each test. The cloud controller is not what is tested here: a LoadBalancer stays <pending>.
let sim: ApiServerSimulator;
let url: string;

beforeEach(async () => {
  sim = new ApiServerSimulator({ lbDelayMs: 3_600_000 });
  url = await sim.start();
});

afterEach(() => sim.stop());

/** The requests kubectl made, `METHOD /path?query`, for the parameters it chose from the OpenAPI documents. */
const requests = () => sim.stats().recent.map((r) => `${r.method} ${r.url}`);

const MANIFEST = `apiVersion: v1
kind: Service
metadata:
  name: shop
  namespace: default
  labels:
    app: shop
spec:
  type: LoadBalancer
  selector:
    app: shop
  ports:
  - name: http
    port: 80
    targetPort: 8080
  - name: https
    port: 443
    targetPort: 8443
`;

/** The columns of `kubectl get svc` (`-o wide` adds SELECTOR). */
const SERVICE_COLUMNS = ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'];

/** Runs `body` with kubectl for this server, removing its folder after. */
async function withKubectl(run: (k: Kubectl) => Promise<void>, bin: string): Promise<void> {
  const k = await kubectlFor(url, { bin });
  try {
    await run(k);
  } finally {
    await k.close();
  }
}

const put = (k: Kubectl, name: string, text: string) =>
  writeFile(join(k.dir, name), text).then(() => join(k.dir, name));
type Json = Record<string, unknown>;
const service = () =>
  sim.get({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'shop' }) as KubeObject & Json;
const ports = () => ((service().spec as Json).ports as Json[]).map((p) => `${p.port}->${p.targetPort}`);

// The kubectl on the PATH, and each one KUBECTL_ALSO lists (an older client, to check both ends of the versions in use).
const binaries = kubectlBinaries();

describe.each(binaries.map((bin) => ({ bin, minor: kubectlMinor(bin) })))(
  'kubectl 1.$minor',
  ({ bin, minor }) => {
    /** 1.27+ finds fieldValidation on the PATCH operation in OpenAPI v3 and lets the server validate. */
    const serverValidates = minor >= 27;
    const withThis = (run: (k: Kubectl) => Promise<void>) => withKubectl(run, bin);

    test('apply creates, then a changed manifest is one three-way strategic merge patch', async () => {
      await withThis(async (k) => {
        const file = await put(k, 'svc.yaml', MANIFEST);
        await k.ok('apply', '-f', file);
        const post = requests().find((r) => r.startsWith('POST')) ?? '';
        if (serverValidates) expect(post).toContain('fieldValidation=Strict');
        else expect(post).not.toContain('fieldValidation');
        const annotations = (service().metadata as unknown as Json).annotations as Json;
        expect(annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain(
          '"targetPort":8443',
        );

        await put(
          k,
          'svc.yaml',
          MANIFEST.replace('    targetPort: 8080\n', '    targetPort: 9090\n').replace(
            / {2}- name: https\n.*\n.*\n$/,
            '',
          ),
        );
        const out = await k.ok('apply', '-f', file);
        expect(out).toContain('service/shop configured');
        expect(requests().filter((r) => r.startsWith('PATCH'))).toHaveLength(1);
        expect(ports()).toEqual(['80->9090']);
      });
    });

    test('apply validates: 1.27+ leaves it to the server (fieldValidation=Strict), older ones check the v2 definitions', async () => {
      await withThis(async (k) => {
        const bad = await k.run([
          'apply',
          '--dry-run=client',
          '-f',
          await put(k, 'bad.yaml', MANIFEST.replace('  selector:', '  selectr:')),
        ]);
        if (serverValidates) {
          expect(bad.stdout).toContain('service/shop created (dry run)');
        } else {
          expect(bad.code).not.toBe(0);
          expect(bad.stderr).toContain('unknown field "selectr"');
        }
        const good = await k.run(['apply', '--dry-run=client', '-f', await put(k, 'good.yaml', MANIFEST)]);
        expect(good.stderr).toBe('');
        expect(good.stdout).toContain('service/shop created (dry run)');
      });
    });

    test('get svc shows the printer columns, -o wide the selector; a LoadBalancer without address is <pending>', async () => {
      await withThis(async (k) => {
        await k.ok('apply', '-f', await put(k, 'svc.yaml', MANIFEST));
        const out = await k.ok('get', 'svc', '-o', 'wide');
        const [header, row] = out.trim().split('\n');
        expect(header?.split(/\s{2,}/)).toEqual([...SERVICE_COLUMNS, 'SELECTOR']);
        expect(row?.split(/\s+/)).toEqual([
          'shop',
          'LoadBalancer',
          expect.stringMatching(/^10\.\d+\.\d+\.\d+$/),
          '<pending>',
          expect.stringMatching(/^80:3\d{4}\/TCP,443:3\d{4}\/TCP$/),
          expect.stringMatching(/^\d+s$/),
          'app=shop',
        ]);
        expect((await k.ok('get', 'svc')).split('\n')[0]).not.toContain('SELECTOR');
      });
    });

    test('get -w (Table watch events): the row of a new LoadBalancer says <pending>, then the address it gets', async () => {
      await withThis(async (k) => {
        const hostname = 'shop-0123456789abcdef.elb.us-east-1.amazonaws.com';
        const watching = k.start(['get', 'svc', '-w']);
        try {
          await eventually('kubectl get -w to watch', () => sim.stats().openWatches > 0);
          await k.ok('apply', '-f', await put(k, 'svc.yaml', MANIFEST));
          await eventually('the pending row', () => watching.stdout().includes('<pending>'));
          // What the cloud controller does when the load balancer is ready: a status write.
          const current = service();
          sim.replace(
            { ...current, status: { loadBalancer: { ingress: [{ hostname }] } } },
            { subresource: 'status' },
          );
          await eventually('the row with the address', () => watching.stdout().includes(hostname));
        } finally {
          await watching.stop();
        }
        const [header, pending, ready] = watching.stdout().trim().split('\n');
        expect(header?.split(/\s{2,}/)).toEqual(SERVICE_COLUMNS);
        expect(pending?.split(/\s+/).slice(0, 4)).toEqual([
          'shop',
          'LoadBalancer',
          expect.any(String),
          '<pending>',
        ]);
        // The server fills cells as for -o wide: the hostname whole, as `kubectl get svc` shows it.
        expect(ready?.split(/\s+/).slice(0, 4)).toEqual([
          'shop',
          'LoadBalancer',
          expect.any(String),
          hostname,
        ]);
      });
    });

    test('annotate (merge patch), patch --type=json and edit (strategic merge patch) change what they name', async () => {
      await withThis(async (k) => {
        await k.ok('apply', '-f', await put(k, 'svc.yaml', MANIFEST));
        await k.ok('annotate', 'svc', 'shop', 'kube-zk-sync.io/name=my-shop');
        expect(((service().metadata as unknown as Json).annotations as Json)['kube-zk-sync.io/name']).toBe(
          'my-shop',
        );
        await k.ok(
          'patch',
          'svc',
          'shop',
          '--type=json',
          '-p',
          '[{"op":"replace","path":"/spec/type","value":"ClusterIP"}]',
        );
        expect((service().spec as Json).type).toBe('ClusterIP');
        const failed = await k.run([
          'patch',
          'svc',
          'shop',
          '--type=json',
          '-p',
          '[{"op":"test","path":"/spec/type","value":"NodePort"}]',
        ]);
        expect(failed.code).not.toBe(0);
        expect(failed.stderr).toContain('The request is invalid');
        expect((service().spec as Json).type).toBe('ClusterIP');
        const editor = await put(
          k,
          'editor.sh',
          `#!/bin/sh\nsed -i 's/targetPort: 8443/targetPort: 7443/' "$1"\n`,
        );
        const edited = await k.run(['edit', 'svc', 'shop'], { env: { EDITOR: `sh ${editor}` } });
        expect(edited.stderr).toBe('');
        expect(ports()).toEqual(['80->8080', '443->7443']);
        expect(
          requests()
            .filter((r) => r.startsWith('PATCH'))
            .at(-1),
        ).toContain('fieldManager=kubectl-edit');
      });
    });

    test('apply --server-side records managedFields; another manager with a different value conflicts until --force-conflicts', async () => {
      await withThis(async (k) => {
        const file = await put(k, 'svc.yaml', MANIFEST);
        await k.ok('apply', '--server-side', '-f', file);
        expect((service().metadata as unknown as Json).managedFields).toMatchObject([
          { manager: 'kubectl', operation: 'Apply' },
        ]);
        await put(k, 'svc.yaml', MANIFEST.replace('targetPort: 8080', 'targetPort: 9090'));
        const conflict = await k.run(['apply', '--server-side', '--field-manager=ops', '-f', file]);
        expect(conflict.code).not.toBe(0);
        expect(conflict.stderr).toContain(
          'conflict with "kubectl": .spec.ports[port=80,protocol="TCP"].targetPort',
        );
        await k.ok('apply', '--server-side', '--field-manager=ops', '--force-conflicts', '-f', file);
        expect(ports()).toEqual(['80->9090', '443->8443']);
      });
    });

    test('explain reads the descriptions (OpenAPI v3 from 1.27, the v2 protobuf before)', async () => {
      await withThis(async (k) => {
        const out = await k.ok('explain', 'service.spec.ports');
        expect(out).toContain('Ports the Service serves, one entry per port and protocol.');
        expect(out).toMatch(/targetPort\s+<(?:IntOrString|string)>/);
        if (serverValidates)
          expect(requests().some((r) => r.startsWith('GET /openapi/v3/api/v1'))).toBe(true);
        else expect(requests().some((r) => r.startsWith('GET /openapi/v2'))).toBe(true);
      });
    });
  },
);

describe('@kubernetes/client-node server-side apply, as controllers use it', () => {
  test('without force a field kubectl set is a 409 naming it; with force the controller takes it over', async () => {
    await withKubectl(async (k) => {
      await k.ok('apply', '-f', await put(k, 'svc.yaml', MANIFEST));
      const config = new KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: 'local', server: url, skipTLSVerify: true }],
        users: [{ name: 'local' }],
        contexts: [{ name: 'local', cluster: 'local', user: 'local' }],
        currentContext: 'local',
      });
      const client = KubernetesObjectApi.makeApiClient(config);
      const applied = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'shop', namespace: 'default', annotations: { 'kube-zk-sync.io/mirrored': 'true' } },
        spec: { ports: [{ port: 80, protocol: 'TCP', targetPort: 9999 }] },
      };
      const refused = await client
        .patch(applied, undefined, undefined, 'kube-zk-sync', false, PatchStrategy.ServerSideApply)
        .then(
          () => undefined,
          (error: unknown) => error as { code?: number; body?: string },
        );
      expect(refused?.code).toBe(409);
      expect(String(refused?.body)).toContain('.spec.ports[port=80,protocol=\\"TCP\\"].targetPort');

      await client.patch(applied, undefined, undefined, 'kube-zk-sync', true, PatchStrategy.ServerSideApply);
      expect(ports()).toEqual(['80->9999', '443->8443']);
      const managers = ((service().metadata as unknown as Json).managedFields as Json[]).map((m) => [
        m.manager,
        m.operation,
      ]);
      expect(managers).toEqual([
        ['kube-zk-sync', 'Apply'],
        ['kubectl-client-side-apply', 'Update'],
      ]);
    }, kubectlBin());
  });
});
