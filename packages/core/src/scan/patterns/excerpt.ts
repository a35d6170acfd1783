/** A short printable excerpt of matched bytes: ASCII as is, everything else escaped. */
export function excerpt(bytes: Uint8Array, maxChars = 80): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const piece =
      b === 0x5c ? '\\\\' : b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : b === 0x0a ? '\\n' : b === 0x0d ? '\\r' : b === 0x09 ? '\\t' : `\\x${b.toString(16).padStart(2, '0')}`;
    if (out.length + piece.length > maxChars - 1 && i < bytes.length - 1) return `${out}…`;
    out += piece;
  }
  return out;
}
