/*
 * watch.c: exit watching, the part both implementations share (see watch.h for the design): the
 * epoll set and what each fd in it is, the drain that reaps and builds the records, the delivery
 * of a batch, and the hand-off of the children left when an environment ends.
 *
 * Ordering rules that keep fds and children from getting lost:
 *  - a pidfd leaves the epoll set before it is closed (epoll keys on the open file; a closed fd
 *    still in the set would keep reporting, and its number can be reused);
 *  - a child's pidfd is closed right after the reap, in the same callback that hands the record
 *    to JavaScript, so JavaScript never sees a number that is not ours any more;
 *  - the reap (exit.c) passes __WALL.
 */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit.h"
#include "pidfd.h"
#include "probe.h"

#define PF_BATCH 128

const char *const pf_watch_kind_names[PF_WATCH_KIND_COUNT] = {
    [PF_WATCH_CHILD] = "child",
    [PF_WATCH_OBSERVE] = "observe",
    [PF_WATCH_CGROUP] = "cgroup",
};

const char *const pf_watch_impl_names[PF_WATCH_IMPL_COUNT] = {
    [PF_WATCH_UV_POLL] = "uv_poll",
    [PF_WATCH_THREAD] = "thread",
};

static uint64_t pf_watch_key(int fd, int kind, int ref) {
  return (uint64_t)(uint32_t)fd | (uint64_t)(ref != 0) << 32 | (uint64_t)(kind & 3) << 33;
}

static int pf_key_fd(uint64_t key) { return (int)(uint32_t)key; }
static int pf_key_ref(uint64_t key) { return (int)(key >> 32 & 1); }
static int pf_key_kind(uint64_t key) { return (int)(key >> 33 & 3); }

/* What to wait for: a pidfd is readable when its process exits; a cgroup.events file is always
 * "readable" (kernfs) and signals a change with EPOLLPRI (and EPOLLERR), until it is read. */
static uint32_t pf_watch_events(int kind) { return kind == PF_WATCH_CGROUP ? EPOLLPRI : EPOLLIN; }

/* Records what fd is (0: nothing); returns -ENOMEM when the table cannot grow. */
static int pf_set_kind(struct pf_watcher *w, int fd, int kind_plus_one) {
  if ((size_t)fd >= w->nkinds) {
    if (kind_plus_one == 0) return 0;
    size_t n = w->nkinds == 0 ? 64 : w->nkinds;
    while (n <= (size_t)fd) n *= 2;
    unsigned char *grown = realloc(w->kinds, n);
    if (grown == NULL) return -ENOMEM;
    w->kinds = grown;
    char **dirs = realloc(w->cgroup_dirs, n * sizeof *dirs);
    if (dirs == NULL) return -ENOMEM;
    w->cgroup_dirs = dirs;
    memset(grown + w->nkinds, 0, n - w->nkinds);
    memset(dirs + w->nkinds, 0, (n - w->nkinds) * sizeof *dirs);
    w->nkinds = n;
  }
  w->kinds[fd] = (unsigned char)kind_plus_one;
  if (kind_plus_one == 0) {
    free(w->cgroup_dirs[fd]);
    w->cgroup_dirs[fd] = NULL;
  }
  return 0;
}

int pf_watch_kind_of(const struct pf_watcher *w, int fd) {
  if (fd < 0 || (size_t)fd >= w->nkinds || w->kinds[fd] == 0) return -1;
  return w->kinds[fd] - 1;
}

static void pf_update_ref(struct pf_watcher *w) {
  int ref = w->refs > 0;
  if (w->impl == NULL || w->loop_ref == ref) return;
  w->loop_ref = ref;
  w->impl->loop_ref(w, ref);
}

/* The batch's Float64Array (see struct pf_watcher), made at the first batch; NULL on failure. */
static napi_value pf_records_array(struct pf_watcher *w) {
  napi_env env = w->env;
  napi_value array, ab;
  void *data;
  napi_ref ref;
  if (w->records != NULL && napi_get_reference_value(env, w->records, &array) == napi_ok && array != NULL)
    return array;
  if (napi_create_arraybuffer(env, PF_BATCH * PF_EXIT_FIELDS * sizeof(double), &data, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, PF_BATCH * PF_EXIT_FIELDS, ab, 0, &array) != napi_ok ||
      napi_create_reference(env, array, 1, &ref) != napi_ok)
    return NULL;
  if (w->records != NULL) napi_delete_reference(env, w->records);
  w->records = ref;
  w->records_data = data;
  return array;
}

static void pf_deliver(struct pf_watcher *w, double *recs, size_t n) {
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value args[2], fn;
  if ((args[0] = pf_records_array(w)) != NULL &&
      napi_create_uint32(env, (uint32_t)(n * PF_EXIT_FIELDS), &args[1]) == napi_ok &&
      napi_get_reference_value(env, w->on_exit, &fn) == napi_ok) {
    /* One array for every batch, rather than a new ArrayBuffer (an off-heap allocation, freed by
     * the garbage collector) per exit: JavaScript reads a batch before it returns, and the next
     * batch is written only after that. */
    memcpy(w->records_data, recs, n * PF_EXIT_FIELDS * sizeof(double));
    /* An exception that escapes the call (the JavaScript side rethrows a handler's, after
     * delivering the rest of the batch) is handed to napi_fatal_exception: it reaches process
     * 'uncaughtException' like one from Node's own callbacks. Left pending, it would leave the
     * environment in an undefined state (seen: Node's event loop ended at the next turn; Node
     * swallows one left by a threadsafe function's callback with DEP0168, and Deno stalls). */
    bool pending = false;
    if (w->impl->call(w, fn, 2, args) != napi_ok &&
        napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }
  napi_close_handle_scope(env, scope);
}

void pf_watch_drain(struct pf_watcher *w) {
  struct epoll_event evs[PF_BATCH];
  double recs[PF_BATCH * PF_EXIT_FIELDS];

  for (;;) {
    int k = epoll_wait(w->epfd, evs, PF_BATCH, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    size_t n = 0;
    for (int i = 0; i < k; i++) {
      uint64_t key = evs[i].data.u64;
      int fd = pf_key_fd(key);
      double *rec = recs + n * PF_EXIT_FIELDS;
      rec[PF_EXIT_FD] = fd;
      rec[PF_EXIT_PID] = 0; /* filled by the reap when waitid reports it */
      int done;
      if (pf_key_kind(key) == PF_WATCH_CGROUP) {
        /* Every change is reported; the watch ends when the tree is empty. Reading the file is
         * what re-arms kernfs's notification. */
        if (pf_exit_from_cgroup_events(fd, rec) < 0) continue;
        if (rec[PF_EXIT_CODE] != 0) {
          n++;
          continue;
        }
        done = 1;
      } else if (pf_key_kind(key) == PF_WATCH_CHILD) {
        done = pf_exit_from_reap(fd, rec);
        if (done < 0) {
          /* Exited and reaped elsewhere, the status not final until POLLHUP (exit.h): wait for
           * that alone (EPOLLHUP is always reported), or the level-triggered EPOLLIN would
           * bring this callback back at every turn until then. */
          struct epoll_event ev = {.events = 0, .data.u64 = key};
          epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev);
          continue;
        }
      } else {
        /* An observed process: readable at its exit, PIDFD_INFO_EXIT at its reap (then the
         * pidfd also reports POLLHUP). Without PIDFD_INFO_EXIT there is nothing to wait for. */
        int final = (evs[i].events & EPOLLHUP) || !pf_support_get()->pidfd_info_exit.ok;
        done = pf_exit_from_info(fd, rec, final);
        if (!done) {
          /* Tell JavaScript it exited, and wait for the reap (EPOLLHUP is always reported). */
          struct epoll_event ev = {.events = 0, .data.u64 = key};
          epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev);
          rec[PF_EXIT_HOW] = PF_EXIT_PENDING;
          n++;
          continue;
        }
      }
      if (!done) continue;
      epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
      pf_set_kind(w, fd, 0);
      w->watched--;
      if (pf_key_ref(key)) w->refs--;
      if (pf_key_kind(key) != PF_WATCH_OBSERVE) close(fd);
      n++;
    }
    pf_update_ref(w);
    if (n > 0) pf_deliver(w, recs, n);
    /* The delivery ran JavaScript, which may have ended the environment's watching. */
    if (k < PF_BATCH || w->epfd < 0) break;
  }
}

int pf_watch_start(struct pf_watcher *w, napi_env env, napi_value on_exit, enum pf_watch_impl_id impl) {
  memset(w, 0, sizeof *w);
  w->env = env;
  w->loop_ref = -1;
  w->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (w->epfd < 0) return -errno;
  if (napi_create_reference(env, on_exit, 1, &w->on_exit) != napi_ok) {
    close(w->epfd);
    w->epfd = -1;
    return -ENOMEM;
  }
  w->impl_id = impl;
  w->impl = impl == PF_WATCH_THREAD ? &pf_watch_thread_impl : &pf_watch_uv_poll_impl;
  int r = w->impl->start(w, on_exit);
  if (r < 0) {
    w->impl = NULL;
    napi_delete_reference(env, w->on_exit);
    w->on_exit = NULL;
    close(w->epfd);
    w->epfd = -1;
    return r;
  }
  pf_update_ref(w);
  return 0;
}

int pf_watch_add(struct pf_watcher *w, int fd, int kind, int ref) {
  struct epoll_event ev = {.events = pf_watch_events(kind), .data.u64 = pf_watch_key(fd, kind, ref)};
  if (pf_set_kind(w, fd, kind + 1) < 0) return -ENOMEM;
  if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    pf_set_kind(w, fd, 0);
    return -err;
  }
  w->watched++;
  if (ref) w->refs++;
  pf_update_ref(w);
  return 0;
}

int pf_watch_set_ref(struct pf_watcher *w, int fd, int kind, int old_ref, int ref) {
  if (!old_ref == !ref) return 0;
  struct epoll_event ev = {.events = pf_watch_events(kind), .data.u64 = pf_watch_key(fd, kind, ref)};
  if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev) != 0) return -errno;
  if (ref)
    w->refs++;
  else
    w->refs--;
  pf_update_ref(w);
  return 0;
}

int pf_watch_remove(struct pf_watcher *w, int fd, int ref) {
  int cgroup = pf_watch_kind_of(w, fd) == PF_WATCH_CGROUP;
  if (epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL) != 0) return -errno;
  pf_set_kind(w, fd, 0);
  if (cgroup) close(fd); /* the watcher's own fd */
  w->watched--;
  if (ref) w->refs--;
  pf_update_ref(w);
  return 0;
}

int pf_watch_cgroup(struct pf_watcher *w, const char *dir, int ref) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/cgroup.events", dir) >= sizeof path) return -ENAMETOOLONG;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char *copy = strdup(dir);
  int r = copy == NULL ? -ENOMEM : pf_watch_add(w, fd, PF_WATCH_CGROUP, ref);
  if (r < 0) {
    free(copy);
    close(fd);
    return r;
  }
  w->cgroup_dirs[fd] = copy;
  /* A tree that emptied before the watch began gives no event: look once now. */
  double rec[PF_EXIT_FIELDS];
  if (pf_exit_from_cgroup_events(fd, rec) == 1 && rec[PF_EXIT_CODE] == 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = pf_watch_key(fd, PF_WATCH_CGROUP, ref)};
    epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev); /* always ready: delivered at the next turn */
  }
  return fd;
}

/* Removes a cgroup directory and the cgroups the workload made inside it, deepest first. */
static void pf_rmdir_tree(const char *dir) {
  if (rmdir(dir) == 0 || errno != EBUSY) return;
  DIR *d = opendir(dir);
  if (d == NULL) return;
  struct dirent *e;
  char sub[4096];
  while ((e = readdir(d)) != NULL) {
    if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) < sizeof sub) pf_rmdir_tree(sub);
  }
  closedir(d);
  rmdir(dir);
}

/* What an environment that has gone away leaves to a thread: children to reap as they exit, and
 * cgroups to remove once their trees are empty, in an epoll set of their own. */
struct pf_orphans {
  int epfd;
  size_t left;
  char **dirs; /* by fd, for the cgroups */
  size_t ndirs;
};

static void *pf_reap_orphans(void *arg) {
  struct pf_orphans *o = arg;
  struct epoll_event evs[PF_BATCH];
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  while (o->left > 0) {
    int k = epoll_wait(o->epfd, evs, PF_BATCH, -1);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) break;
    for (int i = 0; i < k; i++) {
      int fd = pf_key_fd(evs[i].data.u64);
      if (pf_key_kind(evs[i].data.u64) == PF_WATCH_CGROUP) {
        double rec[PF_EXIT_FIELDS];
        if (pf_exit_from_cgroup_events(fd, rec) == 1 && rec[PF_EXIT_CODE] != 0) continue;
        pf_rmdir_tree(o->dirs[fd]);
        free(o->dirs[fd]);
        o->dirs[fd] = NULL;
      } else {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        int r = pf_waitid_pidfd(fd, &si, WEXITED | WNOHANG | PF_WALL, NULL);
        if (r == 0 && si.si_pid == 0) continue;
      }
      epoll_ctl(o->epfd, EPOLL_CTL_DEL, fd, NULL);
      close(fd);
      o->left--;
    }
  }
  close(o->epfd);
  free(o->dirs);
  free(o);
  return NULL;
}

/* Moves the children still running, and the cgroups of trees still living, into an epoll set of
 * their own, for a detached thread. The observed fds stay behind: their owners close them.
 * Returns the number handed over (their fds are the thread's now); 0 when there were none, or
 * when the thread could not be started: then the children are killed and reaped here (a child
 * must never be left unreaped), and the cgroups are closed and left as they are. */
static size_t pf_hand_orphans_to_reaper(struct pf_watcher *w) {
  size_t left = 0;
  for (size_t fd = 0; fd < w->nkinds; fd++)
    left += w->kinds[fd] == PF_WATCH_CHILD + 1 || w->kinds[fd] == PF_WATCH_CGROUP + 1;
  if (left == 0) return 0;
  struct pf_orphans *o = calloc(1, sizeof *o);
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  pthread_t t;
  pthread_attr_t attr;
  int ok = o != NULL && epfd >= 0;
  for (size_t fd = 0; ok && fd < w->nkinds; fd++) {
    int kind = (int)w->kinds[fd] - 1;
    if (kind != PF_WATCH_CHILD && kind != PF_WATCH_CGROUP) continue;
    struct epoll_event ev = {.events = pf_watch_events(kind), .data.u64 = pf_watch_key((int)fd, kind, 0)};
    ok = epoll_ctl(epfd, EPOLL_CTL_ADD, (int)fd, &ev) == 0;
  }
  if (ok) {
    o->epfd = epfd;
    o->left = left;
    o->dirs = w->cgroup_dirs;
    o->ndirs = w->nkinds;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    ok = pthread_create(&t, &attr, pf_reap_orphans, o) == 0;
    pthread_attr_destroy(&attr);
  }
  if (ok) {
    w->cgroup_dirs = NULL; /* the thread's now */
    return left;
  }
  free(o);
  if (epfd >= 0) close(epfd);
  for (size_t fd = 0; fd < w->nkinds; fd++) {
    if (w->kinds[fd] == PF_WATCH_CGROUP + 1) {
      close((int)fd);
      continue;
    }
    if (w->kinds[fd] != PF_WATCH_CHILD + 1) continue;
    siginfo_t si;
    pf_pidfd_send_signal((int)fd, SIGKILL, 0);
    pf_waitid_pidfd((int)fd, &si, WEXITED | PF_WALL, NULL);
    close((int)fd);
  }
  return 0;
}

void pf_watch_stop(struct pf_watcher *w) {
  if (w->impl != NULL) w->impl->stop(w);
  w->impl = NULL;
  /* Only references are deleted: no handle is created (Deno has no handle scope here). */
  if (w->on_exit != NULL) napi_delete_reference(w->env, w->on_exit);
  w->on_exit = NULL;
  if (w->records != NULL) napi_delete_reference(w->env, w->records);
  w->records = NULL;
  w->records_data = NULL;
  /* After the implementation stopped: nothing else has the epoll fd in a set or a poll. */
  pf_hand_orphans_to_reaper(w);
  if (w->epfd >= 0) close(w->epfd);
  w->epfd = -1;
  if (w->cgroup_dirs != NULL)
    for (size_t fd = 0; fd < w->nkinds; fd++) free(w->cgroup_dirs[fd]);
  free(w->cgroup_dirs);
  free(w->kinds);
  w->cgroup_dirs = NULL;
  w->kinds = NULL;
  w->nkinds = 0;
}
