/** `trellis id init|register|show`: the user's key, and proving who they are to the area's servers. */
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { JSON_OPT } from './common.js';

export const idSpec = defineCommand({
  command: 'id',
  describe: "Make your key, register it in the run area, or show who the area's server takes you for",
  positionals: { action: { describe: 'what to do', required: true, choices: ['init', 'register', 'show'] } },
  options: { ...JSON_OPT },
  examples: [
    ['$0 id init', 'make your key pair under ~/.trellis (once per user) and register it in this area'],
    ['$0 id register', "register your key in this run area's .meta/users"],
    ['$0 id show', 'your key, its registration, and the user the server verifies you as'],
  ],
});
export type IdOptions = OptionsOf<typeof idSpec>;
