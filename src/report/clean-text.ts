/**
 * Making arbitrary text (test names, comments, step output) safe for XML and for line-based
 * formats. Step output is hostile: colour codes, other control characters, lone surrogates from
 * bad decoding. One raw ESC makes a JUnit file unreadable to Jenkins (and to xmllint).
 */

// ANSI escape sequences: CSI (`ESC [ … final`, colours and cursor moves), OSC (`ESC ] … BEL` or
// `ESC ] … ESC \`, window titles and links), and the two-character ones (`ESC c`, `ESC =`, …).
// An OSC never runs past its line, so a stray `ESC ]` cannot swallow the rest of a log.
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
/** Cheap first check: any C0 control but tab, newline and CR, any surrogate, U+FFFE or U+FFFF. */
const SUSPECT = /[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;
/** Characters XML 1.0 cannot hold at all, with lone surrogates (the `u` flag sees pairs whole). */
const NOT_XML = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/**
 * Removes ANSI escape sequences and replaces every character XML 1.0 cannot hold (other C0
 * controls, lone surrogates, U+FFFE, U+FFFF) with U+FFFD. Tabs, newlines and CRs stay.
 */
export function cleanText(text: string): string {
  if (!SUSPECT.test(text)) return text;
  return text.replace(ANSI, '').replace(NOT_XML, '\ufffd');
}

/** cleanText, then every run of line breaks and tabs as one space: for names and one-line messages. */
export function cleanLine(text: string): string {
  return cleanText(text).replace(/[\r\n\t]+/g, ' ');
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };
const ATTR_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '\n': '&#10;', '\t': '&#9;' };

/**
 * Text content for XML: cleaned, then escaped (no CDATA, so `]]>` in the output needs no care).
 * CR is written as a reference so parsers do not turn it into a newline.
 */
export function xmlText(text: string): string {
  return cleanText(text).replace(/[&<>"'\r]/g, (c) => TEXT_ESCAPES[c]!);
}

/** An attribute value for XML: as xmlText, and newlines and tabs kept as references. */
export function xmlAttr(text: string): string {
  return cleanText(text).replace(/[&<>"'\r\n\t]/g, (c) => ATTR_ESCAPES[c]!);
}
