// The pieces of the portable engine that are Windows' own, written from Microsoft's
// documentation (no Windows machine runs this project's tests: docs/runtimes.md); kept apart so
// that they can be unit-tested anywhere.

/**
 * The arguments of `taskkill` that end process `pid` and every process it started: /T ends the
 * tree (the processes whose parent-process id leads back to pid; one whose parent has already
 * exited is not found), /F forces the end (TerminateProcess: without it taskkill asks the windows
 * of the process to close, which a console program never sees). Documented at
 * https://learn.microsoft.com/windows-server/administration/windows-commands/taskkill.
 */
export function taskkillArguments(pid: number): string[] {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`taskkill: not a process id: ${pid}`);
  return ['/T', '/F', '/PID', String(pid)];
}

/**
 * The signals a run's tree may be sent on Windows: those that would end a process. Node (libuv's
 * uv_kill) turns SIGTERM, SIGINT, SIGKILL and SIGQUIT into TerminateProcess and fails any other
 * (but 0) with ENOSYS (Node's documentation, "Signal events"); SIGHUP is what Windows says when a
 * console closes. The tree is ended with taskkill /T /F for any of them: Windows has no signal
 * that a process may catch and act on, so killSignal's grace before SIGKILL means nothing there.
 */
export const windowsEndingSignals: ReadonlySet<string> = new Set(['SIGTERM', 'SIGINT', 'SIGKILL', 'SIGQUIT', 'SIGHUP']);
