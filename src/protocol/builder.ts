/**
 * A tiny byte builder for the few messages the proxy writes itself. Each message is built into its own buffer
 * (no shared module-level writer), sized exactly before it is allocated.
 */
export type Part = { kind: 'int32'; value: number } | { kind: 'int16'; value: number } | { kind: 'byte'; value: number }
  | { kind: 'cstring'; value: string } | { kind: 'bytes'; value: Buffer };

export const int32 = (value: number): Part => ({ kind: 'int32', value });
export const int16 = (value: number): Part => ({ kind: 'int16', value });
export const byte = (value: number): Part => ({ kind: 'byte', value });
export const cstring = (value: string): Part => ({ kind: 'cstring', value });
export const bytes = (value: Buffer): Part => ({ kind: 'bytes', value });

function sizeOf(part: Part): number {
  switch (part.kind) {
    case 'int32': return 4;
    case 'int16': return 2;
    case 'byte': return 1;
    case 'cstring': return Buffer.byteLength(part.value, 'utf8') + 1;
    case 'bytes': return part.value.length;
    default: throw new Error(`unknown part ${String((part as { kind: unknown }).kind)}`);
  }
}

function writeParts(out: Buffer, offset: number, parts: readonly Part[]): void {
  let at = offset;
  for (const part of parts) {
    switch (part.kind) {
      case 'int32': at = out.writeInt32BE(part.value, at); break;
      case 'int16': at = out.writeInt16BE(part.value, at); break;
      case 'byte': at = out.writeUInt8(part.value, at); break;
      case 'cstring': at += out.write(part.value, at, 'utf8'); at = out.writeUInt8(0, at); break;
      case 'bytes': at += part.value.copy(out, at); break;
      default: throw new Error(`unknown part ${String((part as { kind: unknown }).kind)}`);
    }
  }
}

/** A typed message: type byte, then int32 length (which counts itself but not the type byte), then the body. */
export function message(type: number, parts: readonly Part[]): Buffer {
  const bodyLength = parts.reduce((n, p) => n + sizeOf(p), 0);
  const out = Buffer.allocUnsafe(1 + 4 + bodyLength);
  out.writeUInt8(type, 0);
  out.writeInt32BE(4 + bodyLength, 1);
  writeParts(out, 5, parts);
  return out;
}

/** An untyped startup-phase frame: int32 length (counting itself), then the body. */
export function untypedMessage(parts: readonly Part[]): Buffer {
  const bodyLength = parts.reduce((n, p) => n + sizeOf(p), 0);
  const out = Buffer.allocUnsafe(4 + bodyLength);
  out.writeInt32BE(4 + bodyLength, 0);
  writeParts(out, 4, parts);
  return out;
}
