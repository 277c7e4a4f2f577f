/**
 * Shell completion, from the same declarations as the parser: the scripts `trellis completion
 * bash|zsh` prints call `trellis __complete -- WORD… CURRENT`, which prints one candidate a line.
 * Commands, options and choices come from specs/; targets, run names and test names from the
 * area, through `CompletionSources`, so this file stays pure and table-tested.
 */
import { GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './command-spec.js';
import { SPECS } from './specs/index.js';

/** What only the area knows; each may throw or return nothing (completion then offers nothing). */
export interface CompletionSources {
  targets(): string[];
  /** run names, of `target` when given */
  runNames(target: string | undefined): string[];
  testNames(): string[];
}

const SPEC_LIST = Object.values(SPECS) as CommandSpec[];

/** The first words people type: commands and groups (`list`, `config`), hidden ones left out. */
function firstWords(): string[] {
  return [...new Set(SPEC_LIST.filter((s) => !s.hidden).map((s) => s.command.split(' ')[0]!))];
}

/** The spec whose words the typed words start with, and how many words it took. */
function findSpec(words: readonly string[]): { spec: CommandSpec; used: number } | { group: string } | undefined {
  for (const spec of SPEC_LIST) {
    const cmd = spec.command.split(' ');
    if (cmd.every((w, i) => words[i] === w)) return { spec, used: cmd.length };
  }
  const group = words[0];
  if (group !== undefined && SPEC_LIST.some((s) => s.command.startsWith(`${group} `))) return { group };
  return undefined;
}

function optionsOf(spec: CommandSpec): Array<[string, OptionSpec]> {
  return [...Object.entries(spec.options ?? {}), ...Object.entries(GLOBAL_OPTIONS)];
}

/** The declared option a typed flag (`--target`, `-t`) names. */
function optionNamed(spec: CommandSpec, flag: string): [string, OptionSpec] | undefined {
  if (flag.startsWith('--')) return optionsOf(spec).find(([name]) => name === flag.slice(2));
  if (flag.startsWith('-') && flag.length === 2) return optionsOf(spec).find(([, o]) => o.alias === flag.slice(1));
  return undefined;
}

function safely(read: () => string[]): string[] {
  try {
    return read();
  } catch {
    return [];
  }
}

/** Values for an option or positional named `name`: its choices, or what the area has. */
function valuesFor(
  name: string,
  choices: readonly string[] | undefined,
  typed: readonly string[],
  spec: CommandSpec,
  src: CompletionSources,
): string[] {
  if (choices !== undefined) return [...choices];
  if (name === 'target') return safely(() => src.targets());
  if (name === 'runname') return safely(() => src.runNames(lastValueOf(spec, typed, 'target')));
  if (name === 'pattern' || name === 'test') return safely(() => src.testNames());
  return [];
}

/** The last value given to option `name` among the typed words. */
function lastValueOf(spec: CommandSpec, typed: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < typed.length - 1; i++) {
    if (optionNamed(spec, typed[i]!)?.[0] === name) value = typed[i + 1];
  }
  return value;
}

/**
 * The candidates for the last word of `words` (the words after `trellis`, the last one being
 * completed, maybe empty), filtered by what it starts with.
 */
export function completeWords(words: readonly string[], src: CompletionSources): string[] {
  const current = words[words.length - 1] ?? '';
  const typed = words.slice(0, -1);
  const pick = (candidates: Iterable<string>) => [...new Set(candidates)].filter((c) => c.startsWith(current)).sort();
  // Global options may come before the command.
  let start = 0;
  while (start < typed.length && typed[start]!.startsWith('-')) {
    const global = Object.entries(GLOBAL_OPTIONS).find(([name]) => `--${name}` === typed[start]);
    start += global?.[1].type === 'string' ? 2 : 1;
  }
  const rest = typed.slice(start);
  const found = findSpec(rest);
  if (found === undefined) {
    if (rest.length > 0) return [];
    return pick(current.startsWith('-') ? ['--help', '--version', ...Object.keys(GLOBAL_OPTIONS).map((n) => `--${n}`)] : firstWords());
  }
  if ('group' in found) {
    if (rest.length > 1) return [];
    return pick(SPEC_LIST.filter((s) => s.command.startsWith(`${found.group} `)).map((s) => s.command.split(' ')[1]!));
  }
  const { spec, used } = found;
  const after = rest.slice(used);
  if (after.includes('--')) return [];
  const previous = after[after.length - 1];
  const option = previous === undefined ? undefined : optionNamed(spec, previous);
  if (option !== undefined && option[1].type === 'string') {
    return pick(valuesFor(option[0], option[1].choices, rest, spec, src));
  }
  if (current.startsWith('-')) {
    return pick(['--help', ...optionsOf(spec).flatMap(([name, o]) => [`--${name}`, ...(o.alias?.length === 1 ? [`-${o.alias}`] : [])])]);
  }
  // The next positional: count the words that are neither options nor their values.
  let given = 0;
  for (let i = 0; i < after.length; i++) {
    const o = optionNamed(spec, after[i]!);
    if (o !== undefined) i += o[1].type === 'string' ? 1 : 0;
    else if (!after[i]!.startsWith('-')) given++;
  }
  const positional = Object.entries(spec.positionals ?? {})[given];
  return positional === undefined ? [] : pick(valuesFor(positional[0], positional[1].choices, rest, spec, src));
}

/** The bash script: `complete -o default` falls back to file names when trellis offers nothing. */
function bashScript(): string {
  return `# trellis completion for bash: add to ~/.bashrc
#   source <(trellis completion bash)
_trellis_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(trellis __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _trellis_complete trellis
`;
}

/** The zsh script: a completion function for compinit (or `source` it after compinit). */
function zshScript(): string {
  return `#compdef trellis
# trellis completion for zsh: save as _trellis in a folder of $fpath, or add to ~/.zshrc
#   source <(trellis completion zsh)
_trellis() {
  local -a candidates
  candidates=("\${(@f)$(trellis __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if (( \${#candidates[@]} )) && [[ -n "\${candidates[1]}" ]]; then
    compadd -Q -- "\${candidates[@]}"
  else
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _trellis "$@"
else
  compdef _trellis trellis
fi
`;
}

/** The completion script for `shell`. */
export function completionScript(shell: 'bash' | 'zsh'): string {
  return shell === 'bash' ? bashScript() : zshScript();
}
