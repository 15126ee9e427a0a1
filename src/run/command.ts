// The command of a run as text: for results and messages, and for the shell when `shell` is on.

/** Characters that never need quoting for a POSIX shell. */
const plain = /^[\w@%+=:,./-]+$/;

/** `arg` quoted for a POSIX shell where it needs it: `it's` → `'it'\''s'`, '' → `''`. */
export function quoteForShell(arg: string): string {
  if (arg === '') return "''";
  if (plain.test(arg)) return arg;
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** The argv as one line, as given (`command`), and with each argument quoted where a shell
 * would need it (`escapedCommand`: a line that a shell runs as the same argv). */
export function commandLines(argv: readonly string[]): { command: string; escapedCommand: string } {
  return { command: argv.join(' '), escapedCommand: argv.map(quoteForShell).join(' ') };
}
