// Which JavaScript runtime loaded the library, and so which exit watcher it gets.
//
// Each runtime is recognised by what it says of itself (process.versions.bun,
// process.versions.deno), never by a version number. The watcher cannot be chosen by a probe:
// Bun's uv_poll_init aborts the process (docs/runtimes.md).

/** The runtime: Node, or a runtime that implements Node's APIs over an event loop of its own. */
export type Runtime = 'node' | 'bun' | 'deno';

export const runtime: Runtime =
  process.versions.bun !== undefined ? 'bun' : process.versions.deno !== undefined ? 'deno' : 'node';

/** How readiness of the exit watcher's epoll set reaches the event loop (native/watch.h). */
export type WatcherName = 'uv_poll' | 'thread';

export interface WatcherChoice {
  name: WatcherName;
  /** Why this one. */
  reason: string;
  /** The PIDFD_WATCHER environment variable, when set. */
  forced: string | null;
}

/**
 * The exit watcher for this environment: a uv_poll handle where the event loop is libuv's
 * (Node), a thread with a threadsafe function where it is not (Bun's uv_poll_init aborts the
 * process; Deno's uv_poll fires once). PIDFD_WATCHER=thread|uv_poll chooses on Node (the test
 * suite's thread pass runs the thread there).
 */
export function watcherChoice(): WatcherChoice {
  const forced = process.env.PIDFD_WATCHER || null; // empty is unset
  if (runtime !== 'node') {
    const why = runtime === 'bun' ? "Bun's uv_poll functions abort the process" : "Deno's uv_poll reports readiness only once";
    const note = forced === 'uv_poll' ? ` (PIDFD_WATCHER=uv_poll is not honoured: ${why})` : '';
    return { name: 'thread', reason: `${runtime === 'bun' ? 'Bun' : 'Deno'}: the event loop is not libuv's${note}`, forced };
  }
  if (forced === 'thread' || forced === 'uv_poll') return { name: forced, reason: `forced by PIDFD_WATCHER=${forced}`, forced };
  const note = forced === null ? '' : ` (PIDFD_WATCHER=${forced} is not one of uv_poll, thread)`;
  return { name: 'uv_poll', reason: `Node: the event loop is libuv's${note}`, forced };
}
