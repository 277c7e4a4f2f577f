/** `trellis agent` and `trellis hosts`: the agent pool (docs/agents.md). */
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { parseAgentWords, parseWholeNumber } from '../option-values.js';
import { JSON_OPT } from './common.js';

export const agentSpec = defineCommand({
  command: 'agent',
  describe: 'Run an agent that takes queued jobs (--launcher agents) on this host, or ask one to stop',
  positionals: {
    action: { describe: 'stop: ask the agent NAME to finish its jobs and leave', choices: ['stop'] },
    agent: { describe: 'stop: the name of the agent' },
  },
  options: {
    name: {
      type: 'string',
      describe: "this agent's name (default: the host name)",
      parse: (t: string, f: string) => parseAgentWords(t, f)[0]!,
    },
    tags: { type: 'string', describe: 'what this host offers, for [requirements] tags and --on (comma list)', parse: parseAgentWords },
    slots: { type: 'string', describe: 'jobs it runs at once (default: the number of CPUs)', parse: parseWholeNumber },
  },
  examples: [
    ['$0 agent --runarea /shared/runs --tags linux,gpu --slots 4', 'serve the pool from this host until stopped'],
    ['$0 agent stop build7 --runarea /shared/runs', 'build7 finishes what it runs, then leaves'],
  ],
});
export type AgentOptions = OptionsOf<typeof agentSpec>;

export const hostsSpec = defineCommand({
  command: 'hosts',
  describe: 'Show the registered agents: status, slots, tests running, last heartbeat, load, version',
  options: { ...JSON_OPT },
  examples: [
    ['$0 hosts', 'every agent of the run area'],
    ['$0 hosts --json', 'the same as JSON'],
  ],
});
export type HostsOptions = OptionsOf<typeof hostsSpec>;
