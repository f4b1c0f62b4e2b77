// The OpenAPI documents' shapes, read back the way clients read them: the v3 index and group-version documents as
// JSON (client-go openapi3), the v2 document by decoding the protobuf with the field numbers of gnostic's
// openapi_v2.Document (OpenAPIv2.proto), independently of the encoder.
import { describe, expect, test } from 'vitest';
import {
  definitionName,
  openApiV2Document,
  openApiV2Protobuf,
  openApiV3Document,
  openApiV3Index,
} from '../../../lib/local/apiserver/openapi.ts';
import { RESOURCES } from '../../../lib/local/apiserver/resources.ts';

type Decoded = Map<number, Array<number | Uint8Array>>;

/** Decodes one protobuf message into field number → raw values (varints as numbers, the rest as bytes). */
function decode(bytes: Uint8Array): Decoded {
  const fields: Decoded = new Map();
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 1;
    for (;;) {
      const b = bytes[i++] as number;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  };
  while (i < bytes.length) {
    const key = varint();
    const wire = key & 7;
    const field = Math.floor(key / 8);
    let value: number | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = varint();
      value = bytes.subarray(i, i + length);
      i += length;
    } else throw new Error(`unexpected wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const text = (v: number | Uint8Array | undefined) => new TextDecoder().decode(v as Uint8Array);
const message = (v: number | Uint8Array | undefined) => decode(v as Uint8Array);
const all = (m: Decoded, field: number) => m.get(field) ?? [];

describe('OpenAPI v2 protobuf (gnostic openapi_v2.Document)', () => {
  const doc = decode(openApiV2Protobuf());
  const definitions = new Map(
    all(message(doc.get(9)?.[0]), 1).map((named) => {
      const m = message(named);
      return [text(m.get(1)?.[0]), message(m.get(2)?.[0])] as const;
    }),
  );

  test('swagger 2.0, info, a definition per kind carrying its group-version-kind', () => {
    expect(text(doc.get(1)?.[0])).toBe('2.0');
    expect(text(message(doc.get(2)?.[0]).get(1)?.[0])).toBe('Kubernetes');
    expect([...definitions.keys()].sort()).toEqual(RESOURCES.map(definitionName).sort());
    const service = definitions.get('io.k8s.api.core.v1.Service') as Decoded;
    const extension = message(all(service, 31)[0]);
    expect(text(extension.get(1)?.[0])).toBe('x-kubernetes-group-version-kind');
    expect(JSON.parse(text(message(extension.get(2)?.[0]).get(2)?.[0]))).toEqual([
      { group: '', version: 'v1', kind: 'Service' },
    ]);
  });

  test('Service spec.ports: an array of objects with merge key port and list-map keys port, protocol', () => {
    const property = (schema: Decoded, name: string): Decoded => {
      const named = all(message(schema.get(25)?.[0]), 1).map(message);
      return message(named.find((n) => text(n.get(1)?.[0]) === name)?.get(2)?.[0]);
    };
    const ports = property(
      property(definitions.get('io.k8s.api.core.v1.Service') as Decoded, 'spec'),
      'ports',
    );
    expect(text(message(ports.get(22)?.[0]).get(1)?.[0])).toBe('array');
    const extensions = Object.fromEntries(
      all(ports, 31).map((e) => {
        const m = message(e);
        return [text(m.get(1)?.[0]), JSON.parse(text(message(m.get(2)?.[0]).get(2)?.[0]))];
      }),
    );
    expect(extensions).toEqual({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['port', 'protocol'],
      'x-kubernetes-patch-merge-key': 'port',
      'x-kubernetes-patch-strategy': 'merge',
    });
    const item = message(message(ports.get(23)?.[0]).get(1)?.[0]);
    expect(text(property(item, 'targetPort').get(2)?.[0])).toBe('int-or-string');
  });

  test('each PATCH operation lists the fieldValidation query parameter under its group-version-kind', () => {
    const paths = all(message(doc.get(8)?.[0]), 2).map(message);
    const named = paths.find(
      (p) => text(p.get(1)?.[0]) === '/api/v1/namespaces/{namespace}/services/{name}',
    ) as Decoded;
    const patch = message(message(named.get(2)?.[0]).get(8)?.[0]);
    const queryNames = all(patch, 8).map((p) => {
      const query = message(message(message(message(p).get(1)?.[0]).get(2)?.[0]).get(3)?.[0]);
      return `${text(query.get(2)?.[0])}:${text(query.get(4)?.[0])}`;
    });
    expect(queryNames).toContain('query:fieldValidation');
    expect(Object.keys(openApiV2Document().paths as object).length).toBeGreaterThanOrEqual(RESOURCES.length);
  });
});

describe('OpenAPI v3', () => {
  test('the index names a document per group-version, with a hash that changes with the document', () => {
    const { paths } = openApiV3Index();
    expect(Object.keys(paths).sort()).toEqual([
      'api/v1',
      'apis/coordination.k8s.io/v1',
      'apis/discovery.k8s.io/v1',
      'apis/events.k8s.io/v1',
    ]);
    expect(paths['api/v1']?.serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    expect(openApiV3Document('apis/example.com/v1')).toBeUndefined();
  });

  test('every PATCH operation of a kind accepts strategic merge patch and lists fieldValidation, as kubectl checks', () => {
    for (const path of Object.keys(openApiV3Index().paths)) {
      const doc = openApiV3Document(path) as { paths: Record<string, { patch?: Record<string, unknown> }> };
      const patches = Object.values(doc.paths).flatMap((item) => (item.patch ? [item.patch] : []));
      expect(patches.length).toBeGreaterThan(0);
      for (const patch of patches) {
        expect(patch['x-kubernetes-group-version-kind']).toBeDefined();
        expect(
          (patch.parameters as Array<{ name: string; in: string }>).some(
            (p) => p.name === 'fieldValidation' && p.in === 'query',
          ),
        ).toBe(true);
        expect(Object.keys((patch.requestBody as { content: object }).content)).toContain(
          'application/strategic-merge-patch+json',
        );
      }
    }
  });

  test('the kind schemas carry their group-version-kind and the patch extensions', () => {
    const doc = openApiV3Document('apis/coordination.k8s.io/v1') as {
      components: { schemas: Record<string, Record<string, unknown>> };
    };
    const lease = doc.components.schemas['io.k8s.api.coordination.v1.Lease'] as Record<string, unknown>;
    expect(lease['x-kubernetes-group-version-kind']).toEqual([
      { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
    ]);
    const metadata = (lease.properties as Record<string, Record<string, unknown>>).metadata as Record<
      string,
      unknown
    >;
    expect((metadata.properties as Record<string, unknown>).ownerReferences).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      'x-kubernetes-patch-merge-key': 'uid',
      'x-kubernetes-patch-strategy': 'merge',
    });
  });
});
