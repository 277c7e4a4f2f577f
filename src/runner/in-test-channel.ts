/**
 * The in-test channel (design §6: in-test helpers must not cost a Node start per call). A test's
 * `trellis step|test-status|set-value` and `$MT_MEGATEST …` are small POSIX shell scripts
 * (bin/in-test-client.sh) that write one request file into `.trellis-channel/` in the test's work
 * folder and wait for its answer there; the job's own runner (or `trellis exec`, on the step's
 * host) follows that folder while the job runs, carries the request out and answers.
 *
 * Files, per request id (the client's pid and process start time, never reused):
 *   ID.req    the request: written by the client, read once it ends with its `end` line
 *   ID.out, ID.err   what to print, written before the answer
 *   ID.ack    the answer, `CODE HAS_OUT HAS_ERR`, written whole (temp file, rename)
 *   ID.done   the client has read the answer: the follower removes the request's files
 * and, for the folder: `owner` (host and pid of the follower, so a client can tell it died) and
 * `closed` (the job's steps have ended: nobody answers any more).
 *
 * The follower is on the host whose processes write the files, so it sees them without help from
 * the filesystem: it is woken by fs.watch where that works, and polls the folder in any case
 * (2 ms after a request, backing off to 100 ms when nothing comes), which also works on NFS and
 * sshfs. A request whose answer exists is never carried out again; one found again without an
 * answer (the follower restarted) is carried out with the same op ids, which the store applies once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/files.js';
import type { InTestAnswer } from './in-test-service.js';

/** The channel folder of a work folder. */
export function channelDir(workDir: string): string {
  return path.join(workDir, '.trellis-channel');
}

/** A request as the client wrote it. */
export interface ChannelRequest {
  id: string;
  front: 'trellis' | 'megatest';
  argv: string[];
  /** standard input, when the client passed it on (`-load-test-data`) */
  stdin: string | undefined;
  /** the caller's current folder */
  cwd: string;
}

/** Carries out one request. */
export type ChannelHandler = (request: ChannelRequest) => Promise<InTestAnswer>;

const ID = /^[0-9]{1,10}-[0-9]{1,20}$/;
const MIN_POLL_MS = 2;
const MAX_POLL_MS = 100;

/** Follows one job's channel folder from open() to close(). */
export class ChannelFollower {
  readonly dir: string;
  readonly #handler: ChannelHandler;
  readonly #owner: string;
  /** ids seen: being carried out, or answered */
  readonly #taken = new Set<string>();
  #queue: Promise<void> = Promise.resolve();
  #watcher: fs.FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pollMs = MIN_POLL_MS;
  #closed = false;
  #scanning = false;
  #rescan = false;

  constructor(workDir: string, handler: ChannelHandler, owner: { host: string; pid: number }) {
    this.dir = channelDir(workDir);
    this.#handler = handler;
    this.#owner = `${owner.host} ${owner.pid}\n`;
  }

  /** Makes the folder afresh (what an earlier run of the job left is not this run's) and starts following it. */
  open(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(path.join(this.dir, 'owner'), this.#owner, 0o644);
    try {
      this.#watcher = fs.watch(this.dir, () => this.#wake());
      this.#watcher.on('error', () => this.#stopWatching());
    } catch {
      // No notifications here (some network filesystems): polling alone follows the folder.
    }
    this.#schedule();
  }

  /**
   * Answers what is in the folder, then closes it: a client that writes afterwards reads `closed`
   * and says so. Resolves once every request taken has its answer.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#scan();
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#stopWatching();
    await this.#queue;
    try {
      fs.writeFileSync(path.join(this.dir, 'closed'), '');
    } catch {
      // The work folder went away: nobody is left to tell.
    }
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #wake(): void {
    if (this.#closed) return;
    this.#pollMs = MIN_POLL_MS;
    void this.#scan();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.#scan().finally(() => {
        this.#pollMs = Math.min(MAX_POLL_MS, this.#pollMs * 2);
        this.#schedule();
      });
    }, this.#pollMs);
    this.#timer.unref();
  }

  /** One look at the folder: new complete requests go to the queue, answered ones are cleared away. */
  async #scan(): Promise<void> {
    if (this.#scanning) {
      this.#rescan = true;
      return;
    }
    this.#scanning = true;
    try {
      do {
        this.#rescan = false;
        let names: string[];
        try {
          names = fs.readdirSync(this.dir);
        } catch {
          return;
        }
        const files = new Set(names);
        for (const name of names) {
          const dot = name.lastIndexOf('.');
          const id = name.slice(0, dot);
          const ext = name.slice(dot + 1);
          if (!ID.test(id)) continue;
          if (ext === 'done') this.#forget(id);
          else if (ext === 'req' && !this.#taken.has(id) && !files.has(`${id}.ack`)) this.#take(id);
        }
      } while (this.#rescan);
    } finally {
      this.#scanning = false;
    }
  }

  #take(id: string): void {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.join(this.dir, `${id}.req`));
    } catch {
      return;
    }
    const request = parseRequest(id, bytes);
    // Not whole yet: the client is still writing it; the next look takes it.
    if (request === undefined) return;
    this.#taken.add(id);
    this.#pollMs = MIN_POLL_MS;
    this.#queue = this.#queue.then(async () => {
      const answer = await this.#handler(request).catch(
        (err: Error): InTestAnswer => ({ code: 70, stdout: '', stderr: `trellis: internal error: ${err.message}\n` }),
      );
      this.#answer(id, answer);
    });
  }

  #answer(id: string, a: InTestAnswer): void {
    const file = (ext: string) => path.join(this.dir, `${id}.${ext}`);
    try {
      if (a.stdout !== '') fs.writeFileSync(file('out'), a.stdout);
      if (a.stderr !== '') fs.writeFileSync(file('err'), a.stderr);
      writeFileAtomic(file('ack'), `${a.code} ${a.stdout === '' ? 0 : 1} ${a.stderr === '' ? 0 : 1}\n`, 0o644);
    } catch {
      // The work folder went away with its test: nobody is waiting.
    }
  }

  #forget(id: string): void {
    for (const ext of ['req', 'out', 'err', 'ack', 'done']) fs.rmSync(path.join(this.dir, `${id}.${ext}`), { force: true });
    this.#taken.delete(id);
  }
}

/**
 * Reads a request file: `trellis-request 1`, the front (`trellis` or `megatest`), the caller's folder
 * as `LENGTH\nBYTES\n`, the argument count, each argument as `LENGTH\nBYTES\n`, `0` or `1` and the
 * standard input the same way, then `end`. Lengths are in bytes. Undefined until the file is whole.
 */
export function parseRequest(id: string, bytes: Buffer): ChannelRequest | undefined {
  let pos = 0;
  const line = (): string | undefined => {
    const nl = bytes.indexOf(10, pos);
    if (nl === -1) return undefined;
    const text = bytes.toString('utf8', pos, nl);
    pos = nl + 1;
    return text;
  };
  const chunk = (): string | undefined => {
    const len = line();
    if (len === undefined || !/^[0-9]{1,9}$/.test(len)) return undefined;
    const end = pos + Number(len);
    if (end >= bytes.length || bytes[end] !== 10) return undefined;
    const text = bytes.toString('utf8', pos, end);
    pos = end + 1;
    return text;
  };
  if (line() !== 'trellis-request 1') return undefined;
  const front = line();
  if (front !== 'trellis' && front !== 'megatest') return undefined;
  const cwd = chunk();
  const count = line();
  if (cwd === undefined || count === undefined || !/^[0-9]{1,5}$/.test(count)) return undefined;
  const argv: string[] = [];
  for (let i = 0; i < Number(count); i++) {
    const arg = chunk();
    if (arg === undefined) return undefined;
    argv.push(arg);
  }
  const hasStdin = line();
  let stdin: string | undefined;
  if (hasStdin === '1') {
    stdin = chunk();
    if (stdin === undefined) return undefined;
  } else if (hasStdin !== '0') return undefined;
  if (line() !== 'end' || pos !== bytes.length) return undefined;
  return { id, front, argv, stdin, cwd };
}
