import { expect, test } from 'vitest';
import { InvalidEventError, parseServiceEventDetail } from '../../lib/events/contract.ts';

const detail = {
  v: 1,
  cluster: 'prod',
  key: 'shop/web',
  resourceVersion: '42',
  observedAt: '2026-11-25T10:15:30.123Z',
  reason: 'watch',
  service: {
    metadata: { name: 'web', namespace: 'shop', resourceVersion: '42' },
    spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
  },
};

test('a valid detail passes unchanged', () => {
  expect(parseServiceEventDetail(detail)).toEqual(detail);
});

test('the error names every wrong field and what is wrong with it', () => {
  const bad = { ...detail, cluster: '', service: { ...detail.service, spec: { ports: [{ port: 70000 }] } } };
  expect(() => parseServiceEventDetail(bad)).toThrow(InvalidEventError);
  expect(() => parseServiceEventDetail(bad)).toThrow(
    'invalid Kubernetes Service observed event: cluster: Too small: expected string to have >=1 characters; ' +
      'service.spec.ports.0.port: Too big: expected number to be <=65535',
  );
});

test('the detail must agree with itself', () => {
  expect(() => parseServiceEventDetail({ ...detail, reason: 'deleted' })).toThrow(
    '(detail): service must be null exactly when reason is deleted',
  );
  expect(() => parseServiceEventDetail({ ...detail, key: 'shop/other' })).toThrow(
    '(detail): key must match the service namespace/name',
  );
  expect(() => parseServiceEventDetail({ ...detail, resourceVersion: 42 })).toThrow(
    'resourceVersion: Invalid input: expected string, received number',
  );
});
