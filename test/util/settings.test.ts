// The one reader of settings: trimmed values, blank as unset, typed readers with their ranges, and every problem in
// one error that names the setting, the value and what is expected.
import { describe, expect, test } from 'vitest';
import { type Env, Settings } from '../../lib/util/settings.ts';

class TestError extends Error {}

/** The value a reader returns, and the one error (or none) that `check` throws afterwards. */
function read<T>(env: Env, reader: (s: Settings) => T, options = {}): { value: T; error?: string } {
  const settings = new Settings(env, options);
  const value = reader(settings);
  try {
    settings.check((problems) => new TestError(problems));
    return { value };
  } catch (error) {
    expect(error).toBeInstanceOf(TestError);
    return { value, error: (error as Error).message };
  }
}

describe('text', () => {
  test.each([
    [{}, undefined],
    [{ V: '' }, undefined],
    [{ V: '   ' }, undefined],
    [{ V: '\t\n' }, undefined],
    [{ V: ' a b ' }, 'a b'],
    [{ V: 'x' }, 'x'],
  ])('%j reads as %j', (env, expected) => {
    expect(read(env, (s) => s.text('V'))).toEqual({ value: expected });
  });
});

describe('required', () => {
  test.each([
    [{ V: ' host:1 ' }, 'host:1', undefined],
    [{}, '', 'V is not set: set it to host:port'],
    [{ V: ' ' }, '', 'V is not set: set it to host:port'],
  ])('%j', (env, value, error) => {
    expect(read(env, (s) => s.required('V', 'set it to host:port'))).toEqual({
      value,
      ...(error ? { error } : {}),
    });
  });
});

describe('integer', () => {
  const range = { min: 1, max: 100 };
  test.each([
    [{}, 7, undefined],
    [{ N: '' }, 7, undefined],
    [{ N: ' 42 ' }, 42, undefined],
    [{ N: '1' }, 1, undefined],
    [{ N: '100' }, 100, undefined],
    [{ N: '0' }, 7, 'N="0": use a whole number from 1 to 100'],
    [{ N: '101' }, 7, 'N="101": use a whole number from 1 to 100'],
    [{ N: '-5' }, 7, 'N="-5": use a whole number from 1 to 100'],
    [{ N: '2.5' }, 7, 'N="2.5": use a whole number from 1 to 100'],
    [{ N: '1e2' }, 7, 'N="1e2": use a whole number from 1 to 100'],
    [{ N: '0x10' }, 7, 'N="0x10": use a whole number from 1 to 100'],
    [{ N: 'ten' }, 7, 'N="ten": use a whole number from 1 to 100'],
  ])('%j reads as %i', (env, value, error) => {
    expect(read(env, (s) => s.integer('N', 7, range))).toEqual({ value, ...(error ? { error } : {}) });
  });
});

describe('decimal', () => {
  const share = { min: 0, max: 1 };
  test.each([
    [{}, 0.5, undefined],
    [{ S: '0.25' }, 0.25, undefined],
    [{ S: '.75' }, 0.75, undefined],
    [{ S: '0' }, 0, undefined],
    [{ S: '1' }, 1, undefined],
    [{ S: '1.5' }, 0.5, 'S="1.5": use a number from 0 to 1'],
    [{ S: '-0.1' }, 0.5, 'S="-0.1": use a number from 0 to 1'],
    [{ S: '1.' }, 0.5, 'S="1.": use a number from 0 to 1'],
    [{ S: 'half' }, 0.5, 'S="half": use a number from 0 to 1'],
    [{ S: 'Infinity' }, 0.5, 'S="Infinity": use a number from 0 to 1'],
  ])('%j reads as %d', (env, value, error) => {
    expect(read(env, (s) => s.decimal('S', 0.5, share))).toEqual({ value, ...(error ? { error } : {}) });
  });

  test('says what is expected in its own words when asked to', () => {
    expect(read({ S: '2' }, (s) => s.decimal('S', 0.5, { ...share, expected: 'use a share' })).error).toBe(
      'S="2": use a share',
    );
  });
});

describe('boolean', () => {
  test.each([
    [{}, true, undefined],
    [{ B: 'false' }, false, undefined],
    [{ B: ' FALSE ' }, false, undefined],
    [{ B: 'True' }, true, undefined],
    [{ B: 'yes' }, true, 'B="yes": use "true" or "false"'],
    [{ B: '0' }, true, 'B="0": use "true" or "false"'],
  ])('%j reads as %s', (env, value, error) => {
    expect(read(env, (s) => s.boolean('B', true))).toEqual({ value, ...(error ? { error } : {}) });
  });
});

describe('oneOf', () => {
  const choices = ['sync', 'upsert-only', 'create-only'] as const;
  test.each([
    [{}, 'sync', undefined],
    [{ P: ' create-only ' }, 'create-only', undefined],
    [{ P: 'Sync' }, 'sync', 'P="Sync": use one of sync, upsert-only, create-only'],
    [{ P: 'mirror' }, 'sync', 'P="mirror": use one of sync, upsert-only, create-only'],
  ])('%j reads as %s', (env, value, error) => {
    expect(read(env, (s) => s.oneOf('P', choices, 'sync'))).toEqual({ value, ...(error ? { error } : {}) });
  });
});

describe('list', () => {
  test.each([
    [{}, undefined],
    [{ L: ' ' }, undefined],
    [{ L: 'a' }, ['a']],
    [{ L: ' a , b,,c , ' }, ['a', 'b', 'c']],
    [{ L: ',' }, []],
  ])('%j reads as %j', (env, expected) => {
    expect(read(env, (s) => s.list('L'))).toEqual({ value: expected });
  });
});

describe('problems', () => {
  test('are all reported at once, in the order found, in one error', () => {
    const { error } = read({ A: 'x', C: 'maybe' }, (s) => {
      s.integer('A', 1, { min: 1, max: 9 });
      s.required('B', 'set it');
      s.boolean('C', false);
    });
    expect(error).toBe(
      'A="x": use a whole number from 1 to 9; B is not set: set it; C="maybe": use "true" or "false"',
    );
  });

  test('bad() can show a shortened value instead of the one set', () => {
    const { error } = read({ CA: 'bm9wZQ==bm9wZQ==' }, (s) => s.bad('CA', 'not a certificate', 'bm9w…'));
    expect(error).toBe('CA="bm9w…": not a certificate');
  });

  test('no problem, no error', () => {
    expect(read({ A: '3' }, (s) => s.integer('A', 1, { min: 1, max: 9 }))).toEqual({ value: 3 });
  });
});

describe('overrides and labels', () => {
  const options = {
    overrides: { PORT: '9000', LEVEL: ' ' },
    label: (name: string) => `--${name.toLowerCase()} / ${name}`,
  };

  test('an override wins over the environment, and a blank one means unset', () => {
    expect(read({ PORT: '8080', LEVEL: 'debug' }, (s) => [s.text('PORT'), s.text('LEVEL')], options)).toEqual(
      {
        value: ['9000', undefined],
      },
    );
  });

  test('messages name the setting by its label', () => {
    expect(read({}, (s) => s.integer('PORT', 1, { min: 1, max: 100 }), options).error).toBe(
      '--port / PORT="9000": use a whole number from 1 to 100',
    );
    expect(read({}, (s) => s.required('LEVEL', 'set it'), options).error).toBe(
      '--level / LEVEL is not set: set it',
    );
  });
});
