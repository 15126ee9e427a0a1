/*
 * js_api.c: the Node-API entry points. Each one unwraps its arguments, calls the C core and
 * wraps the result. Outcomes (a failed spawn, ESRCH) come back as values (-errno, or an object
 * with `errno`), for TypeScript to turn into errors with context; only misuse of the binding
 * itself (wrong argument types, which src/binding.ts never sends) throws here.
 */
#include "js_api.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "env.h"
#include "pidfd.h"
#include "probe.h"
#include "spawn.h"
#include "watch.h"

/* ---- argument helpers: throw a TypeError naming the argument, return 0 on failure ---- */

static int pf_throw_type(napi_env env, const char *what) {
  napi_throw_type_error(env, "ERR_PIDFD_BINDING", what);
  return 0;
}

static int pf_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want)
    return pf_throw_type(env, "binding: too few arguments");
  return 1;
}

static int pf_to_int(napi_env env, napi_value v, const char *name, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) return pf_throw_type(env, name);
  return 1;
}

static int pf_to_double(napi_env env, napi_value v, const char *name, double *out) {
  if (napi_get_value_double(env, v, out) != napi_ok) return pf_throw_type(env, name);
  return 1;
}

static int pf_to_bool(napi_env env, napi_value v, const char *name, int *out) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return pf_throw_type(env, name);
  *out = b;
  return 1;
}

static int pf_prop(napi_env env, napi_value obj, const char *key, napi_value *out) {
  if (napi_get_named_property(env, obj, key, out) != napi_ok) return pf_throw_type(env, key);
  return 1;
}

static int pf_prop_int(napi_env env, napi_value obj, const char *key, int32_t *out) {
  napi_value v;
  return pf_prop(env, obj, key, &v) && pf_to_int(env, v, key, out);
}

static int pf_prop_double(napi_env env, napi_value obj, const char *key, double *out) {
  napi_value v;
  return pf_prop(env, obj, key, &v) && pf_to_double(env, v, key, out);
}

static int pf_prop_bool(napi_env env, napi_value obj, const char *key, int *out) {
  napi_value v;
  return pf_prop(env, obj, key, &v) && pf_to_bool(env, v, key, out);
}

/* A typed array's elements; *present is 0 for null/undefined. An empty typed array may have no
 * backing store, and then its data pointer is NULL: only *present tells it from null. */
static int pf_prop_typed(napi_env env, napi_value obj, const char *key, napi_typedarray_type want,
                         void **data, size_t *length, int *present) {
  napi_value v;
  napi_valuetype t;
  bool is_typed;
  *data = NULL;
  *length = 0;
  *present = 0;
  if (!pf_prop(env, obj, key, &v) || napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) return 1;
  *present = 1;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok || type != want)
    return pf_throw_type(env, key);
  return 1;
}

/* A string property copied out as UTF-8 into malloc'd memory, or NULL for null. */
static int pf_prop_string(napi_env env, napi_value obj, const char *key, char **out,
                          size_t *len_out) {
  napi_value v;
  napi_valuetype t;
  size_t len;
  *out = NULL;
  if (!pf_prop(env, obj, key, &v) || napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) return 1;
  if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok)
    return pf_throw_type(env, key);
  *out = malloc(len + 1);
  if (*out == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return 0;
  }
  napi_get_value_string_utf8(env, v, *out, len + 1, &len);
  if (len_out != NULL) *len_out = len;
  return 1;
}

static napi_value pf_int(napi_env env, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  return v;
}

static void pf_set_int(napi_env env, napi_value obj, const char *key, int64_t n) {
  napi_set_named_property(env, obj, key, pf_int(env, n));
}

static void pf_set_str(napi_env env, napi_value obj, const char *key, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

static void pf_set_bool(napi_env env, napi_value obj, const char *key, int b) {
  napi_value v;
  napi_get_boolean(env, b != 0, &v);
  napi_set_named_property(env, obj, key, v);
}

static struct pf_env *pf_started_env(napi_env env) {
  struct pf_env *e = pf_env_get(env);
  if (e != NULL && !e->started) {
    napi_throw_error(env, "ERR_PIDFD_BINDING", "binding: init() was not called");
    return NULL;
  }
  return e;
}

/* ---- init(onExit) ---- */

napi_value js_init(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!pf_get_args(env, info, 1, argv)) return NULL;
  struct pf_env *e = pf_env_get(env);
  if (e == NULL) return NULL;
  if (!e->started) {
    int r = pf_watch_start(&e->watcher, env, argv[0]);
    if (r < 0) return pf_int(env, r);
    e->started = 1;
  }
  return pf_int(env, 0);
}

/* ---- support() ---- */

static void pf_set_feature(napi_env env, napi_value obj, const char *key,
                           const struct pf_feature *f) {
  napi_value v;
  napi_create_object(env, &v);
  pf_set_bool(env, v, "ok", f->ok);
  pf_set_bool(env, v, "probed", f->probed);
  pf_set_int(env, v, "errno", f->err);
  napi_set_named_property(env, obj, key, v);
}

napi_value js_support(napi_env env, napi_callback_info info) {
  (void)info;
  const struct pf_support *s = pf_support_get();
  static const char *const names[] = {"none", "clone3", "clone", "fork"};
  napi_value obj;
  napi_create_object(env, &obj);
  pf_set_str(env, obj, "kernel", s->kernel);
  pf_set_str(env, obj, "backend", names[pf_backend_current()]);
  pf_set_str(env, obj, "probedBackend", names[s->backend]);
  pf_set_bool(env, obj, "forced", s->forced);
  pf_set_str(env, obj, "forcedName", s->forced_name);
  pf_set_feature(env, obj, "pidfdOpen", &s->pidfd_open);
  pf_set_feature(env, obj, "waitidPidfd", &s->waitid_pidfd);
  pf_set_feature(env, obj, "clone3", &s->clone3);
  pf_set_feature(env, obj, "clone3Spawn", &s->clone3_spawn);
  pf_set_feature(env, obj, "cloneSpawn", &s->clone_spawn);
  pf_set_feature(env, obj, "forkSpawn", &s->fork_spawn);
  pf_set_feature(env, obj, "vmShared", &s->vm_shared);
  pf_set_feature(env, obj, "closeRange", &s->close_range);
  pf_set_feature(env, obj, "pidfdThread", &s->pidfd_thread);
  pf_set_feature(env, obj, "pidfs", &s->pidfs);
  pf_set_feature(env, obj, "pidfdInfo", &s->pidfd_info);
  pf_set_feature(env, obj, "pidfdInfoExit", &s->pidfd_info_exit);
  return obj;
}

/* ---- spawn(plan) ---- */

/* stdio kinds, as src/binding.ts encodes them */
enum { PF_STDIO_FD = 0, PF_STDIO_DEVNULL, PF_STDIO_PIPE_IN, PF_STDIO_PIPE_OUT, PF_STDIO_SOCKET };

struct pf_plan_memory {
  char *strings;
  char **ptrs;
  struct pf_fd_action *fds;
  int *parent_ends; /* per stdio entry: the parent's end of a pipe, or -1 */
  int *child_ends;  /* per stdio entry: the child's end, closed after the spawn */
  size_t nstdio;
  char *cgroup_path;
  int cgroup_fd_owned;
};

static void pf_plan_memory_free(struct pf_plan_memory *m, int close_parent_ends) {
  for (size_t i = 0; i < m->nstdio; i++) {
    if (m->child_ends != NULL && m->child_ends[i] >= 0) close(m->child_ends[i]);
    if (close_parent_ends && m->parent_ends != NULL && m->parent_ends[i] >= 0)
      close(m->parent_ends[i]);
  }
  if (m->cgroup_fd_owned >= 0) close(m->cgroup_fd_owned);
  free(m->strings);
  free(m->ptrs);
  free(m->fds);
  free(m->parent_ends);
  free(m->child_ends);
  free(m->cgroup_path);
}

static napi_value pf_spawn_failure(napi_env env, int err, const char *syscall, int step, int index,
                                   const unsigned char *raw, int raw_len) {
  napi_value obj;
  napi_create_object(env, &obj);
  pf_set_int(env, obj, "errno", err);
  pf_set_str(env, obj, "syscall", syscall);
  pf_set_int(env, obj, "step", step);
  pf_set_int(env, obj, "index", index);
  if (raw_len > 0) {
    napi_value buf;
    void *data;
    if (napi_create_buffer_copy(env, (size_t)raw_len, raw, &data, &buf) == napi_ok)
      napi_set_named_property(env, obj, "raw", buf);
  }
  return obj;
}

/* Splits the NUL-joined strings into the plan's three vectors and the cwd.
 *
 * nenv -1 means "this process's environment as it is now": the strings then hold no envp, and
 * envp is a copy of the `environ` pointer array. Node's main thread keeps process.env in environ
 * itself (every assignment is a setenv), and reading it here spares a spawn the round trip of
 * every variable through Node's environment interceptor, which was the largest JavaScript cost
 * of a spawn (docs/benchmarks.md). Only the array is copied: another thread's setenv may
 * reallocate it, but glibc never frees the strings. */
static int pf_unpack_strings(napi_env env, napi_value plan, struct pf_plan_memory *m,
                             struct pf_child_plan *p) {
  int32_t npaths, nargv, nenv;
  int has_cwd;
  size_t len;
  if (!pf_prop_int(env, plan, "npaths", &npaths) || !pf_prop_int(env, plan, "nargv", &nargv) ||
      !pf_prop_int(env, plan, "nenv", &nenv) || !pf_prop_bool(env, plan, "hasCwd", &has_cwd) ||
      !pf_prop_string(env, plan, "strings", &m->strings, &len))
    return 0;
  if (m->strings == NULL || npaths < 1 || nargv < 0 || nenv < -1)
    return pf_throw_type(env, "binding: bad strings");
  int inherit = nenv == -1;
  size_t given = inherit ? 0 : (size_t)nenv; /* envp entries in the strings */
  size_t nenvp = given;
  if (inherit)
    for (char **e = environ; *e != NULL; e++) nenvp++;
  size_t total = (size_t)npaths + (size_t)nargv + given + (has_cwd ? 1 : 0);
  m->ptrs = calloc((size_t)npaths + (size_t)nargv + nenvp + (has_cwd ? 1 : 0) + 3, sizeof *m->ptrs);
  if (m->ptrs == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return 0;
  }
  /* Layout of ptrs: paths NULL argv NULL envp NULL [cwd] */
  char **paths = m->ptrs;
  char **argv = paths + npaths + 1;
  char **envp = argv + nargv + 1;
  char **cwd = envp + nenvp + 1;
  char *s = m->strings, *end = m->strings + len;
  size_t k = 0;
  while (k < total && s <= end) {
    char **slot = k < (size_t)npaths                     ? &paths[k]
                  : k < (size_t)(npaths + nargv)          ? &argv[k - npaths]
                  : k < (size_t)(npaths + nargv) + given  ? &envp[k - npaths - nargv]
                                                          : cwd;
    *slot = s;
    s += strlen(s) + 1;
    k++;
  }
  if (k != total) return pf_throw_type(env, "binding: strings and counts disagree");
  if (inherit) memcpy(envp, environ, nenvp * sizeof *envp);
  paths[npaths] = NULL;
  argv[nargv] = NULL;
  envp[nenvp] = NULL;
  p->paths = paths;
  p->argv = argv;
  p->envp = envp;
  p->cwd = has_cwd ? *cwd : NULL;
  return 1;
}

/* Reads the stdio triples (target, kind, fd), checks the parent's fds, creates the pipes. On an
 * outcome failure returns 0 with *fail set; on misuse returns 0 with an exception pending. */
static int pf_prepare_stdio(napi_env env, napi_value plan, struct pf_plan_memory *m,
                            struct pf_child_plan *p, napi_value *fail) {
  int32_t *triples;
  size_t n;
  int present;
  if (!pf_prop_typed(env, plan, "stdio", napi_int32_array, (void **)&triples, &n, &present))
    return 0;
  if (triples == NULL || n % 3 != 0) return pf_throw_type(env, "binding: stdio");
  m->nstdio = n / 3;
  m->fds = calloc(m->nstdio + 1, sizeof *m->fds);
  m->parent_ends = malloc((m->nstdio + 1) * sizeof(int));
  m->child_ends = malloc((m->nstdio + 1) * sizeof(int));
  if (m->fds == NULL || m->parent_ends == NULL || m->child_ends == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return 0;
  }
  for (size_t i = 0; i < m->nstdio; i++) m->parent_ends[i] = m->child_ends[i] = -1;

  int last_target = -1;
  for (size_t i = 0; i < m->nstdio; i++) {
    int target = triples[3 * i], kind = triples[3 * i + 1], fd = triples[3 * i + 2];
    if (target <= last_target) return pf_throw_type(env, "binding: stdio targets not ascending");
    last_target = target;
    m->fds[i].target = target;
    /* A user's fd is checked here, before we create any fd of our own that could take its number
     * if it is closed. */
    if (kind == PF_STDIO_FD && fcntl(fd, F_GETFD) < 0) {
      *fail = pf_spawn_failure(env, errno, "fcntl", -1, (int)i, NULL, 0);
      return 0;
    }
  }
  for (size_t i = 0; i < m->nstdio; i++) {
    int kind = triples[3 * i + 1], fd = triples[3 * i + 2];
    int pair[2], r = 0;
    const char *what = "pipe2";
    switch (kind) {
      case PF_STDIO_FD:
        m->fds[i].source = fd;
        continue;
      case PF_STDIO_DEVNULL:
        m->fds[i].source = PF_SRC_DEVNULL;
        continue;
      case PF_STDIO_PIPE_IN: /* the child reads */
        r = pf_parent_fault(p, PF_PARENT_PIPE) ? (errno = EMFILE, -1) : pipe2(pair, O_CLOEXEC);
        if (r == 0) {
          m->child_ends[i] = pair[0];
          m->parent_ends[i] = pair[1];
        }
        break;
      case PF_STDIO_PIPE_OUT: /* the child writes */
        r = pf_parent_fault(p, PF_PARENT_PIPE) ? (errno = EMFILE, -1) : pipe2(pair, O_CLOEXEC);
        if (r == 0) {
          m->child_ends[i] = pair[1];
          m->parent_ends[i] = pair[0];
        }
        break;
      case PF_STDIO_SOCKET:
        what = "socketpair";
        r = pf_parent_fault(p, PF_PARENT_PIPE) ? (errno = EMFILE, -1)
                                                : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
        if (r == 0) {
          m->child_ends[i] = pair[1];
          m->parent_ends[i] = pair[0];
        }
        break;
      default:
        return pf_throw_type(env, "binding: stdio kind");
    }
    if (r != 0) {
      *fail = pf_spawn_failure(env, errno, what, -1, (int)i, NULL, 0);
      return 0;
    }
    /* With its own fds 0-2 closed, the parent gets pipe ends there; Node's streams must not end
     * up on them (libuv never closes 0-2, and process.stdout would open onto our pipe). */
    if (m->parent_ends[i] < 3) {
      int moved = fcntl(m->parent_ends[i], F_DUPFD_CLOEXEC, 3);
      if (moved < 0) {
        *fail = pf_spawn_failure(env, errno, "fcntl", -1, (int)i, NULL, 0);
        return 0;
      }
      close(m->parent_ends[i]);
      m->parent_ends[i] = moved;
    }
    m->fds[i].source = m->child_ends[i];
  }
  p->fds = m->fds;
  p->nfds = (int)m->nstdio;
  p->max_target = last_target;
  return 1;
}

static int pf_prepare_identity(napi_env env, napi_value plan, struct pf_child_plan *p) {
  double uid, gid;
  void *groups;
  size_t ngroups;
  int32_t pgid, pdeathsig;
  if (!pf_prop_bool(env, plan, "setsid", &p->setsid) || !pf_prop_int(env, plan, "pgid", &pgid) ||
      !pf_prop_double(env, plan, "uid", &uid) || !pf_prop_double(env, plan, "gid", &gid) ||
      !pf_prop_typed(env, plan, "groups", napi_uint32_array, &groups, &ngroups, &p->set_groups) ||
      !pf_prop_int(env, plan, "pdeathsig", &pdeathsig) ||
      !pf_prop_int(env, plan, "fault", &p->fault) ||
      !pf_prop_int(env, plan, "faultArg", &p->fault_arg))
    return 0;
  p->pgid = pgid;
  p->set_uid = uid >= 0;
  p->uid = p->set_uid ? (uid_t)uid : 0;
  p->set_gid = gid >= 0;
  p->gid = p->set_gid ? (gid_t)gid : 0;
  p->groups = groups; /* NULL for groups: [], which setgroups(0, NULL) takes */
  p->ngroups = (int)ngroups;
  p->pdeathsig = pdeathsig;
  return 1;
}

napi_value js_spawn(napi_env env, napi_callback_info info) {
  napi_value argv[1], result = NULL, fail = NULL;
  struct pf_plan_memory m;
  struct pf_child_plan p;
  struct pf_spawn_result out;
  int32_t cgroup_fd;
  int ref;

  memset(&m, 0, sizeof m);
  m.cgroup_fd_owned = -1;
  memset(&p, 0, sizeof p);
  if (!pf_get_args(env, info, 1, argv)) return NULL;
  struct pf_env *e = pf_started_env(env);
  if (e == NULL) return NULL;
  napi_value plan = argv[0];

  if (!pf_unpack_strings(env, plan, &m, &p) || !pf_prepare_identity(env, plan, &p) ||
      !pf_prop_int(env, plan, "cgroupFd", &cgroup_fd) ||
      !pf_prop_string(env, plan, "cgroupPath", &m.cgroup_path, NULL) ||
      !pf_prop_bool(env, plan, "ref", &ref))
    goto done;

  const struct pf_support *sup = pf_support_get();
  int backend = pf_backend_current();
  p.use_close_range = sup->close_range.ok;
  if (backend == PF_BACKEND_NONE) {
    result = pf_spawn_failure(env, ENOSYS, "spawn", -1, -1, NULL, 0);
    goto done;
  }

  if ((cgroup_fd >= 0 || m.cgroup_path != NULL) && backend != PF_BACKEND_CLONE3) {
    /* CLONE_INTO_CGROUP exists only in clone3; glibc has no fallback either. */
    result = pf_spawn_failure(env, ENOTSUP, "clone3", -1, -1, NULL, 0);
    goto done;
  }

  if (!pf_prepare_stdio(env, plan, &m, &p, &fail)) {
    result = fail;
    goto done;
  }

  if (m.cgroup_path != NULL) {
    m.cgroup_fd_owned = pf_parent_fault(&p, PF_PARENT_CGROUP)
                            ? (errno = EMFILE, -1)
                            : open(m.cgroup_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (m.cgroup_fd_owned < 0) {
      result = pf_spawn_failure(env, errno, "open", -1, -1, NULL, 0);
      goto done;
    }
    cgroup_fd = m.cgroup_fd_owned;
  }

  int r = pf_spawn(&e->stack, backend, &p, cgroup_fd, &out);
  if (r < 0 && out.step < 0 && backend == PF_BACKEND_CLONE3 && cgroup_fd < 0) {
    /* clone3 refused after the probe said yes: a seccomp filter installed since. */
    int next = pf_backend_demote(out.err);
    if (next != PF_BACKEND_NONE && next != backend) r = pf_spawn(&e->stack, next, &p, -1, &out);
  }
  if (r < 0) {
    result = pf_spawn_failure(env, out.err, out.syscall, out.step, out.index, out.raw, out.raw_len);
    goto done;
  }

  r = pf_parent_fault(&p, PF_PARENT_WATCH) ? -ENOSPC
                                            : pf_watch_add(&e->watcher, out.pidfd, PF_WATCH_CHILD, ref);
  if (r < 0) {
    /* Nobody would ever reap it: take it down now. */
    siginfo_t si;
    pf_pidfd_send_signal(out.pidfd, SIGKILL, 0);
    pf_waitid_pidfd(out.pidfd, &si, WEXITED | PF_WALL, NULL);
    close(out.pidfd);
    result = pf_spawn_failure(env, -r, "epoll_ctl", -1, -1, NULL, 0);
    goto done;
  }

  napi_value obj, ab, fds;
  void *data;
  napi_create_object(env, &obj);
  pf_set_int(env, obj, "pid", out.pid);
  pf_set_int(env, obj, "pidfd", out.pidfd);
  napi_create_arraybuffer(env, m.nstdio * sizeof(int32_t), &data, &ab);
  napi_create_typedarray(env, napi_int32_array, m.nstdio, ab, 0, &fds);
  memcpy(data, m.parent_ends, m.nstdio * sizeof(int32_t));
  napi_set_named_property(env, obj, "fds", fds);
  for (size_t i = 0; i < m.nstdio; i++) m.parent_ends[i] = -1; /* handed over */
  result = obj;

done:
  pf_plan_memory_free(&m, 1);
  return result;
}

/* ---- the watcher ---- */

napi_value js_watch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, kind;
  int ref;
  if (!pf_get_args(env, info, 3, argv) || !pf_to_int(env, argv[0], "fd", &fd) ||
      !pf_to_int(env, argv[1], "kind", &kind) || !pf_to_bool(env, argv[2], "ref", &ref))
    return NULL;
  struct pf_env *e = pf_started_env(env);
  if (e == NULL) return NULL;
  return pf_int(env, pf_watch_add(&e->watcher, fd, kind, ref));
}

napi_value js_watch_ref(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd, kind;
  int old_ref, ref;
  if (!pf_get_args(env, info, 4, argv) || !pf_to_int(env, argv[0], "fd", &fd) ||
      !pf_to_int(env, argv[1], "kind", &kind) || !pf_to_bool(env, argv[2], "oldRef", &old_ref) ||
      !pf_to_bool(env, argv[3], "ref", &ref))
    return NULL;
  struct pf_env *e = pf_started_env(env);
  if (e == NULL) return NULL;
  return pf_int(env, pf_watch_set_ref(&e->watcher, fd, kind, old_ref, ref));
}

napi_value js_unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  int ref;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_int(env, argv[0], "fd", &fd) ||
      !pf_to_bool(env, argv[1], "ref", &ref))
    return NULL;
  struct pf_env *e = pf_started_env(env);
  if (e == NULL) return NULL;
  return pf_int(env, pf_watch_remove(&e->watcher, fd, ref));
}

/* ---- pidfd system calls ---- */

napi_value js_send_signal(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, sig, flags;
  if (!pf_get_args(env, info, 3, argv) || !pf_to_int(env, argv[0], "fd", &fd) ||
      !pf_to_int(env, argv[1], "signal", &sig) || !pf_to_int(env, argv[2], "flags", &flags))
    return NULL;
  return pf_int(env, pf_pidfd_send_signal(fd, sig, (unsigned)flags));
}

napi_value js_pidfd_open(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t pid, flags;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_int(env, argv[0], "pid", &pid) ||
      !pf_to_int(env, argv[1], "flags", &flags))
    return NULL;
  return pf_int(env, pf_pidfd_open(pid, (unsigned)flags));
}

napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  /* close() must not be retried on EINTR on Linux: the fd is gone either way. */
  return pf_int(env, close(fd) == 0 || errno == EINTR ? 0 : -errno);
}

napi_value js_dup(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  return pf_int(env, r < 0 ? -errno : r);
}

napi_value js_pidfd_getfd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, target;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_int(env, argv[0], "fd", &fd) ||
      !pf_to_int(env, argv[1], "targetFd", &target))
    return NULL;
  /* The kernel makes the new fd close-on-exec (pidfd_getfd has no flags yet). */
  return pf_int(env, pf_pidfd_getfd(fd, target, 0));
}

/* Whether the pidfd is readable, i.e. its process has exited: 1, 0, or -errno. */
napi_value js_pidfd_exited(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int r;
  do r = poll(&p, 1, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) return pf_int(env, -errno);
  if (p.revents & POLLNVAL) return pf_int(env, -EBADF);
  return pf_int(env, (p.revents & (POLLIN | POLLHUP)) != 0);
}

/* PIDFD_GET_INFO (6.13): an object, or -errno (ENOTTY/EINVAL: not supported; ESRCH: reaped and
 * no exit information). Fields the kernel did not fill are absent. */
napi_value js_pidfd_get_info(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  struct pf_pidfd_info pi;
  memset(&pi, 0, sizeof pi);
  pi.mask = PF_PIDFD_INFO_PID | PF_PIDFD_INFO_CREDS | PF_PIDFD_INFO_CGROUPID | PF_PIDFD_INFO_EXIT;
  int r = pf_pidfd_get_info(fd, &pi);
  if (r < 0) return pf_int(env, r);
  napi_value obj;
  napi_create_object(env, &obj);
  if (pi.mask & PF_PIDFD_INFO_PID) {
    pf_set_int(env, obj, "pid", pi.pid);
    pf_set_int(env, obj, "tgid", pi.tgid);
    pf_set_int(env, obj, "ppid", pi.ppid);
  }
  if (pi.mask & PF_PIDFD_INFO_CREDS) {
    pf_set_int(env, obj, "ruid", pi.ruid);
    pf_set_int(env, obj, "euid", pi.euid);
    pf_set_int(env, obj, "suid", pi.suid);
    pf_set_int(env, obj, "fsuid", pi.fsuid);
    pf_set_int(env, obj, "rgid", pi.rgid);
    pf_set_int(env, obj, "egid", pi.egid);
    pf_set_int(env, obj, "sgid", pi.sgid);
    pf_set_int(env, obj, "fsgid", pi.fsgid);
  }
  if (pi.mask & PF_PIDFD_INFO_CGROUPID) {
    napi_value id;
    napi_create_bigint_uint64(env, pi.cgroupid, &id);
    napi_set_named_property(env, obj, "cgroupId", id);
  }
  if (pi.mask & PF_PIDFD_INFO_EXIT) pf_set_int(env, obj, "exitStatus", pi.exit_code);
  return obj;
}

/* ---- test hooks (reached only through src/internal/testing.ts) ---- */

/* waitid(P_PIDFD) without __WALL, without reaping: -errno, or the pid it would reap. */
napi_value js_test_waitid_no_wall(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = pf_waitid_pidfd(fd, &si, WEXITED | WNOHANG | WNOWAIT, NULL);
  return pf_int(env, r < 0 ? r : si.si_pid);
}

/* Whether pid is no longer a child of this process (not running, not a zombie). */
napi_value js_test_reaped(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t pid;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "pid", &pid)) return NULL;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT |
                                             PF_WALL);
  napi_value v;
  napi_get_boolean(env, r < 0 && errno == ECHILD, &v);
  return v;
}

/* Whether this process has any child at all (running or zombie). */
napi_value js_test_has_children(napi_env env, napi_callback_info info) {
  (void)info;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT | PF_WALL);
  napi_value v;
  napi_get_boolean(env, !(r < 0 && errno == ECHILD), &v);
  return v;
}

/* Blocks (1) or unblocks (0) a signal on the calling thread; returns whether it was blocked. */
napi_value js_test_block_signal(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t sig;
  int block;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_int(env, argv[0], "signal", &sig) ||
      !pf_to_bool(env, argv[1], "block", &block))
    return NULL;
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, &old);
  napi_value v;
  napi_get_boolean(env, sigismember(&old, sig) == 1, &v);
  return v;
}

/* Sets a signal's disposition to SIG_IGN (1) or SIG_DFL (0), when it has no handler installed by
 * Node. Returns -errno or 0. */
napi_value js_test_ignore_signal(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t sig;
  int ignore;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_int(env, argv[0], "signal", &sig) ||
      !pf_to_bool(env, argv[1], "ignore", &ignore))
    return NULL;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ignore ? SIG_IGN : SIG_DFL;
  return pf_int(env, sigaction(sig, &sa, NULL) == 0 ? 0 : -errno);
}

/* fcntl(fd, F_GETFD): the FD_CLOEXEC flag, or -errno. */
napi_value js_test_fd_flags(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  int r = fcntl(fd, F_GETFD);
  return pf_int(env, r < 0 ? -errno : r);
}
