// The Event object kube-zk-sync writes on a Service: what kubectl describe and kubectl get events read of it.
import { describe, expect, test } from 'vitest';
import {
  eventName,
  eventObject,
  MANAGED_BY,
  microTime,
  REPORTING_CONTROLLER,
} from '../../lib/kube/service-events.ts';
import type { OutcomeEvent } from '../../lib/registry/outcome.ts';

const spec: OutcomeEvent = {
  service: 'shop/typo',
  reason: 'Invalid',
  type: 'Warning',
  action: 'Refuse',
  note: 'invalid: annotation kube-zk-sync.io/register is "yes"',
  seriesKey: '0123456789abcdef',
};

describe('eventObject', () => {
  test('an events.k8s.io/v1 Event on the Service, with its uid, labelled as kube-zk-sync writes everything', () => {
    const object = eventObject(
      spec,
      { namespace: 'shop', name: 'typo', uid: 'u-1' },
      'sync@prod',
      Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    );
    expect(object).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'typo.0123456789abcdef', namespace: 'shop', labels: MANAGED_BY },
      eventTime: '2026-01-02T03:04:05.006000Z',
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: 'sync@prod',
      action: 'Refuse',
      reason: 'Invalid',
      type: 'Warning',
      note: spec.note,
      regarding: { apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'typo', uid: 'u-1' },
    });
  });

  test('names fit a DNS subdomain whatever the Service, and the instance the 128 characters allowed', () => {
    const name = eventName('a'.repeat(63), spec.seriesKey);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    const object = eventObject(spec, { namespace: 'shop', name: 'typo' }, `sync@${'c'.repeat(200)}`, 0);
    expect(object.reportingInstance).toHaveLength(128);
    expect(object.regarding).not.toHaveProperty('uid');
  });

  test('microTime has the microseconds MicroTime needs', () => {
    expect(microTime(0)).toBe('1970-01-01T00:00:00.000000Z');
  });
});
