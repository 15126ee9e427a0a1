/*
 * watch.h: exit watching in the event loop.
 *
 * Every watched pidfd sits in one epoll set per Node environment, and that epoll fd sits in the
 * event loop as a single uv_poll handle. When it is readable, the ready pidfds are reaped (or,
 * for processes that are not our children, their exit read through PIDFD_GET_INFO), and the
 * whole batch goes to JavaScript in one call. No SIGCHLD handler, no waitpid(-1), one JS call
 * per loop turn however many children exited.
 *
 * The design keeps the libuv part small: only the uv_poll on the epoll fd. A runtime without
 * real libuv handles (Bun, Deno) could wait on the same epoll fd from a thread and deliver the
 * batches through a threadsafe function.
 */
#ifndef PIDFD_WATCH_H
#define PIDFD_WATCH_H

#include <node_api.h>
#include <stddef.h>
#include <uv.h>

enum pf_watch_kind {
  PF_WATCH_CHILD = 0,   /* our child: reap with waitid, then close the pidfd */
  PF_WATCH_OBSERVE = 1, /* any process: read its exit with PIDFD_GET_INFO; the fd stays open */
};

/* How an exit record's status was obtained. */
enum pf_exit_how {
  PF_EXIT_WAITID = 0, /* waitid reaped it: status and rusage are real */
  PF_EXIT_INFO = 1,   /* PIDFD_GET_INFO gave the status (someone else reaped it; 6.15+) */
  PF_EXIT_LOST = 2,   /* nobody can tell: the record's errno says why */
  PF_EXIT_PENDING = 3, /* an observed process exited; its status comes when its parent reaps it */
};

/* One exit, as JavaScript receives it: PF_EXIT_FIELDS doubles per record. */
enum pf_exit_field {
  PF_EXIT_FD = 0,
  PF_EXIT_PID,
  PF_EXIT_HOW,
  PF_EXIT_CODE,   /* si_code (CLD_EXITED, CLD_KILLED, CLD_DUMPED), or the errno when lost */
  PF_EXIT_STATUS, /* exit code or signal number */
  PF_EXIT_UTIME_US,
  PF_EXIT_STIME_US,
  PF_EXIT_MAXRSS_KIB,
  PF_EXIT_MINFLT,
  PF_EXIT_MAJFLT,
  PF_EXIT_NVCSW,
  PF_EXIT_NIVCSW,
  PF_EXIT_FIELDS
};

struct pf_watcher {
  napi_env env;
  int epfd;
  uv_poll_t *poll;
  size_t watched; /* pidfds in the epoll set */
  size_t refs;    /* ... of which keep the event loop alive */
  napi_ref on_exit;
  napi_async_context async;
};

/* Sets the watcher up for this environment; on_exit receives Float64Array batches. */
int pf_watch_start(struct pf_watcher *w, napi_env env, napi_value on_exit);

/* Starts watching fd. Returns 0 or -errno. */
int pf_watch_add(struct pf_watcher *w, int fd, int kind, int ref);

/* Changes whether the watch on fd keeps the loop alive. Returns 0 or -errno. */
int pf_watch_set_ref(struct pf_watcher *w, int fd, int kind, int old_ref, int ref);

/* Stops watching fd without closing it (an observer closed by its owner). */
int pf_watch_remove(struct pf_watcher *w, int fd, int ref);

/* The environment is going away: children still running are handed to a thread that reaps them
 * when they exit; observed fds are closed. `done` runs once the uv handle is closed. */
void pf_watch_stop(struct pf_watcher *w, void (*done)(void *), void *arg);

#endif
