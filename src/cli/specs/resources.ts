/** `trellis resources`: the shared resources of the area, who holds them, who waits. */
import { defineCommand, type OptionsOf } from '../command-spec.js';
import { JSON_OPT } from './common.js';

export const resourcesSpec = defineCommand({
  command: 'resources',
  describe: 'Show the shared resources: shares, holders (run, test, host, pid, since) and waiters',
  positionals: { name: { describe: 'only this resource' } },
  options: { ...JSON_OPT },
  examples: [
    ['$0 resources', 'every resource of [resources] and who holds it'],
    ['$0 resources deploy --json', 'the deploy resource as JSON'],
  ],
});
export type ResourcesOptions = OptionsOf<typeof resourcesSpec>;
