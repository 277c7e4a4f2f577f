/**
 * Turns names from configs, targets and items into safe folder names. Encoding instead of
 * replacing keeps distinct names distinct: `a b` and `a_b` never share a folder.
 */
import { createHash } from 'node:crypto';

const SAFE = /^[A-Za-z0-9_,+=@-]$/;
const MAX_COMPONENT_BYTES = 200;

/**
 * Encodes one path component: letters, digits and `_,+=@-` stay; `.` stays except at the start;
 * everything else (separators, spaces, control and non-ASCII characters) becomes `%XX` of its
 * UTF-8 bytes. The result is never empty, `.` or `..`, and never holds a `/`.
 */
export function encodePathComponent(name: string): string {
  if (name === '') return '%';
  let out = '';
  let first = true;
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && (SAFE.test(ch) || (ch === '.' && !first))) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    first = false;
  }
  if (Buffer.byteLength(out) > MAX_COMPONENT_BYTES) {
    const digest = createHash('sha1').update(name).digest('hex').slice(0, 12);
    out = `${out.slice(0, MAX_COMPONENT_BYTES - 13)}~${digest}`;
  }
  return out;
}

/** Encodes each part and joins them with `/`: the only separators are the ones we put there. */
export function encodePath(parts: readonly string[]): string {
  return parts.map(encodePathComponent).join('/');
}
