/**
 * Which launcher runs each job: `--launcher WORDS`, else the area's `[jobtools] launcher`, else
 * local; with Megatest's flexi-launcher (`[jobtools] flexi-launcher yes`), the first `[launchers]`
 * pattern matching `test/itempath` names a host type whose `[host-types]` line gives the words.
 *
 *   local                     the runner's own process
 *   slurm [sbatch options…]   sbatch per job ([slurm] partition, account, args)
 *   ssh [host… | @group]      hosts from the words, a [hosts] group, or every [hosts] line
 *   agents                    a queue in the store, taken by `trellis agent` processes (docs/agents.md)
 *   #MTLOWESTLOAD host…       (Megatest host-types) ssh to the least busy of those hosts
 *   anything else             a command prefix for the shell, Megatest-style; `nbfake`/`nbfind`
 *                             that are not installed run locally, with one note
 *
 * The words are checked before the run is touched: a launcher command that is not installed, or
 * an ssh launcher without hosts, is an error naming the config line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runAreaPaths } from '../config/paths.js';
import type { Area, ConfigValue } from '../config/types.js';
import { matchPercent } from '../model/pattern.js';
import type { TestDetail } from '../model/records.js';
import type { Store } from '../store/store.js';
import { configError, TrellisError, type SourceLocation } from '../util/errors.js';
import { CommandEngine } from './command-launcher.js';
import type { Launcher } from './launcher.js';
import type { JobStart, LaunchedJob } from './launcher.js';
import type { InTestSetup } from './job-run.js';
import { LocalLauncher } from './local-launcher.js';
import type { Recorder } from './recorder.js';
import { RemoteJob, type RemoteContext, type RemoteEngine } from './remote-job.js';
import { RunFollower, type WaitForChanges } from './run-follower.js';
import { SlurmEngine } from './slurm-launcher.js';
import { needsExec, ShellJob } from './shell-job.js';
import { SshEngine } from './ssh-launcher.js';
import { AgentEngine } from './agent-launcher.js';
import type { LaunchJournal } from '../store/launch-journal.js';

/** One launcher as the words say: what kind, and its own words. */
export type LauncherWords =
  | { kind: 'local'; words: string }
  | { kind: 'slurm'; words: string; sbatch: string[] }
  | { kind: 'ssh'; words: string; hosts: string[] }
  | { kind: 'agents'; words: string }
  | { kind: 'command'; words: string };

/** What the runner gives the launchers it creates. */
export interface LauncherSetup {
  area: Area;
  store: Store;
  recorder: Recorder;
  runId: number;
  target: { name: string };
  runname: string;
  host: string;
  pid: number;
  agentId: number;
  shell: string;
  who: string;
  force: boolean;
  now: () => number;
  readTest: (testId: number) => Promise<TestDetail | undefined>;
  waitForChanges: WaitForChanges | undefined;
  warn: (message: string) => void;
  /** the runner's environment (sbatch passes it on; ssh and launcher commands run with it) */
  env: Readonly<Record<string, string | undefined>>;
  /** the folder of this installation's `trellis` */
  binDir: string;
  /** reads a test's `trellis step|test-status|set-value` (the CLI's parser) */
  parseHelper: InTestSetup['parseHelper'];
  /** `trellis run --on`: where the agents launcher may run the jobs */
  on: readonly string[];
  /** where the local launcher's jobs note their launches (store/launch-journal.ts) */
  journal?: LaunchJournal;
  /** the run's limit, kept by the agents' queue (JobRequest.runLimit); absent: the runner keeps it */
  queueLimit?: number;
}

/** The launchers of one run, by job. */
export interface LauncherSet {
  forJob(testname: string, itempath: string): Launcher;
  /** true when some job may run elsewhere (the runner then reaps dead execs as it goes) */
  readonly remote: boolean;
  close(): Promise<void>;
}

/** The run's choice of launchers, checked; `create` makes them once the run is taken. */
export interface LauncherChoice {
  readonly fallback: LauncherWords;
  /** every job goes to the agents launcher */
  readonly allAgents: boolean;
  create(setup: LauncherSetup): LauncherSet;
}

/** Reads and checks the launcher words of a run (`--launcher` wins over the area's config). */
export function chooseLaunchers(
  area: Area,
  cliWords: string | undefined,
  opts: { direct: boolean; warn: (m: string) => void; env: Readonly<Record<string, string | undefined>> },
): LauncherChoice {
  const config = area.config;
  const fromConfig = config.get('jobtools', 'launcher');
  const fallback =
    cliWords !== undefined
      ? parseWords(area, cliWords, { option: '--launcher' }, opts)
      : fromConfig && fromConfig.text.trim() !== ''
        ? parseWords(area, fromConfig.text, { loc: fromConfig.loc }, opts)
        : ({ kind: 'local', words: 'local' } as const);
  // Megatest's flexi-launcher: [launchers] pattern → host type, [host-types] host type → words.
  const flexi = cliWords === undefined && isYes(config.get('jobtools', 'flexi-launcher'));
  const rules: Array<{ pattern: string; words: LauncherWords }> = [];
  if (flexi) {
    for (const [pattern, hostType] of config.entries('launchers')) {
      const type = hostType.text.trim();
      const line = config.get('host-types', type);
      if (!line || line.text.trim() === '') {
        throw configError(
          'CONFIG_VALUE',
          hostType.loc,
          `[launchers] ${pattern} names host type '${type}', which [host-types] does not define`,
          `add '${type} <launcher words>' to [host-types], or fix the name`,
        );
      }
      rules.push({ pattern, words: parseWords(area, line.text, { loc: line.loc }, opts) });
    }
  }
  const all = [fallback, ...rules.map((r) => r.words)];
  if (opts.direct && all.some((w) => w.kind !== 'local')) {
    const remote = all.find((w) => w.kind !== 'local')!;
    throw new TrellisError(
      'LAUNCHER',
      `the ${remote.kind} launcher ('${remote.words}') runs tests that report through the run area's server, which --direct bypasses`,
      'run without --direct (and without TRELLIS_DIRECT=1), or use --launcher local',
    );
  }
  return {
    fallback,
    allAgents: all.every((w) => w.kind === 'agents'),
    create: (setup) => createLaunchers(setup, fallback, rules),
  };
}

function createLaunchers(
  setup: LauncherSetup,
  fallback: LauncherWords,
  rules: Array<{ pattern: string; words: LauncherWords }>,
): LauncherSet {
  const local = new LocalLauncher({
    recorder: setup.recorder,
    host: setup.host,
    pid: setup.pid,
    agentId: setup.agentId,
    shell: setup.shell,
    now: setup.now,
    readTest: setup.readTest,
    journal: setup.journal,
    inTest: {
      store: setup.store,
      runId: setup.runId,
      runArea: setup.area.runArea,
      writeOptions: setup.force ? { force: true, who: setup.who } : { who: setup.who },
      parseHelper: setup.parseHelper,
    },
  });
  const remote = fallback.kind !== 'local' || rules.some((r) => r.words.kind !== 'local');
  let follower: RunFollower | undefined;
  const engines = new Map<string, RemoteEngine>();
  const launchers = new Map<string, Launcher>();
  const trellisCommand = execCommand(setup);
  const remoteCtx = (): RemoteContext => {
    follower ??= new RunFollower(setup.store, setup.runId, setup.waitForChanges);
    return {
      store: setup.store,
      recorder: setup.recorder,
      follower,
      runId: setup.runId,
      runArea: setup.area.runArea,
      areaDir: setup.area.dir,
      target: setup.target.name,
      runname: setup.runname,
      agentId: setup.agentId,
      shell: setup.shell,
      who: setup.who,
      force: setup.force,
      deadtime: setup.area.setup.deadtime,
      now: setup.now,
      warn: setup.warn,
    };
  };
  const launcherOf = (w: LauncherWords): Launcher => {
    if (w.kind === 'local') return local;
    const known = launchers.get(w.words);
    if (known) return known;
    const engine = makeEngine(setup, w, trellisCommand);
    engines.set(w.words, engine);
    const ctx = remoteCtx();
    // Slurm jobs run their steps in a shell script of their own where they can ([slurm] job).
    const shellJobs = engine instanceof SlurmEngine && slurmJobKind(setup.area) === 'shell' ? engine : undefined;
    const launcher: Launcher = {
      kind: engine.kind,
      launch: (job: JobStart): LaunchedJob =>
        shellJobs && needsExec(job) === undefined ? new ShellJob(job, ctx, shellJobs) : new RemoteJob(job, ctx, engine),
      close: async () => undefined,
    };
    launchers.set(w.words, launcher);
    return launcher;
  };
  return {
    remote,
    forJob(testname, itempath) {
      const full = itempath === '' ? testname : `${testname}/${itempath}`;
      for (const rule of rules) if (matchesLauncherPattern(rule.pattern, testname, full)) return launcherOf(rule.words);
      return launcherOf(fallback);
    },
    async close() {
      await follower?.close();
      for (const engine of engines.values()) {
        if (engine instanceof SlurmEngine || engine instanceof AgentEngine) engine.close();
        if (engine instanceof SshEngine) await engine.close();
      }
    },
  };
}

/** Megatest's `[launchers]` patterns: `%` wildcards over the test name, or over `test/itempath`. */
function matchesLauncherPattern(pattern: string, testname: string, full: string): boolean {
  return pattern.includes('/') ? matchPercent(pattern, full) : matchPercent(pattern, testname);
}

function makeEngine(setup: LauncherSetup, w: LauncherWords, trellisCommand: string[]): RemoteEngine {
  switch (w.kind) {
    case 'slurm':
      return new SlurmEngine({ sbatchArgs: [...slurmConfigArgs(setup.area), ...w.sbatch], trellisCommand, env: setup.env });
    case 'ssh':
      return new SshEngine({
        hosts: w.hosts,
        sshArgs: splitWords(setup.area.config.text('ssh', 'args') ?? ''),
        trellisCommand,
        env: setup.env,
        warn: setup.warn,
        logDir: runAreaPaths(setup.area.runArea).logsDir,
      });
    case 'agents':
      return new AgentEngine({
        store: setup.store,
        recorder: setup.recorder,
        runId: setup.runId,
        target: setup.target.name,
        runname: setup.runname,
        runnerAgentId: setup.agentId,
        deadtime: setup.area.setup.deadtime,
        now: setup.now,
        requeues: agentRequeues(setup.area),
        on: setup.on,
        warn: setup.warn,
        ...(setup.queueLimit === undefined ? {} : { runLimit: setup.queueLimit }),
      });
    case 'command':
      return new CommandEngine({
        words: w.words,
        trellisCommand,
        launchwait: !isNo(setup.area.config.get('setup', 'launchwait')),
        shell: setup.shell,
      });
    default:
      throw new Error(`no engine for ${w.kind}`);
  }
}

/** How execution hosts run trellis: `[jobtools] trellis CMD`, else this Node and this installation. */
function execCommand(setup: LauncherSetup): string[] {
  const configured = setup.area.config.text('jobtools', 'trellis');
  if (configured !== undefined && configured.trim() !== '') return splitWords(configured);
  return [process.execPath, path.join(setup.binDir, 'trellis.js')];
}

/** `[agents] requeue N`: how often a job goes back to the queue when its agent dies under it (default 1). */
export function agentRequeues(area: Area): number {
  const line = area.config.get('agents', 'requeue');
  const word = line?.text.trim() ?? '';
  if (word === '') return 1;
  if (/^\d{1,2}$/.test(word)) return Number(word);
  throw configError(
    'CONFIG_VALUE',
    line!.loc,
    `[agents] requeue '${word}' is not a count`,
    'write `requeue 0` (never), `requeue 1` (once, the default) or up to `requeue 99`',
  );
}

/** `[slurm] job shell|exec`: how a Slurm job runs its steps (shell-job.ts); shell where it can, by default. */
function slurmJobKind(area: Area): 'shell' | 'exec' {
  const line = area.config.get('slurm', 'job');
  const word = line?.text.trim() ?? 'shell';
  if (word === 'shell' || word === 'exec') return word;
  throw configError(
    'CONFIG_VALUE',
    line!.loc,
    `[slurm] job '${word}' is not a way to run a Slurm job`,
    'write `job shell` (the steps run in a shell script, no Node on the node) or `job exec` (trellis exec runs them)',
  );
}

function slurmConfigArgs(area: Area): string[] {
  const out: string[] = [];
  const partition = area.config.text('slurm', 'partition');
  const account = area.config.text('slurm', 'account');
  if (partition?.trim()) out.push(`--partition=${partition.trim()}`);
  if (account?.trim()) out.push(`--account=${account.trim()}`);
  out.push(...splitWords(area.config.text('slurm', 'args') ?? ''));
  return out;
}

/** Where launcher words came from, for errors: a config line or the option. */
interface WordsSource {
  loc?: SourceLocation;
  option?: string;
}

/** Parses launcher words; throws LAUNCHER (naming the line or option) when they cannot work here. */
export function parseWords(
  area: Area,
  text: string,
  from: WordsSource,
  opts: { warn: (m: string) => void; env: Readonly<Record<string, string | undefined>> },
): LauncherWords {
  const onPath = (cmd: string) => isOnPath(cmd, opts.env);
  const words = text.trim();
  const parts = splitWords(words);
  const first = parts[0] ?? '';
  const fail = (what: string, hint: string): never => {
    if (from.loc) throw configError('LAUNCHER', from.loc, what, hint);
    throw new TrellisError('LAUNCHER', `${from.option ?? '--launcher'} '${words}': ${what}`, hint);
  };
  if (first === '' || first === 'local') {
    if (parts.length > 1) fail('the local launcher takes no words', "write just 'local'");
    return { kind: 'local', words: 'local' };
  }
  if (first === 'slurm') {
    for (const cmd of ['sbatch', 'squeue', 'scancel']) {
      if (!onPath(cmd)) fail(`${cmd} is not on PATH`, "install Slurm's client commands on this host, or choose another launcher");
    }
    slurmJobKind(area); // a bad [slurm] job is a config error before anything runs
    return { kind: 'slurm', words, sbatch: parts.slice(1) };
  }
  if (first === 'ssh' || first === '#MTLOWESTLOAD') {
    if (!onPath('ssh')) fail('ssh is not on PATH', 'install an ssh client (openssh-client), or choose another launcher');
    const hosts = sshHosts(area, parts.slice(1), fail);
    return { kind: 'ssh', words, hosts };
  }
  if (first === 'agents') {
    if (parts.length > 1)
      fail('the agents launcher takes no words', "write just 'agents'; choose agents with --on or [requirements] tags/hosts");
    agentRequeues(area); // a bad [agents] requeue is a config error before anything runs
    return { kind: 'agents', words: 'agents' };
  }
  if ((first === 'nbfake' || first === 'nbfind') && !onPath(first)) {
    opts.warn(`launcher '${words}': ${first} is not installed here; running the tests on this host (as --launcher local)`);
    return { kind: 'local', words: 'local' };
  }
  if (!first.includes('$') && !onPath(first) && !isExecutable(path.resolve(area.dir, first))) {
    fail(`'${first}' is not a command on PATH`, 'install it, give its path, or pass --launcher local');
  }
  return { kind: 'command', words };
}

/** ssh hosts: the words, `@group` for a [hosts] line, or every host [hosts] names. */
function sshHosts(area: Area, words: string[], fail: (what: string, hint: string) => never): string[] {
  const out: string[] = [];
  const add = (h: string) => {
    if (!/^[A-Za-z0-9_.:@[\]-]+$/.test(h) || h.startsWith('-'))
      fail(`'${h}' is not a host name`, 'write host names or addresses, e.g. ssh build1 build2');
    if (!out.includes(h)) out.push(h);
  };
  const group = (name: string, v: ConfigValue | undefined) => {
    if (!v) fail(`[hosts] has no line '${name}'`, `add '${name} host1 host2' to [hosts]`);
    for (const h of splitWords(v!.text)) add(h);
  };
  if (words.length === 0) for (const [name, v] of area.config.entries('hosts')) group(name, v);
  for (const w of words) {
    if (w.startsWith('@')) group(w.slice(1), area.config.get('hosts', w.slice(1)));
    else if (w.startsWith('#{'))
      fail(`'${w}' is a Megatest directive Trellis cannot evaluate here`, 'list the hosts in [hosts] and write ssh @GROUP');
    else add(w);
  }
  if (out.length === 0) fail('no hosts to ssh to', 'name them: --launcher "ssh host1 host2", or a [hosts] section');
  return out;
}

function isOnPath(cmd: string, env: Readonly<Record<string, string | undefined>>): boolean {
  if (cmd.includes('/')) return isExecutable(cmd);
  return (env['PATH'] ?? '').split(path.delimiter).some((d) => d !== '' && isExecutable(path.join(d, cmd)));
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function splitWords(text: string): string[] {
  return text.trim() === '' ? [] : text.trim().split(/\s+/);
}

function isYes(v: ConfigValue | undefined): boolean {
  return v !== undefined && v.text.trim() !== '' && !/^(no|0|false|off)$/i.test(v.text.trim());
}

function isNo(v: ConfigValue | undefined): boolean {
  return v !== undefined && /^(no|0|false|off)$/i.test(v.text.trim());
}
