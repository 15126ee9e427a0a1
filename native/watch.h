/*
 * watch.h: exit watching in the event loop.
 *
 * Every watched pidfd sits in one epoll set per environment (the main thread, each worker).
 * When that epoll fd is readable, the ready pidfds are reaped (or, for processes that are not
 * our children, their exit read through PIDFD_GET_INFO), and the whole batch goes to JavaScript
 * in one call. No SIGCHLD handler, no waitpid(-1), one JS call per loop turn however many
 * children exited.
 *
 * What tells the event loop that the epoll fd is readable has two implementations behind one
 * interface (struct pf_watch_impl, chosen at pf_watch_start):
 *  - uv_poll (watch_uv.c): one uv_poll handle on the epoll fd, where the runtime's event loop is
 *    real libuv (Node);
 *  - thread (watch_thread.c): a thread blocked in poll() on the epoll fd hands readiness to
 *    JavaScript through a napi_threadsafe_function and waits for that batch to be delivered
 *    before it polls again. It needs nothing of libuv: Bun and Deno, whose uv_poll is a stub
 *    (Bun aborts) or fires once (Deno).
 * Everything else, the reap, the records and the three kinds of watch, is shared (watch.c).
 */
#ifndef PIDFD_WATCH_H
#define PIDFD_WATCH_H

#include <node_api.h>
#include <stddef.h>

enum pf_watch_kind {
  PF_WATCH_CHILD = 0,   /* our child: reap with waitid, then close the pidfd */
  PF_WATCH_OBSERVE = 1, /* any process: read its exit with PIDFD_GET_INFO; the fd stays open */
  PF_WATCH_CGROUP = 2,  /* a cgroup's cgroup.events (the watcher's own fd): every change is
                         * reported; the watch ends, and the fd is closed, when it is empty */
  PF_WATCH_KIND_COUNT
};

extern const char *const pf_watch_kind_names[PF_WATCH_KIND_COUNT];

/* How readiness of the epoll fd reaches the event loop. */
enum pf_watch_impl_id {
  PF_WATCH_UV_POLL = 0, /* a uv_poll handle (watch_uv.c) */
  PF_WATCH_THREAD = 1,  /* a thread and a threadsafe function (watch_thread.c) */
  PF_WATCH_IMPL_COUNT
};

extern const char *const pf_watch_impl_names[PF_WATCH_IMPL_COUNT];

struct pf_watcher;

/* One implementation. Every function runs on the environment's JavaScript thread. */
struct pf_watch_impl {
  /* Starts waiting for w->epfd to be readable, then calls pf_watch_drain(w). 0 or -errno. */
  int (*start)(struct pf_watcher *w, napi_value on_exit);
  /* Whether the watcher keeps the event loop alive. */
  void (*loop_ref)(struct pf_watcher *w, int ref);
  /* Calls fn(argv[0], ...) from inside the implementation's callback, so that the microtask
   * queue runs afterwards as after any I/O callback. */
  napi_status (*call)(struct pf_watcher *w, napi_value fn, size_t argc, const napi_value *argv);
  /* Stops waiting, synchronously: after it, nothing of the implementation touches w->epfd or
   * calls pf_watch_drain. Safe from a plain environment cleanup hook (no JavaScript, no handle
   * scope: Deno has none there). */
  void (*stop)(struct pf_watcher *w);
};

extern const struct pf_watch_impl pf_watch_uv_poll_impl, pf_watch_thread_impl;

struct pf_watcher {
  napi_env env;
  int epfd;
  const struct pf_watch_impl *impl;
  enum pf_watch_impl_id impl_id;
  void *state;    /* the implementation's */
  int loop_ref;   /* what was last passed to impl->loop_ref (-1: nothing yet) */
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
  /* The Float64Array that batches are delivered in, made at the first and reused: room for
   * PF_BATCH records; the call says how many doubles of it are the batch. */
  napi_ref records;
  double *records_data;
};

/* Sets the watcher up for this environment with the implementation `impl`; on_exit receives
 * batches of exit records (exit.h) as (records, length): the first `length` doubles of a
 * Float64Array that is reused for the next batch. 0 or -errno. */
int pf_watch_start(struct pf_watcher *w, napi_env env, napi_value on_exit, enum pf_watch_impl_id impl);

/* For the implementations: the epoll fd is readable. Drains it, reaps, and delivers the batch
 * (through impl->call). On the JavaScript thread, with JavaScript allowed to run. */
void pf_watch_drain(struct pf_watcher *w);

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

/* The environment is going away (called from its plain cleanup hook, synchronously): the
 * implementation is stopped; children still running, and the cgroups of trees still living,
 * are handed to a thread (in an epoll set of their own) that reaps the children as they exit and
 * removes each cgroup directory once its tree is empty; observed fds are left to their owners,
 * which close them with the environment (owned.h). */
void pf_watch_stop(struct pf_watcher *w);

#endif
