import t from 'tap';
import { completeWords, completionScript, type CompletionSources } from '../../src/cli/completion.js';

const sources: CompletionSources = {
  targets: () => ['linux/x86_64', 'linux/aarch64', 'linux/x86_64'],
  runNames: (target) => (target === 'linux/aarch64' ? ['arm-1'] : ['nightly-1', 'nightly-2', 'weekly']),
  testNames: () => ['compile', 'unit', 'lint'],
};

t.test('completes commands, options, choices and what the area has', async (t) => {
  const table: Array<[string[], string[]]> = [
    [['ru'], ['run', 'run-open']],
    [['res'], ['resources', 'result']],
    [['l'], ['last-success', 'list', 'lock', 'log']],
    [
      ['list', ''],
      ['runs', 'targets', 'tests'],
    ],
    [['config', 's'], ['show']],
    [
      ['run', '--re'],
      ['--reqtarg', '--rerun', '--rerun-all', '--rerun-clean', '--resume'],
    ],
    [
      ['run', '-t', ''],
      ['linux/aarch64', 'linux/x86_64'],
    ],
    [['run', '--target', 'linux/x'], ['linux/x86_64']],
    [
      ['run', '-t', 'linux/x86_64', '-r', 'n'],
      ['nightly-1', 'nightly-2'],
    ],
    [['show', '-t', 'linux/aarch64', '-r', ''], ['arm-1']],
    [['run', '-t', 'linux/x86_64', '-p', 'u'], ['unit']],
    [['show', 'c'], ['compile']],
    [['show', '-t', 'linux/x86_64', 'l'], ['lint']],
    [
      ['report', ''],
      ['json', 'junit', 'tap'],
    ],
    [
      ['report', 'junit', '--logs', ''],
      ['all', 'failed', 'none'],
    ],
    [
      ['server', 's'],
      ['start', 'stop'],
    ],
    [
      ['completion', ''],
      ['bash', 'zsh'],
    ],
    [
      ['--area', 'x', 'ru'],
      ['run', 'run-open'],
    ],
    [['--direct', 'dash'], ['dashboard']],
    [['--ver'], ['--version']],
    [['__comp'], []],
    [['nosuch', ''], []],
    [['wrap', 'job', '--', 'l'], []],
    [['init', ''], []],
  ];
  for (const [words, expected] of table) t.same(completeWords(words, sources), expected, words.join(' ') || '(nothing)');
});

t.test('an area that cannot be read offers nothing, without an error', async (t) => {
  const broken: CompletionSources = {
    targets: () => {
      throw new Error('no area');
    },
    runNames: () => {
      throw new Error('no area');
    },
    testNames: () => {
      throw new Error('no area');
    },
  };
  t.same(completeWords(['run', '-t', ''], broken), []);
  t.same(completeWords(['show', ''], broken), []);
  t.same(completeWords(['ru'], broken), ['run', 'run-open']);
});

t.test('the scripts call trellis __complete', async (t) => {
  t.match(completionScript('bash'), /complete -o default -F _trellis_complete trellis/);
  t.match(completionScript('bash'), /trellis __complete -- /);
  t.match(completionScript('zsh'), /^#compdef trellis/);
  t.match(completionScript('zsh'), /trellis __complete -- /);
});
