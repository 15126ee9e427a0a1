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
  PF_WATCH_CGROUP = 2,  /* a cgroup's cgroup.events (the watcher's own fd): every change is
                         * reported; the watch ends, and the fd is closed, when it is empty */
  PF_WATCH_KIND_COUNT
};

extern const char *const pf_watch_kind_names[PF_WATCH_KIND_COUNT];

struct pf_watcher {
  napi_env env;
  int epfd;
  uv_poll_t *poll;
  size_t watched; /* pidfds in the epoll set */
  size_t refs;    /* ... of which keep the event loop alive */
  /* What each fd number in the set is: 0 (not watched) or 1 + enum pf_watch_kind, indexed by fd
   * (fd numbers are small: the lowest free one is always taken). */
  unsigned char *kinds;
  size_t nkinds;
  /* For a PF_WATCH_CGROUP fd: the cgroup's directory (malloc'd), removed by the reaper thread
   * if the environment ends before the tree does. Indexed like kinds. */
  char **cgroup_dirs;
  napi_ref on_exit;
  napi_async_context async;
};

/* Sets the watcher up for this environment; on_exit receives Float64Array batches of exit
 * records (exit.h). */
int pf_watch_start(struct pf_watcher *w, napi_env env, napi_value on_exit);

/* Starts watching fd. Returns 0 or -errno. */
int pf_watch_add(struct pf_watcher *w, int fd, int kind, int ref);

/* Changes whether the watch on fd keeps the loop alive. Returns 0 or -errno. */
int pf_watch_set_ref(struct pf_watcher *w, int fd, int kind, int old_ref, int ref);

/* Stops watching fd: an observed process's fd stays open (its PidFd owns it); a cgroup watch's
 * fd, the watcher's own, is closed. */
int pf_watch_remove(struct pf_watcher *w, int fd, int ref);

/* Watches the cgroup directory `dir`: opens its cgroup.events and reports every change. Returns
 * the fd (the watcher's: closed when the tree is empty, or by pf_watch_remove), or -errno. */
int pf_watch_cgroup(struct pf_watcher *w, const char *dir, int ref);

/* How fd is watched: -1 (not), or enum pf_watch_kind. */
int pf_watch_kind_of(const struct pf_watcher *w, int fd);

/* The environment is going away: children still running, and the cgroups of trees still living,
 * are handed to a thread (in an epoll set of their own) that reaps the children as they exit and
 * removes each cgroup directory once its tree is empty; observed fds are left to their owners,
 * which close them with the environment (owned.h). `done` runs once the uv handle is closed. */
void pf_watch_stop(struct pf_watcher *w, void (*done)(void *), void *arg);

#endif
