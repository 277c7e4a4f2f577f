/** Quoting for the command lines Trellis itself writes for a shell (batch scripts, ssh). */

/** One word for a POSIX shell: as is when plainly safe, else in single quotes. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
