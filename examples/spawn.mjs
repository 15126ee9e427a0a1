// Run a command, stream its output, and report how it ended and what it cost.
//
//   node examples/spawn.mjs [command [args...]]     (default: ls -l /)

import { constants } from 'node:os';
import { pipeline } from 'node:stream/promises';

import { spawn, support } from '../dist/index.js';

const [command = 'ls', ...args] = process.argv.slice(2);
const commandArgs = process.argv.length > 2 ? args : ['-l', '/'];

const { backend, reason } = support();
console.error(`pidfd: spawning with ${backend} (${reason})`);

const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
console.error(`pidfd: started pid ${child.pid}, pidfd ${child.pidfd.fd}`);

// Forward Ctrl-C to the child, through its pidfd: it can never hit a recycled pid.
process.on('SIGINT', () => child.kill('SIGINT'));

// `exited` resolves when the child is reaped; its output may still be in the pipe, so wait for
// both.
const [status] = await Promise.all([child.exited, pipeline(child.stdout, process.stdout, { end: false })]);
const how = status.signal === null ? `exited with code ${status.code}` : `was killed by ${status.signal}`;
console.log(`pid ${status.pid} ${how}`);
if (status.rusage !== null) {
  const { userCPUTime, systemCPUTime, minorFaults } = status.rusage;
  console.log(`cpu: ${userCPUTime} µs user, ${systemCPUTime} µs system; ${minorFaults} minor faults`);
}
process.exitCode = status.code ?? 128 + constants.signals[status.signal];
