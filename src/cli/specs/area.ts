/** The commands about the area itself: init, config show, server, dashboard, doctor. */
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { JSON_OPT, PATTERN, RUN_KEYS } from './common.js';

export const initSpec = defineCommand({
  command: 'init',
  describe: 'Create a skeleton test area',
  positionals: { dir: { describe: 'folder to create it in', default: '.' } },
  examples: [['$0 init myarea', 'a new area in ./myarea']],
});
export type InitOptions = OptionsOf<typeof initSpec>;

export const configShowSpec = defineCommand({
  command: 'config show',
  describe: 'Show the area configuration',
  options: {
    section: { type: 'string', describe: 'only this section' },
    var: { type: 'string', describe: 'only this key (with --section)' },
    file: { type: 'string', choices: ['config', 'runconfigs'], default: 'config', describe: 'which file' },
    target: { ...RUN_KEYS.target, required: false },
    ...JSON_OPT,
  },
  examples: [['$0 config show --section setup --var max_concurrent_jobs', 'one value']],
});
export type ConfigShowOptions = OptionsOf<typeof configShowSpec>;

export const serverSpec = defineCommand({
  command: 'server',
  describe: "Start, list, stop or ping the run area's servers",
  positionals: { action: { describe: 'what to do', required: true, choices: ['start', 'list', 'stop', 'ping'] } },
  options: {
    invocation: {
      type: 'string',
      choices: ['dboard', 'runner', 'other', 'exec'],
      default: 'other',
      describe: 'start: the kind of client it serves (clients prefer dboard, runner, other, exec)',
    },
    foreground: { type: 'boolean', describe: 'start: serve in this process until idle or stopped' },
    all: { type: 'boolean', describe: 'stop: every server of the run area, not only the one clients use' },
    ...JSON_OPT,
  },
  examples: [
    ['$0 server start', 'start a server in the background and print where it listens'],
    ['$0 server list', 'every packet in .meta: live, stale or unreachable, and the lease holder'],
    ['$0 server stop --all', 'stop every server of the run area'],
  ],
});
export type ServerOptions = OptionsOf<typeof serverSpec>;

export const dashboardSpec = defineCommand({
  command: 'dashboard',
  describe: 'Watch runs × tests live in the terminal; rerun, kill or set tests from it',
  options: {
    target: { type: 'string', alias: 't', describe: 'only runs of these targets (% wildcards, comma list)' },
    runname: { type: 'string', alias: 'r', describe: 'only runs with these names (% wildcards, comma list)' },
    ...PATTERN,
    status: { type: 'string', describe: 'only rows with these states or statuses (comma list)' },
  },
  examples: [
    ['$0 dashboard', 'every run, newest on the left'],
    ["$0 dashboard -t 'linux/%' -r 'nightly%' --status FAIL", 'the failures of the nightly Linux runs'],
  ],
});
export type DashboardOptions = OptionsOf<typeof dashboardSpec>;

export const doctorSpec = defineCommand({
  command: 'doctor',
  describe: 'Check a run area (token, packets, lease, databases, work folders); --repair fixes what is safe',
  options: {
    repair: { type: 'boolean', describe: 'fix what can be fixed without losing a result, and say what was done' },
    all: { type: 'boolean', describe: 'also list the checks that found nothing wrong' },
    ...JSON_OPT,
  },
  examples: [
    ['$0 doctor', 'what is wrong with the run area, and what to do'],
    ['$0 doctor --repair --runarea /shared/runs', 'repair a run area without its test area'],
  ],
});
export type DoctorOptions = OptionsOf<typeof doctorSpec>;
