/**
 * The in-test channel (design §6: in-test helpers must not cost a Node start per call). A test's
 * `trellis step|test-status|set-value` and `$MT_MEGATEST …` are small POSIX shell scripts
 * (bin/in-test-client.sh) that write one request file into `$TRELLIS_CHANNEL` and wait for its
 * answer there. The folder is one per process that runs steps (a runner, `trellis exec`, an
 * agent) in the run area's `.meta/channels/`, made once with the process's first job: a job costs
 * the channel nothing but its key (`$TRELLIS_CHANNEL_JOB`), the first part of each request's id,
 * which tells whose request it is. A short test makes no file of the channel's at all.
 *
 * Files, per request id (`KEY.PID-START`: the job's key, the client's pid and process start time,
 * never reused):
 *   ID.req    the request: written by the client, read once it ends with its `end` line
 *   ID.out, ID.err   what to print, written before the answer
 *   ID.ack    the answer, `CODE HAS_OUT HAS_ERR`, written whole (temp file, rename)
 *   ID.done   the client has read the answer: the follower removes the request's files
 * and, for the folder: `owner` (host and pid of the follower, so a client can tell it died) and
 * `closed` (the process has ended its jobs: nobody answers any more). A request of a job whose
 * steps have ended is answered so (exit 5) by the follower itself.
 *
 * The follower is on the host whose processes write the files, so it sees them without help from
 * the filesystem: it is woken by fs.watch where that works, and polls the folder in any case
 * (2 ms after a request, backing off to 100 ms when nothing comes), which also works on NFS and
 * sshfs. A request whose answer exists is never carried out again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/files.js';
import type { InTestAnswer } from './in-test-service.js';

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

const ID = /^([0-9]{1,10})\.[0-9]{1,10}-[0-9]{1,20}$/;
const MIN_POLL_MS = 2;
const MAX_POLL_MS = 100;

/** What a job's late caller is told (its steps have ended). */
export function endedAnswer(front: ChannelRequest['front']): InTestAnswer {
  return {
    code: 5,
    stdout: '',
    stderr: `${front}: the test's steps have ended; trellis no longer answers (call it from a step while it runs)\n`,
  };
}

/** One job's part of the channel: its handler and its requests in the order they came. */
interface ChannelJob {
  handler: ChannelHandler;
  queue: Promise<void>;
}

/** Follows one process's channel folder from open() to close(), for each job attached to it. */
export class ChannelFollower {
  readonly dir: string;
  readonly #owner: string;
  readonly #jobs = new Map<string, ChannelJob>();
  #nextKey = 0;
  /** ids seen: being carried out, or answered */
  readonly #taken = new Set<string>();
  /** answers being written for requests of no job (ended ones) */
  #orphans: Promise<void> = Promise.resolve();
  #watcher: fs.FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pollMs = MAX_POLL_MS;
  #closed = false;
  #scanning = false;
  #rescan = false;

  constructor(dir: string, owner: { host: string; pid: number }) {
    this.dir = dir;
    this.#owner = `${owner.host} ${owner.pid}\n`;
  }

  /** Makes the folder afresh and starts following it. */
  open(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(path.join(this.dir, 'owner'), this.#owner, 0o644);
    try {
      this.#watcher = fs.watch(this.dir, () => this.#wake());
      this.#watcher.on('error', () => this.#stopWatching());
      this.#watcher.unref();
    } catch {
      // No notifications here (some network filesystems): polling alone follows the folder.
    }
    this.#schedule();
  }

  /** A job's requests go to `handler` from now on; returns the key its steps put in their ids. */
  attach(handler: ChannelHandler): string {
    const key = String(++this.#nextKey);
    this.#jobs.set(key, { handler, queue: Promise.resolve() });
    return key;
  }

  /**
   * The job's steps have ended: what it asked is answered, and a later call with its key is told
   * its steps have ended. Resolves once every request it made has its answer.
   */
  async detach(key: string): Promise<void> {
    await this.#scan();
    const job = this.#jobs.get(key);
    this.#jobs.delete(key);
    await job?.queue;
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
    await Promise.all([...this.#jobs.values()].map((j) => j.queue));
    this.#jobs.clear();
    await this.#orphans;
    try {
      fs.writeFileSync(path.join(this.dir, 'closed'), '');
    } catch {
      // The run area went away: nobody is left to tell.
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

  /** One look at the folder: new complete requests go to their job, answered ones are cleared away. */
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
          const key = ID.exec(id)?.[1];
          if (key === undefined) continue;
          if (ext === 'done') this.#forget(id);
          else if (ext === 'req' && !this.#taken.has(id) && !files.has(`${id}.ack`)) this.#take(key, id);
        }
      } while (this.#rescan);
    } finally {
      this.#scanning = false;
    }
  }

  #take(key: string, id: string): void {
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
    const job = this.#jobs.get(key);
    if (job === undefined) {
      this.#orphans = this.#orphans.then(() => this.#answer(id, endedAnswer(request.front)));
      return;
    }
    job.queue = job.queue.then(async () => {
      const answer = await job
        .handler(request)
        .catch((err: Error): InTestAnswer => ({ code: 70, stdout: '', stderr: `trellis: internal error: ${err.message}\n` }));
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
      // The folder went away: nobody is waiting.
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
