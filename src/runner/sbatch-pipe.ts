/**
 * Submits Slurm jobs through one long-lived POSIX shell that runs `sbatch` for each line it reads,
 * one after another. A runner is a Node process of 100 MB or more, and each process it starts is a
 * fork of all of that: 200 sbatch started by the runner cost it 2 CPU-seconds on a 2-core machine,
 * where a small shell forks them for a fraction (docs/benchmarks.md, "Launchers"). One at a time
 * is also how a loop of sbatch goes, and what slurmctld handles best: it tries to start each job as
 * it is submitted, where a burst of hundreds waits for its scheduling passes.
 *
 * Protocol: one line per job, its sbatch arguments separated by tabs; one line back per job,
 * `rc<TAB>what sbatch printed` (its lines joined by blanks). An argument holding a tab or a newline
 * cannot travel this way: `submit` refuses it and the caller runs sbatch itself.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import readline from 'node:readline';

// `set -f` and IFS=tab: the line splits into the arguments exactly, no globbing, no other splitting.
const LOOP = [
  'set -f',
  "tab=$(printf '\\t')",
  'while IFS= read -r line; do',
  '  IFS=$tab; set -- $line; unset IFS',
  '  out=$(sbatch "$@" 2>&1); rc=$?',
  '  printf "%s\\t%s\\n" "$rc" "$(printf "%s " $out)"',
  'done',
].join('\n');

export class SbatchPipe {
  readonly #env: Readonly<Record<string, string | undefined>>;
  #child: ChildProcessWithoutNullStreams | undefined;
  /** answers awaited, in the order their lines were sent */
  readonly #waiting: Array<{ resolve: (out: string) => void; reject: (err: Error) => void }> = [];

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.#env = env;
  }

  /** True when every argument can travel on one tab-separated line. */
  static carries(args: readonly string[]): boolean {
    return args.every((a) => a !== '' && !/[\t\n\r]/.test(a));
  }

  /** Runs `sbatch ARGS…`; resolves with what it printed, rejects with its message when it failed. */
  submit(args: readonly string[]): Promise<string> {
    const child = this.#start();
    return new Promise<string>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#hold(child, true);
      child.stdin.write(`${args.join('\t')}\n`);
    });
  }

  /** Ends the shell once it has answered what it was sent. */
  close(): void {
    this.#child?.stdin.end();
    this.#child = undefined;
  }

  /** Keeps the process alive while an answer is awaited (`on`), or lets it end without one. */
  #hold(child: ChildProcessWithoutNullStreams, on: boolean): void {
    for (const h of [child, child.stdin, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void }>) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }

  #start(): ChildProcessWithoutNullStreams {
    if (this.#child) return this.#child;
    const child = spawn('/bin/sh', ['-c', LOOP], { env: this.#env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    // Idle, it must not keep a runner alive that has nothing else to do.
    this.#hold(child, false);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const w = this.#waiting.shift();
      if (this.#waiting.length === 0) this.#hold(child, false);
      if (w === undefined) return;
      const tab = line.indexOf('\t');
      const rc = line.slice(0, tab);
      const out = line.slice(tab + 1).trim();
      if (rc === '0') w.resolve(out);
      else w.reject(new Error(`sbatch failed: ${out.trim() || `exit ${rc}`}`));
    });
    const gone = (why: string) => {
      if (this.#child === child) this.#child = undefined;
      for (const w of this.#waiting.splice(0)) w.reject(new Error(`sbatch failed: its shell ${why}`));
    };
    child.on('error', (err) => gone(`could not start (${err.message})`));
    child.on('exit', (code, signal) => gone(`ended (${signal ?? `exit ${code}`})`));
    child.stdin.on('error', () => undefined);
    return child;
  }
}
