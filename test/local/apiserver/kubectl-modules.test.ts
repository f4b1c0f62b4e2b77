// Real kubectl (the one on the PATH, and Debian's 1.20 when it is also here) against a throwaway HTTP server that
// routes to the pure modules the apiserver simulator plugs in: discovery from the catalog, the OpenAPI documents,
// Tables, and applyPatch for every PATCH kubectl sends. What is checked is what each kubectl command gets from the
// modules: columns, validation, explain, and the object each kind of patch leaves.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  openApiV2Protobuf,
  openApiV3Document,
  openApiV3Index,
} from '../../../lib/local/apiserver/openapi.ts';
import { applyPatch, type JsonObject, recordWrite } from '../../../lib/local/apiserver/patch/index.ts';
import {
  apiVersionOf,
  findResource,
  RESOURCES,
  type ResourceKind,
} from '../../../lib/local/apiserver/resources.ts';
import { StatusError } from '../../../lib/local/apiserver/status-error.ts';
import { includeObjectParam, negotiate, toTable } from '../../../lib/local/apiserver/tables.ts';
import { type Kubectl, kubectlBin, kubectlFor, kubectlMinor } from '../../support/kubectl.ts';

const KUBECTL_120 = '/tmp/k120/x/usr/bin/kubectl';
const services = findResource('', 'v1', 'services') as ResourceKind;

/** The requests kubectl made, for checking query parameters it chose from the OpenAPI documents. */
const requests: string[] = [];
const store = new Map<string, JsonObject>();
let revision = 1;

function send(res: ServerResponse, code: number, body: unknown, type = 'application/json'): void {
  const payload = body instanceof Uint8Array ? body : JSON.stringify(body);
  res.writeHead(code, { 'content-type': type });
  res.end(payload);
}

function fail(res: ServerResponse, error: unknown, name?: string): void {
  if (!(error instanceof StatusError)) throw error;
  send(res, error.code, error.toStatus({ ...(name ? { name } : {}), kind: 'services' }));
}

function notFound(res: ServerResponse, name?: string): void {
  send(res, 404, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: name ? `services "${name}" not found` : 'the server could not find the requested resource',
    reason: 'NotFound',
    ...(name ? { details: { name, kind: 'services' } } : {}),
    code: 404,
  });
}

function discovery(path: string): unknown {
  if (path === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' };
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  const groups = [...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => `${r.group}/${r.version}`))];
  if (path === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: groups.map((gv) => {
        const [name, version] = gv.split('/') as [string, string];
        const v = { groupVersion: gv, version };
        return { name, versions: [v], preferredVersion: v };
      }),
    };
  }
  const gv = path === '/api/v1' ? 'v1' : path.replace(/^\/apis\//, '');
  const resources = RESOURCES.filter((r) => apiVersionOf(r) === gv);
  if (resources.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: resources.map((r) => ({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      shortNames: r.shortNames,
      ...(r.categories ? { categories: r.categories } : {}),
    })),
  };
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  requests.push(`${req.method} ${url.pathname}${url.search}`);
  if (path === '/openapi/v2') return send(res, 200, openApiV2Protobuf(), 'application/octet-stream');
  if (path === '/openapi/v3') return send(res, 200, openApiV3Index());
  if (path.startsWith('/openapi/v3/')) {
    const doc = openApiV3Document(path.slice('/openapi/v3/'.length));
    return doc ? send(res, 200, doc) : notFound(res);
  }
  const found = discovery(path);
  if (found) return send(res, 200, found);
  const match = /^\/api\/v1(?:\/namespaces\/([^/]+))?\/services(?:\/([^/]+))?$/.exec(path);
  if (!match) return notFound(res);
  const [, namespace, name] = match;
  const key = `${namespace}/${name}`;
  try {
    if (req.method === 'GET' && !name) {
      const items = [...store.values()].filter(
        (s) => !namespace || (s.metadata as JsonObject).namespace === namespace,
      );
      const wanted = negotiate(req.headers.accept);
      if (wanted.as === 'Table') {
        const include = includeObjectParam(url.searchParams.get('includeObject'));
        return send(
          res,
          200,
          toTable(services, items, {
            includeObject: include,
            version: wanted.version,
            resourceVersion: String(revision),
          }),
        );
      }
      return send(res, 200, {
        kind: 'ServiceList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(revision) },
        items,
      });
    }
    const live = store.get(key);
    if (req.method === 'GET') {
      if (!live) return notFound(res, name);
      return send(res, 200, live);
    }
    const text = await body(req);
    const manager = url.searchParams.get('fieldManager') ?? 'kubectl';
    let next: JsonObject;
    if (req.method === 'POST') {
      const created = JSON.parse(text) as JsonObject;
      (created.metadata as JsonObject).namespace = namespace ?? 'default';
      (created.metadata as JsonObject).creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      next = recordWrite(services, undefined, created, { manager });
    } else if (req.method === 'PATCH') {
      if (!live && req.headers['content-type'] !== 'application/apply-patch+yaml') {
        return notFound(res, name);
      }
      next = applyPatch(services, live, text, req.headers['content-type'], {
        manager,
        force: url.searchParams.get('force') === 'true',
      });
      if (!live) (next.metadata as JsonObject).namespace = namespace ?? 'default';
    } else return send(res, 405, {});
    (next.metadata as JsonObject).resourceVersion = String(++revision);
    store.set(`${(next.metadata as JsonObject).namespace}/${(next.metadata as JsonObject).name}`, next);
    return send(res, live ? 200 : 201, next);
  } catch (error) {
    return fail(res, error, name);
  }
}

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  store.clear();
  requests.length = 0;
});

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
const service = () => store.get('default/shop') as JsonObject;
const ports = () =>
  ((service().spec as JsonObject).ports as JsonObject[]).map((p) => `${p.port}->${p.targetPort}`);

// The kubectl on the PATH (1.32 here; Debian's 1.20 on a fresh CI machine), and Debian's 1.20 when it is also here.
const binaries = [...new Set([kubectlBin(), ...(existsSync(KUBECTL_120) ? [KUBECTL_120] : [])])];

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
        const post = requests.find((r) => r.startsWith('POST')) ?? '';
        if (serverValidates) expect(post).toContain('fieldValidation=Strict');
        else expect(post).not.toContain('fieldValidation');
        const annotations = (service().metadata as JsonObject).annotations as JsonObject;
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
        expect(requests.filter((r) => r.startsWith('PATCH'))).toHaveLength(1);
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
        expect(header?.split(/\s{2,}/)).toEqual([
          'NAME',
          'TYPE',
          'CLUSTER-IP',
          'EXTERNAL-IP',
          'PORT(S)',
          'AGE',
          'SELECTOR',
        ]);
        expect(row?.split(/\s+/)).toEqual([
          'shop',
          'LoadBalancer',
          '<none>',
          '<pending>',
          '80/TCP,443/TCP',
          expect.stringMatching(/^\d+s$/),
          'app=shop',
        ]);
        expect((await k.ok('get', 'svc')).split('\n')[0]).not.toContain('SELECTOR');
      });
    });

    test('annotate (merge patch), patch --type=json and edit (strategic merge patch) change what they name', async () => {
      await withThis(async (k) => {
        await k.ok('apply', '-f', await put(k, 'svc.yaml', MANIFEST));
        await k.ok('annotate', 'svc', 'shop', 'kube-zk-sync.io/name=my-shop');
        expect(((service().metadata as JsonObject).annotations as JsonObject)['kube-zk-sync.io/name']).toBe(
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
        expect((service().spec as JsonObject).type).toBe('ClusterIP');
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
        expect((service().spec as JsonObject).type).toBe('ClusterIP');
        const editor = await put(
          k,
          'editor.sh',
          `#!/bin/sh\nsed -i 's/targetPort: 8443/targetPort: 7443/' "$1"\n`,
        );
        const edited = await k.run(['edit', 'svc', 'shop'], { env: { EDITOR: `sh ${editor}` } });
        expect(edited.stderr).toBe('');
        expect(ports()).toEqual(['80->8080', '443->7443']);
        expect(requests.filter((r) => r.startsWith('PATCH')).at(-1)).toContain('fieldManager=kubectl-edit');
      });
    });

    test('apply --server-side records managedFields; another manager with a different value conflicts until --force-conflicts', async () => {
      await withThis(async (k) => {
        const file = await put(k, 'svc.yaml', MANIFEST);
        await k.ok('apply', '--server-side', '-f', file);
        expect((service().metadata as JsonObject).managedFields).toMatchObject([
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
        expect(out).toContain('The list of ports that are exposed by this service.');
        expect(out).toMatch(/targetPort\s+<(?:IntOrString|string)>/);
        if (serverValidates) expect(requests.some((r) => r.startsWith('GET /openapi/v3/api/v1'))).toBe(true);
        else expect(requests.some((r) => r.startsWith('GET /openapi/v2'))).toBe(true);
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
      const managers = ((service().metadata as JsonObject).managedFields as JsonObject[]).map((m) => [
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
