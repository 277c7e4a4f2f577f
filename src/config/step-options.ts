/**
 * Megatest's ezstep option prefix (design §6b): `NAME {opt,opt=value} COMMAND`, e.g.
 * `sign-off {manual} Check the release notes` or `deploy {restartable=no} ./deploy.sh`. The one
 * place that tells an option block from the command, so that the options' readers and the `{NAME}`
 * substitution of step commands (runner/step-refs.ts) agree on where the command starts.
 *
 * An option block is a leading `{…}` followed by a blank (or the end of the line) whose words are
 * lower-case option names, each alone or with `=value`, separated by commas. Anything else is
 * command text: `{VERSION}/bin/tool`, `{TOOL} --help` (upper case) and `{a,b}` brace expansion
 * followed by no blank stay commands, so a command may start with a parameter.
 */

/** One option of the block: `manual` → { name: 'manual', value: undefined }. */
export interface StepOption {
  readonly name: string;
  readonly value: string | undefined;
}

export interface SplitStep {
  /** the options in written order; empty when the command has no option block */
  readonly options: readonly StepOption[];
  /** the command after the block (and the blanks after it) */
  readonly command: string;
  /** how many characters of the original text the block and its blanks took */
  readonly offset: number;
}

const BLOCK = /^\{([^{}]*)\}(?:[ \t]+|$)/;
const OPTION = /^([a-z][a-z0-9_-]*)(?:=([^,=]*))?$/;

/** Splits a step's text into its leading option block (if any) and its command. */
export function splitStepOptions(text: string): SplitStep {
  const lead = text.length - text.trimStart().length;
  const m = BLOCK.exec(text.slice(lead));
  if (!m) return { options: [], command: text, offset: 0 };
  const words = m[1]!.split(',').map((w) => w.trim());
  const options: StepOption[] = [];
  for (const word of words) {
    const o = OPTION.exec(word);
    if (!o) return { options: [], command: text, offset: 0 };
    options.push(Object.freeze({ name: o[1]!, value: o[2]?.trim() }));
  }
  const offset = lead + m[0].length;
  return { options: Object.freeze(options), command: text.slice(offset), offset };
}
