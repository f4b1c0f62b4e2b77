// What a terminal would do with text printed to it, so that tests can require that hostile text is only shown.

/** The characters of `text` that a terminal acts on instead of showing (the line break aside), as code points. */
export const raw = (text: string): number[] =>
  [...text]
    .map((c) => c.codePointAt(0) as number)
    .filter(
      (n) =>
        (n < 0x20 && n !== 0x0a) ||
        (n >= 0x7f && n <= 0x9f) ||
        [0x061c, 0x200e, 0x200f, 0x2028, 0x2029].includes(n) ||
        (n >= 0x202a && n <= 0x202e) ||
        (n >= 0x2066 && n <= 0x2069),
    );
