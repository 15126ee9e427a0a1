#!/usr/bin/env node
// The `pidfd` command: run, wait, info and kill, built on the library's public API.

// First of all, before the addon and the library load: SIGUSR1 must never open Node's inspector.
import './no-inspector.js';

import { readFileSync } from 'node:fs';

import { CommandError, UsageError } from './args.js';
import { info, infoHelp } from './info.js';
import { kill, killHelp } from './kill.js';
import { run, runHelp } from './run.js';
import { wait, waitHelp } from './wait.js';

const mainHelp = `Usage: pidfd <command> [options] ...

Race-free process control through process file descriptors (Linux 5.4+).

Commands:
  run   [options] -- CMD [ARG...]   run a command; forward signals; timeouts; resource report
  wait  [options] PID...            wait for any processes to exit, no polling, no child needed
  info  [--json] PID...             ids, parent, credentials, cgroup, stable id, command line
  kill  [-s SIG] [--expect-id ID] [--tree] PID...
                                    signal through a pidfd; with --expect-id, only that process

Run 'pidfd <command> --help' for a command's options and exit codes.
Options: -h, --help   this text;  -V, --version   the version
`;

interface Command {
  main(argv: string[]): Promise<number>;
  help: string;
  /** The exit code for a usage error. `run` uses 125 like timeout(1): its own code is the child's. */
  usageCode: number;
}

const commands: Record<string, Command> = {
  run: { main: run, help: runHelp, usageCode: 125 },
  wait: { main: wait, help: waitHelp, usageCode: 2 },
  info: { main: info, help: infoHelp, usageCode: 2 },
  kill: { main: kill, help: killHelp, usageCode: 2 },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(mainHelp);
    return name === undefined ? 2 : 0;
  }
  if (name === '-V' || name === '--version') {
    process.stdout.write(`pidfd ${version()}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`pidfd: unknown command ${JSON.stringify(name)}; the commands are run, wait, info, kill (see pidfd --help)\n`);
    return 2;
  }
  try {
    return await command.main(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`pidfd ${name}: ${error.message} (see pidfd ${name} --help)\n`);
      return command.usageCode;
    }
    if (error instanceof CommandError) {
      process.stderr.write(`pidfd ${name}: ${error.message}\n`);
      return 1;
    }
    const e = error as Error & { code?: string };
    process.stderr.write(`pidfd ${name}: ${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}\n`);
    return name === 'run' ? 125 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`pidfd: ${error.message}\n`);
    process.exitCode = 125;
  },
);
