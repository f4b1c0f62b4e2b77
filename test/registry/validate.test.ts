// Control characters are refused wherever an entry is made (the mapping, the CLI), and the refusal shows them as
// escapes rather than replaying them.
import { describe, expect, test } from 'vitest';
import { controlCharacterProblem, escapeControlCharacters } from '../../lib/registry/printable.ts';
import { entryProblems, InvalidEntryError, validEntry } from '../../lib/registry/validate.ts';

const entry = { name: 'kafka', description: 'Kafka brokers', endpoints: ['k1.internal:9092'] };

describe('control characters in an entry', () => {
  test.each([
    ['NUL', '\u0000'],
    ['a tab', '\t'],
    ['a line feed', '\n'],
    ['a carriage return', '\r'],
    ['ESC', '\u001b'],
    ['DEL', '\u007f'],
    ['the 8-bit CSI (C1)', '\u009b'],
    ['NEL (C1)', '\u0085'],
    ['the line separator', '\u2028'],
    ['the paragraph separator', '\u2029'],
    ['a right-to-left override', '\u202e'],
    ['a left-to-right embedding', '\u202a'],
    ['a first-strong isolate', '\u2068'],
    ['the right-to-left mark', '\u200f'],
    ['the Arabic letter mark', '\u061c'],
  ])('%s is refused in the description, the name and an endpoint', (_, char) => {
    const code = `U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
    for (const bad of [
      { ...entry, description: `Kafka${char}brokers` },
      { ...entry, name: `kafka${char}` },
      { ...entry, endpoints: [`k1.internal${char}:9092`] },
    ]) {
      const problems = entryProblems(bad);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(`contains control characters (${code})`);
      expect(escapeControlCharacters(problems[0] as string)).toBe(problems[0]);
    }
  });

  test('text that only looks unusual is fine: accents, CJK, emoji, a zero-width joiner', () => {
    expect(entryProblems({ ...entry, description: 'Kafka — brökers 日本 👩‍💻' })).toEqual([]);
  });

  test('the error of a refused entry names it escaped', () => {
    expect(() => validEntry({ ...entry, name: 'k\u001b[2J', description: 'x\u009b' })).toThrow(
      InvalidEntryError,
    );
    try {
      validEntry({ ...entry, name: 'k\u001b[2J' });
    } catch (error) {
      expect((error as Error).message).toBe(
        'entry "k\\u001b[2J" is invalid: the name "k\\u001b[2J" contains control characters (U+001B); ' +
          'terminal escapes, line breaks and bidi controls are not allowed',
      );
    }
  });

  test('a long description is quoted in part', () => {
    const problem = controlCharacterProblem('the description', `${'a'.repeat(200)}\u001b`);
    expect(problem).toMatch(/^the description "a{80}…" contains control characters \(U\+001B\)/);
  });
});

describe('escapeControlCharacters', () => {
  test('writes each as a \\u escape, which JSON reads back as the same character', () => {
    const text = 'a\u001b[31mb\u009bc\u202ed\ne\u2028';
    const escaped = escapeControlCharacters(text);
    expect(escaped).toBe('a\\u001b[31mb\\u009bc\\u202ed\\u000ae\\u2028');
    expect(JSON.parse(`"${escaped}"`)).toBe(text);
  });

  test('keeps the characters asked for', () => {
    expect(escapeControlCharacters('a\nb\u001b', '\n')).toBe('a\nb\\u001b');
  });
});
