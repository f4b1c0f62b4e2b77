import { describe, expect, test } from 'vitest';
import {
  LabelSelectorError,
  matchesLabelSelector,
  parseLabelSelector,
} from '../../lib/kube/label-selector.ts';

const labels = { app: 'web', tier: 'front', 'example.com/team': 'shop' };

describe('label selectors', () => {
  test.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app = web', true],
    ['app=api', false],
    ['app!=api', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (api,web)', true],
    ['app in (api, db)', false],
    ['app notin (api)', true],
    ['app notin (web,api)', false],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['example.com/team=shop', true],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['app in (web,api),!canary,example.com/team', true],
  ])('"%s" on app=web,tier=front,example.com/team=shop → %s', (selector, expected) => {
    expect(matchesLabelSelector(parseLabelSelector(selector), labels)).toBe(expected);
  });

  test('a Service without labels matches only requirements that allow absence', () => {
    expect(matchesLabelSelector(parseLabelSelector('a!=b,!c,d notin (e)'), undefined)).toBe(true);
    expect(matchesLabelSelector(parseLabelSelector('a'), undefined)).toBe(false);
  });

  test('an empty value is a value: a= matches only a label set to the empty string', () => {
    expect(matchesLabelSelector(parseLabelSelector('a='), { a: '' })).toBe(true);
    expect(matchesLabelSelector(parseLabelSelector('a='), {})).toBe(false);
  });

  test.each([
    ['app=web,', /empty requirement/],
    ['app in (web', /unbalanced/],
    ['app in ()', /at least one value/],
    ['app in ((x))', /unbalanced/],
    ['app>1', /cannot parse "app>1"/],
    ['app=we b', /cannot parse/],
    ['-app=web', /"-app" is not a valid label key/],
    ['app=-web', /"-web" is not a valid label value/],
    ['Bad_Prefix/app=web', /not a valid label key/],
  ])('refuses "%s"', (selector, message) => {
    expect(() => parseLabelSelector(selector)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(selector)).toThrow(message);
  });
});
