// pidfd: race-free process control for Node.js on Linux, through process file descriptors; run(), $ and the
// drop-in also on Node's own child_process where pidfds are not (src/engine-choice.ts).

export { spawn } from './process/spawn.js';
export { Subprocess } from './process/subprocess.js';
export { PidFd, ProcDir } from './process/pidfd.js';
export type { Ids, ProcessInfo } from './process/pidfd.js';
export type { KillTreeResult } from './process/kill-tree.js';
export type { Backend, SpawnOptions } from './process/options.js';
export type { StdioOption, StdioOptions, StreamWithFd } from './process/stdio.js';
export type { ExitStatus, Rusage } from './process/exit-status.js';
export { Cgroup } from './cgroup/cgroup.js';
export type { CgroupStats } from './cgroup/cgroup.js';
export type { CgroupSettings } from './cgroup/settings.js';
export { setupCgroupSubtree } from './cgroup/subtree.js';
export type { CgroupSubtree } from './cgroup/subtree.js';
export { SpawnError } from './errors.js';
export type { SystemErrorFields } from './errors.js';
export { support } from './support.js';
export type { Support, Features, Feature, CgroupSupport, Engines } from './support.js';
export type { EngineChoice, EngineName } from './engine-choice.js';
export type { Signal } from './signals.js';
export { run, runSync, $ } from './run/run.js';
export type { Dollar, DollarSync } from './run/run.js';
export type { RunSyncOptions } from './run/run-sync.js';
export { parseCommandString } from './run/parse-command.js';
export { within } from './run/scope.js';
export type { ScopeOptions } from './run/scope.js';
export type { VerboseOption } from './run/verbose.js';
export type { OutputFormats } from './run/formats.js';
export { RunProcess } from './run/run-process.js';
export type { PipedOptions, OutputSource, FromOptions, PipeOptions } from './run/run-process.js';
export { RunError } from './run/error.js';
export type { RunResult, RunFields } from './run/result.js';
export type { RunOptions, RunEncoding, RunInput, StdinOption, OutputOption, FileTarget } from './run/options.js';
export type { TemplateValue } from './run/template.js';
export type { TreeLimits, CgroupFigures } from './run/tree.js';
