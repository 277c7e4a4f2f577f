/**
 * `trellis agent` (docs/agents.md): a long-lived process on a host that sees the run area. It
 * registers through the area's server, heartbeats, takes the queued jobs it may run (as many as it
 * has free slots) and runs each with exec's job runner in this process: no Node start per job. A
 * job's spec must lie in this run area, and so must its work folder: a job spec never makes an
 * agent run anything elsewhere.
 *
 * Draining (TERM, or `trellis agent stop NAME` seen at a heartbeat): it finishes what it runs,
 * takes nothing new, and leaves. A second TERM stops its jobs (KILLED). When its server dies it
 * goes on through the next one, found (or started) by discovery like every client. When it cannot
 * reach any server for the area's deadtime, the pool takes it for dead and queues its jobs again
 * for another agent: it stops them here first, so that no job runs twice, and registers anew once
 * a server answers.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FeedCursor } from '../model/records.js';
import type { CarriedWrites, JobEnd, PoolAgentRecord, PoolAgentSpec, QueuedJob, TakenJob } from '../model/pool.js';
import type { Store } from '../store/store.js';
import { isTrellisError, TrellisError } from '../util/errors.js';
import { killStepGroup } from '../util/process-info.js';
import { JobSet, type ExecContext } from './exec.js';
import { endChannels } from './job-channel.js';
import { readJobSpec, validateJobSpec, type JobSpec } from './job-spec.js';

export interface PoolAgentOptions {
  spec: PoolAgentSpec;
  /** the run area, as given */
  runArea: string;
  store: Store;
  /** waits for the pool to change (the server's change feed); resolves at once when it cannot */
  waitForChanges: (cursor: FeedCursor, waitMs: number, signal: AbortSignal) => Promise<{ cursor: FeedCursor; poolChanged?: boolean }>;
  /** the area's deadtime (s): the pool's deadline for this agent's heartbeat */
  deadtime: number;
  /** runs the jobs (its env carries TRELLIS_AGENT) */
  exec: Omit<ExecContext, 'signal' | 'hardSignal' | 'openStore'>;
  now: () => number;
  /** first TERM/INT: drain */
  signal: AbortSignal;
  /** second: stop the jobs */
  hardSignal: AbortSignal;
  say: (line: string) => void;
}

/** Runs the agent until it has drained; resolves with its exit code. */
export async function runPoolAgent(o: PoolAgentOptions): Promise<number> {
  const agent = new PoolAgent(o);
  return agent.run();
}

class PoolAgent {
  readonly #o: PoolAgentOptions;
  readonly #realRunArea: string;
  readonly #running = new Map<number, { job: QueuedJob; spec?: JobSpec }>();
  /** jobs that ended and whose end the queue does not know yet: said with the next claim */
  #ends: Array<JobEnd & { session: string }> = [];
  readonly #jobStop = new AbortController();
  readonly #jobKill = new AbortController();
  readonly #jobs: JobSet;
  #session = '';
  #draining = false;
  #lastBeat = 0;
  #lastContact = 0;
  #fenced = false;
  #wake: (() => void) | undefined;
  /** a job ended (or a drain began) since the loop last looked: it must not wait before it looks again */
  #poked = false;

  constructor(o: PoolAgentOptions) {
    this.#o = o;
    this.#realRunArea = fs.realpathSync.native(o.runArea);
    this.#jobs = new JobSet(
      { ...o.exec, poolAgent: o.spec.name, signal: this.#jobStop.signal, hardSignal: this.#jobKill.signal, openStore: async () => o.store },
      () => o.store,
    );
    o.signal.addEventListener('abort', () => this.#drain('asked to stop (a signal): finishing the jobs it runs'), { once: true });
    o.hardSignal.addEventListener(
      'abort',
      () => {
        this.#jobStop.abort(o.hardSignal.reason ?? 'SIGTERM');
        this.#poke();
      },
      { once: true },
    );
  }

  async run(): Promise<number> {
    const o = this.#o;
    await this.#register();
    let cursor: FeedCursor | undefined;
    // The deadline is kept by the clock, not by a request: one that hangs while the network is
    // down (it may, for as long as discovery looks for a server) must not keep the jobs running.
    const watchdog = setInterval(
      () => {
        const silent = o.now() - this.#lastContact;
        if (!this.#fenced && silent >= o.deadtime) this.#fence(`no server answered for ${Math.round(silent)} s`);
      },
      Math.round(beatSeconds(o.deadtime) * 250),
    );
    try {
      while (!(this.#draining && this.#running.size === 0)) {
        this.#poked = false;
        await this.#beatIfDue();
        if (!this.#draining && !this.#fenced && this.#running.size < o.spec.slots) {
          const taken = await this.#claim();
          for (const job of taken) this.#start(job);
          if (taken.length > 0) continue;
        }
        const canTake = !this.#draining && !this.#fenced && this.#running.size < o.spec.slots;
        // Not said with a claim (none comes while it drains or is fenced): said on their own.
        if (!canTake) await this.#sayEnds();
        cursor = await this.#waitForWork(cursor, canTake);
      }
    } finally {
      clearInterval(watchdog);
      await this.#sayEnds();
      this.#jobs.close();
      await endChannels();
      await o.store.leavePool(o.spec.name, this.#session).catch(() => undefined);
    }
    o.say(`agent ${o.spec.name} left the pool`);
    return o.hardSignal.aborted ? 130 : 0;
  }

  async #register(): Promise<void> {
    const o = this.#o;
    const rec: PoolAgentRecord = await o.store.registerPoolAgent(o.spec, load(), { now: o.now(), deadtime: o.deadtime });
    this.#session = rec.session;
    this.#lastBeat = this.#lastContact = o.now();
    this.#fenced = false;
    // Steps an earlier agent of this name left running here when it died: its jobs went to others.
    const orphans = await o.store.takePoolOrphans(o.spec.name, o.spec.host).catch(() => []);
    for (const orphan of orphans) killStepGroup(orphan.pid, orphan.procStart);
    if (orphans.length > 0) o.say(`agent ${o.spec.name}: ended ${orphans.length} step(s) an earlier agent of this name left running`);
    const tags = o.spec.tags.length > 0 ? `tags ${o.spec.tags.join(',')}` : 'no tags';
    o.say(`agent ${o.spec.name} on ${o.spec.host}: ${o.spec.slots} slot(s), ${tags}; run area ${o.runArea}`);
  }

  /** Heartbeats when one is due; learns of a drain request; re-registers after being taken for dead. */
  async #beatIfDue(): Promise<void> {
    const o = this.#o;
    const now = o.now();
    if (now - this.#lastBeat < beatSeconds(o.deadtime)) return;
    this.#lastBeat = now;
    try {
      if (this.#fenced) {
        // Taken for dead while away: what it ran went back to the queue. Come back as a new session.
        if (this.#running.size > 0) return;
        await this.#register();
        return;
      }
      const { drain } = await o.store.poolHeartbeat({ name: o.spec.name, session: this.#session, time: now, load: load() });
      this.#lastContact = o.now();
      if (drain) this.#drain(`asked to stop (trellis agent stop ${o.spec.name}): finishing the jobs it runs`);
    } catch (err) {
      if (isTrellisError(err) && err.code === 'AGENT_GONE') {
        this.#fence('the pool took this agent for dead (no heartbeat within the deadtime)');
        return;
      }
      if (isTrellisError(err) && err.code === 'AGENT_BUSY') throw err;
      // No server answers: past the deadtime the pool gives its jobs to other agents.
      if (o.now() - this.#lastContact >= o.deadtime) this.#fence(`no server answered for ${Math.round(o.now() - this.#lastContact)} s`);
    }
  }

  /** Stops the jobs it runs: the pool gives them (or has given them) to another agent. */
  #fence(why: string): void {
    if (this.#fenced) return;
    this.#fenced = true;
    if (this.#running.size > 0)
      this.#o.say(`agent ${this.#o.spec.name}: ${why}; stopping its ${this.#running.size} job(s), which go to another agent`);
    for (const { spec } of this.#running.values()) if (spec) this.#jobs.stop(spec, `agent ${this.#o.spec.name}: ${why}`);
  }

  /** Takes what it may run, each job's test claimed for this process's exec in the same call. */
  async #claim(): Promise<TakenJob[]> {
    const o = this.#o;
    const exec = { kind: 'exec' as const, host: o.exec.host, pid: o.exec.pid, procStart: o.exec.procStart, poolAgent: o.spec.name };
    await this.#sayEnds((e) => e.session !== this.#session);
    const ends = this.#ends.filter((e) => e.session === this.#session);
    try {
      const jobs = await o.store.claimQueuedJobs(
        o.spec.name,
        this.#session,
        o.spec.slots - this.#running.size,
        [...this.#running.keys()],
        { now: o.now(), deadtime: o.deadtime },
        exec,
        ends.map(({ session: _, ...end }) => end),
      );
      this.#ends = this.#ends.filter((e) => !ends.includes(e));
      this.#lastContact = o.now();
      return jobs.filter((j) => !this.#running.has(j.id));
    } catch (err) {
      if (isTrellisError(err) && err.code === 'AGENT_GONE') this.#fence('the pool took this agent for dead');
      return [];
    }
  }

  #start(job: TakenJob): void {
    const o = this.#o;
    const entry: { job: QueuedJob; spec?: JobSpec } = { job };
    this.#running.set(job.id, entry);
    const session = this.#session;
    const claimed = job.claim;
    void (async () => {
      let note: string;
      let writes: CarriedWrites | undefined;
      try {
        let spec: JobSpec;
        try {
          spec = await this.#readSpec(job);
        } catch (err) {
          // Its test was claimed for this exec: end it with the reason, as exec would.
          if (claimed) await this.#refuse(job, claimed.agent.id, (err as Error).message);
          throw err;
        }
        entry.spec = spec;
        const outcome = await this.#jobs.run(spec, undefined, {
          ...(claimed ? { claimed, keepAgent: true, carry: (w: CarriedWrites) => (writes = w) } : {}),
          ...(job.spec !== undefined ? { writeSpec: true } : {}),
        });
        note = `${outcome.state}/${outcome.status}`;
      } catch (err) {
        note = `refused: ${(err as Error).message}`;
        if (!isTrellisError(err) || !['JOB_GONE', 'JOB_BUSY'].includes(err.code)) o.say(`agent ${o.spec.name}: ${job.label}: ${note}`);
      }
      // The queue hears of it with the next claim, which the freed slot brings at once.
      this.#ends.push({
        id: job.id,
        note: note.slice(0, 4000),
        session,
        ...(claimed ? { execAgentId: claimed.agent.id } : {}),
        ...(writes ? { writes } : {}),
      });
      this.#running.delete(job.id);
      this.#poke();
    })();
  }

  /** Tells the queue of the ended jobs (those `which` picks) one request each; kept on failure. */
  async #sayEnds(which: (e: JobEnd & { session: string }) => boolean = () => true): Promise<void> {
    for (const e of this.#ends.filter(which)) {
      try {
        if (e.writes) {
          await this.#o.store.write(e.writes.runId, e.writes.ops, e.writes.options).catch((err: unknown) => {
            // As a claim that carries them would: the reaper ends the test.
            if (!isTrellisError(err) || err.code === 'NO_SERVER') throw err;
            e.note = `${e.note}; its results could not be recorded: ${(err as Error).message}`.slice(0, 4000);
          });
          delete e.writes;
        }
        await this.#o.store.endQueuedJob(e.id, this.#o.spec.name, e.session, e.note, e.execAgentId);
        this.#ends = this.#ends.filter((x) => x !== e);
      } catch {
        return;
      }
    }
  }

  /** Ends a claimed test this agent will not run: INCOMPLETE/DEAD with the reason. */
  async #refuse(job: QueuedJob, execAgentId: number, reason: string): Promise<void> {
    const now = this.#o.now();
    const set = {
      state: 'INCOMPLETE' as const,
      status: 'DEAD',
      comment: `agent ${this.#o.spec.name} refused it: ${reason}`.slice(0, 4000),
      end: now,
    };
    await this.#o.store
      .write(job.runId, [{ kind: 'test', opId: randomUUID(), testId: job.testId, set, time: now }], { asAgent: execAgentId })
      .catch(() => undefined);
  }

  /**
   * The job's spec (the one it came with from the queue, else its file), when it and its work
   * folder lie in this run area (BAD_JOB otherwise).
   */
  async #readSpec(job: TakenJob): Promise<JobSpec> {
    // Real paths: a folder not made yet is where its nearest existing parent really is.
    const inside = (p: string) => {
      const real = realpathOfNearest(path.resolve(p));
      return real === this.#realRunArea || real.startsWith(this.#realRunArea + path.sep);
    };
    if (!path.isAbsolute(job.specFile) || !inside(job.specFile)) {
      throw new TrellisError(
        'BAD_JOB',
        `job spec ${job.specFile} is not in the run area ${this.#o.runArea}`,
        'an agent runs only jobs of its run area',
      );
    }
    const spec = job.spec !== undefined ? validateJobSpec(job.spec, job.specFile) : await readJobSpec(job.specFile);
    if (spec.runId !== job.runId || spec.testId !== job.testId || spec.launchId !== job.launchId) {
      throw new TrellisError('BAD_JOB', `job spec ${job.specFile} is not the job the queue names`, 'rerun the test');
    }
    if (!inside(spec.runArea) || !inside(spec.workDir)) {
      throw new TrellisError(
        'BAD_JOB',
        `job spec ${job.specFile} names a work folder or run area outside ${this.#o.runArea}`,
        'an agent runs only jobs of its run area',
      );
    }
    return spec;
  }

  #drain(why: string): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#poke();
    // Said once the pool knows, so `trellis hosts` shows what this line says.
    const running = this.#running.size;
    void this.#o.store
      .drainPoolAgent(this.#o.spec.name)
      .catch(() => undefined)
      .then(() => this.#o.say(`agent ${this.#o.spec.name}: ${why} (${running} running)`));
  }

  #poke(): void {
    this.#poked = true;
    this.#wake?.();
  }

  /**
   * Waits until a job ends, a signal comes, or a heartbeat is due; and, when it could take a job
   * (`follow`), until the pool changes. A full agent does not follow the feed: every job queued
   * would wake it for nothing.
   */
  async #waitForWork(cursor: FeedCursor | undefined, follow: boolean): Promise<FeedCursor | undefined> {
    const o = this.#o;
    const waitMs = Math.max(100, Math.round(beatSeconds(o.deadtime) * 1000));
    const stop = new AbortController();
    // Poked while it was busy with a request (a job's end to say): look again at once.
    if (this.#poked) return cursor;
    const poked = new Promise<void>((resolve) => (this.#wake = resolve));
    if (!follow) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([poked, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
        return cursor;
      } finally {
        clearTimeout(timer);
        this.#wake = undefined;
      }
    }
    const start = cursor ?? { runsSeq: Number.MAX_SAFE_INTEGER, runs: {}, poolSeq: 0 };
    try {
      const answer = await Promise.race([
        o.waitForChanges(start, waitMs, stop.signal).then(
          (b) => b.cursor,
          async () => {
            // No server now: try again after a while (the next call finds or starts one).
            await new Promise((r) => setTimeout(r, Math.min(waitMs, 1000)));
            return cursor;
          },
        ),
        poked.then(() => cursor),
      ]);
      // Runs are not followed (a cursor past the last change): only the pool's changes wake it.
      return answer === undefined ? undefined : { ...answer, runsSeq: Number.MAX_SAFE_INTEGER, runs: {} };
    } finally {
      stop.abort();
      this.#wake = undefined;
    }
  }
}

/** Heartbeats: often enough that a few missed ones are still within the deadtime. */
function beatSeconds(deadtime: number): number {
  return Math.max(0.5, Math.min(5, deadtime / 4));
}

function load(): number | null {
  const l = os.loadavg()[0];
  return l === undefined ? null : Math.round(l * 100) / 100;
}

/**
 * The real path of `p`, or of its nearest existing parent with the rest of `p` after it. The
 * native call: fs.realpathSync's own walk lstats every component (0.3 ms of an agent's CPU a job).
 */
function realpathOfNearest(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(realpathOfNearest(parent), path.basename(p));
  }
}
