/**
 * The server's side of `.meta/token`. The file is the truth clients read, so a server follows it:
 * a valid token put there while the server runs (a rotation, `trellis doctor --repair`) is adopted;
 * a file emptied, garbled, grown to megabytes or removed is written back with the server's own
 * token. Before this, an emptied token locked every client out of a live server for good (each new
 * server reused the empty token, so it never healed).
 *
 * The file is looked at when a request fails the token check, and at every packet touch. It is
 * read each time (at most 4 KiB, a few system calls): a stat cannot tell two writes within the
 * file system's timestamp granularity apart.
 */
import { createFileOnce } from '../util/files.js';
import { isToken, newToken, readTokenFile, type TokenRead, writeTokenOver } from '../util/token-file.js';

/** What the app asks of a token source: the token now, and a second look after a failed check. */
export interface TokenSource {
  current(): string;
  /** Looks at the file again; true when the token changed (the failed check is worth repeating). */
  refresh(): boolean;
}

export class TokenKeeper implements TokenSource {
  readonly #file: string;
  readonly #log: (line: string) => void;
  #token: string;
  /** the last problem logged: a flood of bad requests logs it once */
  #logged = '';

  private constructor(file: string, token: string, log: (line: string) => void) {
    this.#file = file;
    this.#token = token;
    this.#log = log;
  }

  /**
   * The token of `file`, created when missing and replaced when damaged (the server holding the
   * lease is the one that repairs it).
   */
  static open(file: string, log: (line: string) => void): TokenKeeper {
    const read = readTokenFile(file);
    let token: string;
    if (read.kind === 'ok') token = read.token;
    else if (read.kind === 'missing') {
      token = createFileOnce(file, newToken(), 0o640);
      // Another process raced us with a damaged file: ours is the one to use.
      if (!isToken(token)) token = replace(file, log, 'it was replaced meanwhile by something that is not a token');
    } else token = replace(file, log, read.why);
    return new TokenKeeper(file, token, log);
  }

  current(): string {
    return this.#token;
  }

  refresh(): boolean {
    let read: TokenRead;
    try {
      read = readTokenFile(this.#file);
    } catch (err) {
      this.#note(`cannot read ${this.#file}: ${(err as Error).message}; keeping the token it held`);
      return false;
    }
    if (read.kind === 'ok') {
      this.#logged = '';
      if (read.token === this.#token) return false;
      this.#token = read.token;
      this.#log(`${this.#file} holds a new token: using it`);
      return true;
    }
    const why = read.kind === 'missing' ? 'it was removed' : read.why;
    try {
      writeTokenOver(this.#file, this.#token);
      this.#log(`${this.#file} was damaged (${why}): wrote this server's token back`);
    } catch (err) {
      this.#note(`${this.#file} is damaged (${why}) and cannot be rewritten: ${(err as Error).message}`);
    }
    return false;
  }

  #note(line: string): void {
    if (line === this.#logged) return;
    this.#logged = line;
    this.#log(line);
  }
}

function replace(file: string, log: (line: string) => void, why: string): string {
  const token = newToken();
  writeTokenOver(file, token);
  log(`${file} was damaged (${why}): replaced it with a new token`);
  return token;
}
