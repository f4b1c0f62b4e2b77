// A minimal protocol buffers writer (proto3 wire format): enough to encode a document whose .proto is known, field
// number by field number. Only what the OpenAPI v2 document needs: strings, booleans, nested and repeated messages.

export type ProtoValue = string | boolean | number | ProtoMessage | undefined;
/** A message: [field number, value] pairs, in order; a repeated field is the same number several times. */
export type ProtoMessage = ReadonlyArray<readonly [number, ProtoValue]>;

function varint(value: number, out: number[]): void {
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

const WIRE_VARINT = 0;
const WIRE_LENGTH = 2;
const utf8 = new TextEncoder();

function writeMessage(message: ProtoMessage, out: number[]): void {
  for (const [field, value] of message) {
    if (value === undefined) continue;
    if (typeof value === 'boolean' || typeof value === 'number') {
      varint((field << 3) | WIRE_VARINT, out);
      varint(typeof value === 'boolean' ? Number(value) : value, out);
      continue;
    }
    const bytes = typeof value === 'string' ? utf8.encode(value) : encodeProto(value);
    varint((field << 3) | WIRE_LENGTH, out);
    varint(bytes.length, out);
    for (const b of bytes) out.push(b);
  }
}

export function encodeProto(message: ProtoMessage): Uint8Array {
  const out: number[] = [];
  writeMessage(message, out);
  return Uint8Array.from(out);
}
