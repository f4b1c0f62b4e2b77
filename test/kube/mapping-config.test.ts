import { describe, expect, test } from 'vitest';
import {
  defaultMappingConfig,
  MappingConfigError,
  nameMatches,
  namespaceMatches,
  parseMappingConfig,
  templatePlaceholders,
} from '../../lib/kube/mapping-config.ts';

describe('parseMappingConfig', () => {
  test('an empty environment gives the defaults: LoadBalancers in every namespace, no selector', () => {
    expect(parseMappingConfig({})).toStrictEqual(defaultMappingConfig);
    expect(defaultMappingConfig.serviceTypes).toStrictEqual(['LoadBalancer']);
  });

  test('blank variables keep their defaults', () => {
    expect(parseMappingConfig({ SERVICE_TYPES: ' ', NAME_TEMPLATE: '', LABEL_SELECTOR: '' })).toStrictEqual(
      defaultMappingConfig,
    );
  });

  test('values are trimmed, as every setting is', () => {
    const config = parseMappingConfig({
      NAME_TEMPLATE: '  {name}.{namespace}.{cluster}\n',
      DEFAULT_REGISTER: ' false ',
    });
    expect(config.nameTemplate).toBe('{name}.{namespace}.{cluster}');
    expect(config.defaultRegister).toBe(false);
  });

  test('reads every setting', () => {
    const config = parseMappingConfig({
      SERVICE_TYPES: 'loadbalancer, NodePort,LoadBalancer',
      NAMESPACES_ALLOW: 'shop,team-*',
      NAMESPACES_DENY: 'kube-system, kube-public,,',
      LABEL_SELECTOR: 'app in (web,api),!canary',
      DEFAULT_REGISTER: 'FALSE',
      NAME_TEMPLATE: '{cluster}-{name}.{namespace}',
      DESCRIPTION_TEMPLATE: '{namespace}/{name} on {cluster}',
      NAME_OVERRIDE_NAMESPACES: 'platform, infra-*',
      RESERVED_NAMES: 'kafka,solr,*.db',
      SHARED_NAMES: 'web.shop,*.global',
      ALLOW_EXTERNAL_IPS: 'TRUE',
      EXTERNAL_IPS_NAMESPACES: 'legacy',
    });
    expect(config).toStrictEqual({
      serviceTypes: ['LoadBalancer', 'NodePort'],
      namespacesAllow: ['shop', 'team-*'],
      namespacesDeny: ['kube-system', 'kube-public'],
      labelSelector: {
        text: 'app in (web,api),!canary',
        requirements: [
          { key: 'app', op: 'in', values: ['web', 'api'] },
          { key: 'canary', op: 'absent' },
        ],
      },
      defaultRegister: false,
      nameTemplate: '{cluster}-{name}.{namespace}',
      descriptionTemplate: '{namespace}/{name} on {cluster}',
      nameOverrideNamespaces: ['platform', 'infra-*'],
      reservedNames: ['kafka', 'solr', '*.db'],
      sharedNames: ['web.shop', '*.global'],
      allowExternalIPs: true,
      externalIPsNamespaces: ['legacy'],
    });
  });

  test.each([
    [
      'SERVICE_TYPES',
      'LoadBalancer,Ingress',
      'SERVICE_TYPES="LoadBalancer,Ingress": "Ingress" is not one of',
    ],
    ['SERVICE_TYPES', 'ExternalName', '"ExternalName" is not one of LoadBalancer, NodePort, ClusterIP'],
    ['NAMESPACES_ALLOW', 'shop,Shop', 'NAMESPACES_ALLOW="shop,Shop": "Shop" is not a namespace name'],
    [
      'NAMESPACES_DENY',
      'kube_system',
      'NAMESPACES_DENY="kube_system": "kube_system" is not a namespace name',
    ],
    ['LABEL_SELECTOR', 'app in (web', 'LABEL_SELECTOR="app in (web": unbalanced parentheses'],
    ['DEFAULT_REGISTER', 'yes', 'DEFAULT_REGISTER="yes": use "true" or "false"'],
    ['NAME_TEMPLATE', '{name}.{ns}', 'NAME_TEMPLATE="{name}.{ns}": unknown placeholder {ns}'],
    ['DESCRIPTION_TEMPLATE', 'svc {name', 'DESCRIPTION_TEMPLATE="svc {name": it has an unmatched "{" or "}"'],
    [
      'NAME_TEMPLATE',
      '{name}',
      'NAME_TEMPLATE="{name}": without {namespace}, any tenant could publish any name by naming a Service so',
    ],
    [
      'NAME_OVERRIDE_NAMESPACES',
      'Platform',
      'NAME_OVERRIDE_NAMESPACES="Platform": "Platform" is not a namespace',
    ],
    ['RESERVED_NAMES', 'kafka,kafka!', 'RESERVED_NAMES="kafka,kafka!": "kafka!" is not a registry name'],
    ['RESERVED_NAMES', '.db', '".db" is not a registry name'],
    ['ALLOW_EXTERNAL_IPS', 'yes', 'ALLOW_EXTERNAL_IPS="yes": use "true" or "false"'],
    [
      'ALLOW_EXTERNAL_IPS',
      'true',
      'EXTERNAL_IPS_NAMESPACES is not set: ALLOW_EXTERNAL_IPS is true: list the namespaces',
    ],
    [
      'EXTERNAL_IPS_NAMESPACES',
      'legacy',
      'EXTERNAL_IPS_NAMESPACES="legacy": spec.externalIPs are ignored unless ALLOW_EXTERNAL_IPS is "true" too',
    ],
  ])('%s=%s is refused with a message naming the setting and the value', (name, value, message) => {
    expect(() => parseMappingConfig({ [name]: value })).toThrow(MappingConfigError);
    expect(() => parseMappingConfig({ [name]: value })).toThrow(message);
  });

  test('a template without {namespace} is for a registry where every namespace is trusted with any name', () => {
    expect(() =>
      parseMappingConfig({ NAME_TEMPLATE: '{name}', NAME_OVERRIDE_NAMESPACES: 'platform' }),
    ).toThrow('NAME_OVERRIDE_NAMESPACES=*');
    expect(
      parseMappingConfig({ NAME_TEMPLATE: '{cluster}-{name}', NAME_OVERRIDE_NAMESPACES: 'platform,*' })
        .nameTemplate,
    ).toBe('{cluster}-{name}');
  });

  test('every bad setting is reported at once', () => {
    let error: unknown;
    try {
      parseMappingConfig({ DEFAULT_REGISTER: 'maybe', SERVICE_TYPES: 'Foo' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MappingConfigError);
    expect((error as Error).message).toContain('DEFAULT_REGISTER="maybe"');
    expect((error as Error).message).toContain('SERVICE_TYPES="Foo"');
  });
});

describe('namespace globs', () => {
  test.each([
    ['*', 'anything', true],
    ['shop', 'shop', true],
    ['shop', 'shop-2', false],
    ['team-*', 'team-a', true],
    ['team-*', 'team-', true],
    ['team-*', 'ateam-a', false],
    ['*-prod', 'shop-prod', true],
    ['a*c', 'abbc', true],
    ['a*c', 'abcd', false],
  ])('%s matches %s: %s', (glob, namespace, expected) => {
    expect(namespaceMatches(glob, namespace)).toBe(expected);
  });
});

describe('reserved name patterns', () => {
  test.each([
    ['kafka', 'kafka', true],
    ['kafka', 'Kafka', true],
    ['KAFKA', 'kafka', true],
    ['kafka', 'kafka.shop', false],
    ['kafka', 'my-kafka', false],
    ['*.db', 'orders.db', true],
    ['*.db', 'Orders.DB', true],
    ['*.db', 'db', false],
    ['*.db', 'ordersdb', false],
    ['kafka*', 'kafka-2', true],
    ['*', 'anything.at.all', true],
  ])('%s matches %s: %s', (pattern, name, expected) => {
    expect(nameMatches(pattern, name)).toBe(expected);
  });
});

describe('templates', () => {
  test('reports the placeholders in use', () => {
    expect(templatePlaceholders('{name}.{namespace}.{name}')).toStrictEqual({ used: ['name', 'namespace'] });
    expect(templatePlaceholders('static')).toStrictEqual({ used: [] });
  });
});
