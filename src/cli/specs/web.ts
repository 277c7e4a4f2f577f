/** `trellis web`: the runs matrix served to browsers (issue #14). */
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { parsePort } from '../option-values.js';

export const webSpec = defineCommand({
  command: 'web',
  describe: 'Serve the runs matrix to browsers, live; rerun, kill, set or start runs from it',
  options: {
    port: { type: 'string', describe: 'port to listen on (default 0: any free port)', parse: parsePort },
    bind: { type: 'string', describe: 'address to listen on (default 127.0.0.1: this host only)' },
  },
  examples: [
    ['$0 web', 'prints a one-time login link for a browser on this host'],
    ['$0 web --bind 0.0.0.0 --port 8420', 'for browsers on other hosts (they log in with a link too)'],
  ],
});
export type WebOptions = OptionsOf<typeof webSpec>;
