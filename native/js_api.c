/*
 * js_api.c: the Node-API entry points. Each one unwraps its arguments, calls the C core and
 * wraps the result. Outcomes (a failed spawn, ESRCH) come back as values (-errno, or an object
 * with `errno`), for TypeScript to turn into errors with context; only misuse of the binding
 * itself (wrong argument types, which src/binding.ts never sends) throws here. The test-only
 * entry points are in js_test.c.
 */
#include "js_api.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env.h"
#include "exit.h"
#include "js_util.h"
#include "pidfd.h"
#include "probe.h"
#include "spawn.h"
#include "sync.h"
#include "watch.h"
#include "watchdog.h"

static struct pf_env *pf_started_env(napi_env env) {
  struct pf_env *e = pf_env_get(env);
  if (e != NULL && !e->started) {
    napi_throw_error(env, "ERR_PIDFD_BINDING", "binding: init() was not called");
    return NULL;
  }
  return e;
}

/* ---- init(onExit, watcher) ---- */

napi_value js_init(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t impl;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_int(env, argv[1], "watcher", &impl)) return NULL;
  if (impl < 0 || impl >= PF_WATCH_IMPL_COUNT) {
    pf_throw_type(env, "binding: watcher");
    return NULL;
  }
  struct pf_env *e = pf_env_get(env);
  if (e == NULL) return NULL;
  if (!e->started) {
    int r = pf_watch_start(&e->watcher, env, argv[0], (enum pf_watch_impl_id)impl);
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
  napi_value obj;
  napi_create_object(env, &obj);
  pf_set_str(env, obj, "kernel", s->kernel);
  pf_set_str(env, obj, "backend", pf_backend_names[pf_backend_current()]);
  pf_set_str(env, obj, "probedBackend", pf_backend_names[s->backend]);
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
  pf_set_feature(env, obj, "autoReap", &s->autoreap);
  pf_set_feature(env, obj, "pidfdAutoKill", &s->pidfd_autokill);
  pf_set_feature(env, obj, "cloneNnp", &s->clone_nnp);
  return obj;
}

/* ---- spawn(plan) ---- */

/* The memory a plan is unpacked into; freed when js_spawn returns (the child has exec'd by then,
 * or failed). */
struct pf_plan_memory {
  char *paths, *argv, *env, *cwd, *cgroup_path; /* the strings */
  char **pathv, **argvv, **envv;                 /* pointers into them */
  int *parent_fds;
};

static void pf_plan_memory_free(struct pf_plan_memory *m) {
  free(m->paths);
  free(m->argv);
  free(m->env);
  free(m->cwd);
  free(m->cgroup_path);
  free(m->pathv);
  free(m->argvv);
  free(m->envv);
  free(m->parent_fds);
}

/*
 * The child's environment. null means "this process's environment as it is now": a copy of the
 * `environ` pointer array. Node's main thread keeps process.env in environ itself (every
 * assignment is a setenv), and reading it here spares a spawn the round trip of every variable
 * through Node's environment interceptor, which was the largest JavaScript cost of a spawn
 * (docs/benchmarks.md). Only the array is copied: another thread's setenv may reallocate it,
 * but glibc never frees the strings.
 */
static int pf_unpack_env(napi_env env, napi_value plan, struct pf_plan_memory *m) {
  size_t n;
  if (!pf_prop_strings(env, plan, "env", 0, &m->env, &m->envv, &n)) return 0;
  if (m->envv != NULL) return 1;
  for (n = 0; environ[n] != NULL; n++) {
  }
  m->envv = malloc((n + 1) * sizeof *m->envv);
  if (m->envv == NULL) return pf_throw_nomem(env);
  memcpy(m->envv, environ, (n + 1) * sizeof *m->envv);
  return 1;
}

/* The strings and ids of the child's plan. */
static int pf_unpack_plan(napi_env env, napi_value plan, struct pf_plan_memory *m,
                          struct pf_child_plan *p) {
  size_t npaths, nargv;
  double uid, gid;
  void *groups;
  size_t ngroups;
  int32_t pgid, pdeathsig;
  if (!pf_prop_strings(env, plan, "paths", 0, &m->paths, &m->pathv, &npaths) ||
      !pf_prop_strings(env, plan, "argv", 0, &m->argv, &m->argvv, &nargv) ||
      !pf_unpack_env(env, plan, m) || !pf_prop_string(env, plan, "cwd", &m->cwd, NULL) ||
      !pf_prop_bool(env, plan, "setsid", &p->setsid) || !pf_prop_int(env, plan, "pgid", &pgid) ||
      !pf_prop_double(env, plan, "uid", &uid) || !pf_prop_double(env, plan, "gid", &gid) ||
      !pf_prop_typed(env, plan, "groups", napi_uint32_array, &groups, &ngroups, &p->set_groups) ||
      !pf_prop_int(env, plan, "pdeathsig", &pdeathsig) ||
      !pf_prop_int_or(env, plan, "fault", PF_FAULT_NONE, &p->fault) ||
      !pf_prop_int_or(env, plan, "faultArg", 0, &p->fault_arg) ||
      !pf_prop_int_or(env, plan, "noNewPrivs", 0, &p->no_new_privs) ||
      !pf_prop_int_or(env, plan, "autoReap", 0, &p->auto_reap) ||
      !pf_prop_int_or(env, plan, "autoKill", 0, &p->auto_kill))
    return 0;
  if (m->pathv == NULL || npaths < 1 || m->argvv == NULL)
    return pf_throw_type(env, "binding: paths and argv");
  p->paths = m->pathv;
  p->argv = m->argvv;
  p->envp = m->envv;
  p->cwd = m->cwd;
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

/* The stdio triples (target, kind, fd), checked for what the C core relies on. */
static int pf_unpack_stdio(napi_env env, napi_value plan, struct pf_plan_memory *m,
                           struct pf_start_request *req) {
  int32_t *triples;
  size_t n;
  int present;
  if (!pf_prop_typed(env, plan, "stdio", napi_int32_array, (void **)&triples, &n, &present))
    return 0;
  if (!present || n % 3 != 0) return pf_throw_type(env, "binding: stdio");
  int last = -1;
  for (size_t i = 0; i < n / 3; i++) {
    int target = triples[3 * i], kind = triples[3 * i + 1];
    if (target <= last) return pf_throw_type(env, "binding: stdio targets not ascending");
    if (kind < 0 || kind >= PF_STDIO_KIND_COUNT) return pf_throw_type(env, "binding: stdio kind");
    last = target;
  }
  _Static_assert(sizeof(struct pf_stdio) == 3 * sizeof(int32_t), "struct pf_stdio is a triple");
  req->stdio = (const struct pf_stdio *)triples;
  req->nstdio = (int)(n / 3);
  m->parent_fds = malloc((n / 3 + 1) * sizeof *m->parent_fds);
  if (m->parent_fds == NULL) return pf_throw_nomem(env);
  return 1;
}

static napi_value pf_failure_value(napi_env env, const struct pf_failure *f) {
  napi_value obj;
  napi_create_object(env, &obj);
  pf_set_int(env, obj, "errno", f->err);
  pf_set_str(env, obj, "syscall", f->syscall);
  pf_set_str(env, obj, "step", f->step);
  pf_set_bool(env, obj, "child", f->child);
  pf_set_int(env, obj, "index", f->index);
  if (f->raw_len > 0) {
    napi_value buf;
    void *data;
    if (napi_create_buffer_copy(env, (size_t)f->raw_len, f->raw, &data, &buf) == napi_ok)
      napi_set_named_property(env, obj, "raw", buf);
  }
  return obj;
}

/* A started child as [pid, pidfd, the parent's fd of each stdio entry...], in an Int32Array that
 * the environment keeps and reuses: the caller reads it before its next spawn (start() does, at
 * once). One object with three properties, each set through the runtime's slow path, or a new
 * ArrayBuffer (an off-heap allocation, freed by the garbage collector) per spawn cost more. The
 * array may be longer than 2 + n. NULL, with an exception pending, if it cannot be made. */
static napi_value pf_started_value(napi_env env, struct pf_env *e, const struct pf_spawn_result *out,
                                   const int *parent_fds, int n) {
  napi_value started = NULL;
  size_t count = (size_t)n + 2;
  int reuse = e->started_array != NULL && count <= e->started_len &&
              napi_get_reference_value(env, e->started_array, &started) == napi_ok && started != NULL;
  if (!reuse) {
    size_t len = count < 16 ? 16 : count;
    napi_value ab;
    void *data;
    napi_ref ref;
    if (napi_create_arraybuffer(env, len * sizeof(int32_t), &data, &ab) != napi_ok ||
        napi_create_typedarray(env, napi_int32_array, len, ab, 0, &started) != napi_ok ||
        napi_create_reference(env, started, 1, &ref) != napi_ok)
      return NULL;
    if (e->started_array != NULL) napi_delete_reference(env, e->started_array);
    e->started_array = ref;
    e->started_data = data;
    e->started_len = len;
  }
  e->started_data[0] = out->pid;
  e->started_data[1] = out->pidfd;
  memcpy(e->started_data + 2, parent_fds, (size_t)n * sizeof(int32_t));
  return started;
}

/* The whole request of a plan: the child's plan, its stdio, the cgroup and the backend. */
static int pf_unpack_request(napi_env env, napi_value plan, struct pf_plan_memory *m,
                             struct pf_start_request *req) {
  int32_t backend;
  if (!pf_unpack_plan(env, plan, m, &req->plan) || !pf_unpack_stdio(env, plan, m, req) ||
      !pf_prop_int(env, plan, "cgroupFd", &req->cgroup_fd) ||
      !pf_prop_string(env, plan, "cgroupPath", &m->cgroup_path, NULL) ||
      !pf_prop_int(env, plan, "backend", &backend))
    return 0;
  if (backend < 0 || backend >= PF_BACKEND_COUNT) return pf_throw_type(env, "binding: backend");
  req->cgroup_path = m->cgroup_path;
  req->backend = backend;
  return 1;
}

/* spawn(plan, watch, ref) */
napi_value js_spawn(napi_env env, napi_callback_info info) {
  napi_value argv[3], result = NULL;
  struct pf_plan_memory m;
  struct pf_start_request req;
  struct pf_spawn_result out;
  int watch, ref;

  memset(&m, 0, sizeof m);
  memset(&req, 0, sizeof req);
  if (!pf_get_args(env, info, 3, argv) || !pf_to_bool(env, argv[1], "watch", &watch) ||
      !pf_to_bool(env, argv[2], "ref", &ref))
    return NULL;
  struct pf_env *e = pf_started_env(env);
  if (e == NULL) return NULL;
  if (!pf_unpack_request(env, argv[0], &m, &req)) goto done;

  if (pf_start(&e->stack, &req, m.parent_fds, &out) < 0) {
    result = pf_failure_value(env, &out.fail);
    goto done;
  }
  if (watch) {
    int r = pf_parent_fault(&req.plan, PF_PARENT_WATCH)
                ? -ENOSPC
                : pf_watch_add(&e->watcher, out.pidfd, PF_WATCH_CHILD, ref);
    if (r < 0) {
      /* Nobody would ever reap it: take it down now. */
      pf_start_abandon(&out, m.parent_fds, req.nstdio);
      struct pf_failure f = {.err = -r, .syscall = pf_parent_steps[PF_PARENT_WATCH].syscall,
                             .step = pf_parent_steps[PF_PARENT_WATCH].name, .index = -1};
      result = pf_failure_value(env, &f);
      goto done;
    }
  }
  result = pf_started_value(env, e, &out, m.parent_fds, req.nstdio);

done:
  pf_plan_memory_free(&m);
  return result;
}

/* ---- spawnSync(plan, sync): a child run to its end on this thread (sync.h) ---- */

/* The parent's end of each stdio entry as a pipe of the loop: sync.input[i] is the input of
 * entry i (a Uint8Array: written, then the pipe closed), or null (read). */
static int pf_unpack_sync_pipes(napi_env env, napi_value sync, const int *parent_fds, int n,
                                struct pf_sync_pipe *pipes) {
  napi_value inputs;
  if (!pf_prop(env, sync, "input", &inputs)) return 0;
  for (int i = 0; i < n; i++) {
    napi_value v;
    napi_valuetype t;
    bool is_typed = false;
    memset(&pipes[i], 0, sizeof pipes[i]);
    pipes[i].fd = parent_fds[i];
    if (napi_get_element(env, inputs, (uint32_t)i, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok)
      return pf_throw_type(env, "binding: sync.input");
    if (t == napi_null || t == napi_undefined) continue;
    napi_typedarray_type type;
    size_t length;
    void *data;
    if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
        napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok ||
        type != napi_uint8_array)
      return pf_throw_type(env, "binding: sync.input");
    /* The bytes stay where they are: no JavaScript runs (and no garbage is collected) until the
     * loop has returned. */
    pipes[i].input = 1;
    pipes[i].data = data;
    pipes[i].len = length;
  }
  return 1;
}

static napi_value pf_sync_value(napi_env env, pid_t pid, const struct pf_sync_result *r,
                                struct pf_sync_pipe *pipes, const int *parent_fds, int n) {
  napi_value obj, ab, rec, output;
  void *data;
  napi_create_object(env, &obj);
  pf_set_int(env, obj, "pid", pid);
  pf_set_int(env, obj, "error", r->error != 0 ? r->error : r->pipe_error);
  napi_create_arraybuffer(env, sizeof r->rec, &data, &ab);
  memcpy(data, r->rec, sizeof r->rec);
  napi_create_typedarray(env, napi_float64_array, PF_EXIT_FIELDS, ab, 0, &rec);
  napi_set_named_property(env, obj, "record", rec);
  napi_create_array_with_length(env, (size_t)n, &output);
  for (int i = 0; i < n; i++) {
    napi_value v;
    if (parent_fds[i] < 0 || pipes[i].input) {
      napi_get_null(env, &v);
    } else if (napi_create_buffer_copy(env, pipes[i].buf_len, pipes[i].buf, &data, &v) != napi_ok) {
      return NULL;
    }
    napi_set_element(env, output, (uint32_t)i, v);
  }
  napi_set_named_property(env, obj, "output", output);
  return obj;
}

napi_value js_spawn_sync(napi_env env, napi_callback_info info) {
  napi_value argv[2], result = NULL;
  struct pf_plan_memory m;
  struct pf_start_request req;
  struct pf_spawn_result out;
  struct pf_sync_pipe *pipes = NULL;
  struct pf_sync_limits limits;
  struct pf_sync_result r;
  double timeout_ms;
  int32_t kill_signal;

  memset(&m, 0, sizeof m);
  memset(&req, 0, sizeof req);
  memset(&r, 0, sizeof r);
  memset(&limits, 0, sizeof limits);
  if (!pf_get_args(env, info, 2, argv)) return NULL;
  /* The environment's state holds the child's stack; the exit watcher is not needed. */
  struct pf_env *e = pf_env_get(env);
  if (e == NULL) return NULL;
  napi_value sync = argv[1];
  if (!pf_unpack_request(env, argv[0], &m, &req) ||
      !pf_prop_double(env, sync, "timeoutMs", &timeout_ms) ||
      !pf_prop_double(env, sync, "maxBuffer", &limits.max_buffer) ||
      !pf_prop_int(env, sync, "killSignal", &kill_signal))
    goto done;
  limits.timeout_ms = timeout_ms > 0x7fffffff ? 0x7fffffff : (long)timeout_ms;
  limits.kill_signal = kill_signal;
  limits.tree = PF_SYNC_CHILD;
  limits.cgroup_fd = -1;
  limits.force_kill_ms = -1;
  limits.max_lines = -1;
  /* run()'s runSync: sync.run says how the tree is killed and how output is limited. */
  napi_value run;
  napi_valuetype run_type = napi_undefined;
  if (napi_get_named_property(env, sync, "run", &run) == napi_ok) napi_typeof(env, run, &run_type);
  if (run_type == napi_object) {
    int32_t tree, cont, runs, unit;
    double force, lines;
    if (!pf_prop_int(env, run, "tree", &tree) || !pf_prop_int(env, run, "continueStopped", &cont) ||
        !pf_prop_double(env, run, "forceKillMs", &force) || !pf_prop_double(env, run, "maxLines", &lines) ||
        !pf_prop_int(env, run, "lineUnit", &unit) || !pf_prop_int(env, run, "recordRuns", &runs))
      goto done;
    limits.tree = tree;
    limits.continue_stopped = cont;
    limits.force_kill_ms = force < 0 ? -1 : force > 0x7fffffff ? 0x7fffffff : (long)force;
    limits.per_pipe = 1;
    limits.max_lines = lines;
    limits.line_unit = unit;
    limits.record_runs = runs;
  }
  pipes = calloc((size_t)req.nstdio + 1, sizeof *pipes);
  if (pipes == NULL) {
    pf_throw_nomem(env);
    goto done;
  }

  if (pf_start(&e->stack, &req, m.parent_fds, &out) < 0) {
    result = pf_failure_value(env, &out.fail);
    goto done;
  }
  if (!pf_unpack_sync_pipes(env, sync, m.parent_fds, req.nstdio, pipes)) {
    pf_start_abandon(&out, m.parent_fds, req.nstdio);
    goto done;
  }
  limits.pid = out.pid;
  if (limits.tree == PF_SYNC_CGROUP && req.cgroup_path != NULL)
    limits.cgroup_fd = open(req.cgroup_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (limits.cgroup_fd < 0 && limits.tree == PF_SYNC_CGROUP) limits.tree = PF_SYNC_GROUP;
  int ran = pf_sync_run(out.pidfd, pipes, req.nstdio, &limits, &r);
  close(out.pidfd);
  if (limits.cgroup_fd >= 0) close(limits.cgroup_fd);
  if (ran < 0) {
    struct pf_failure f = {.err = -ran, .syscall = "poll", .step = "wait", .index = -1};
    result = pf_failure_value(env, &f);
    goto done;
  }
  result = pf_sync_value(env, out.pid, &r, pipes, m.parent_fds, req.nstdio);
  if (result != NULL && run_type == napi_object) {
    napi_value runs, v;
    void *data;
    napi_value ab;
    pf_set_int(env, result, "exceededPipe", r.exceeded_pipe);
    pf_set_int(env, result, "exceededLines", r.exceeded_lines);
    pf_set_int(env, result, "killed", r.killed);
    pf_set_int(env, result, "exitedBefore", r.exited_before);
    pf_set_int(env, result, "forced", r.forced);
    napi_create_arraybuffer(env, (size_t)r.nruns * 2 * sizeof(int32_t), &data, &ab);
    if (r.nruns > 0) memcpy(data, r.runs, (size_t)r.nruns * 2 * sizeof(int32_t));
    napi_create_typedarray(env, napi_int32_array, (size_t)r.nruns * 2, ab, 0, &runs);
    napi_set_named_property(env, result, "runs", runs);
    (void)v;
  }

done:
  free(r.runs);
  if (pipes != NULL) {
    for (int i = 0; i < req.nstdio; i++) free(pipes[i].buf);
    free(pipes);
  }
  pf_plan_memory_free(&m);
  return result;
}

/* socketpair(): two connected AF_UNIX stream sockets, close-on-exec, at fd 3 or above (an
 * Int32Array), or -errno. */
napi_value js_socketpair(napi_env env, napi_callback_info info) {
  napi_value ab, pair;
  int sv[2];
  void *data;
  (void)info;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return pf_int(env, -errno);
  for (int i = 0; i < 2; i++) {
    if (sv[i] >= 3) continue;
    /* With the process's own stdio closed, keep 0-2 for it. */
    int moved = fcntl(sv[i], F_DUPFD_CLOEXEC, 3);
    int err = errno;
    close(sv[i]);
    sv[i] = moved;
    if (moved < 0) {
      if (sv[1 - i] >= 0) close(sv[1 - i]);
      return pf_int(env, -err);
    }
  }
  napi_create_arraybuffer(env, sizeof sv, &data, &ab);
  memcpy(data, sv, sizeof sv);
  napi_create_typedarray(env, napi_int32_array, 2, ab, 0, &pair);
  return pair;
}

/* ---- fds that JavaScript objects own (owned.h) ---- */

static void pf_owned_finalize(napi_env env, void *data, void *hint) {
  struct pf_owned *o = data;
  (void)env;
  (void)hint;
  pf_owned_close(o);
  free(o);
}

/* own(fd): an external that owns fd from now on: closeOwned() closes it, and so does the
 * garbage collector, or the environment's end, whichever comes first. */
napi_value js_own(napi_env env, napi_callback_info info) {
  napi_value argv[1], external;
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  struct pf_env *e = pf_env_get(env);
  if (e == NULL) return NULL;
  struct pf_owned *o = pf_owned_add(&e->owned, fd);
  if (o == NULL) {
    pf_throw_nomem(env);
    return NULL;
  }
  if (napi_create_external(env, o, pf_owned_finalize, NULL, &external) != napi_ok) {
    o->fd = -1; /* the caller still owns fd: it did not become ours */
    pf_owned_close(o);
    free(o);
    pf_throw_nomem(env);
    return NULL;
  }
  return external;
}

/* closeOwned(external): closes its fd now (once). 0 or -errno. */
napi_value js_close_owned(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *data;
  if (!pf_get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok) {
    pf_throw_type(env, "owned");
    return NULL;
  }
  return pf_int(env, pf_owned_close(data));
}

/* ownerOf(fd): 1 if a PidFd of this environment owns fd, 2 if it is a child's pidfd that the
 * watcher owns, 0 otherwise. */
napi_value js_owner_of(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  struct pf_env *e = pf_env_get(env);
  if (e == NULL) return NULL;
  if (pf_owned_has(&e->owned, fd)) return pf_int(env, 1);
  if (e->started && pf_watch_kind_of(&e->watcher, fd) == PF_WATCH_CHILD) return pf_int(env, 2);
  return pf_int(env, 0);
}

/* ---- wait(fd, timeoutMs): a blocking wait for a child that nothing watches ---- */

napi_value js_wait(napi_env env, napi_callback_info info) {
  napi_value argv[2], ab, array;
  int32_t fd, timeout_ms;
  double rec[PF_EXIT_FIELDS];
  void *data;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_int(env, argv[0], "fd", &fd) ||
      !pf_to_int(env, argv[1], "timeoutMs", &timeout_ms))
    return NULL;
  int r = pf_exit_wait(fd, timeout_ms, rec);
  if (r <= 0) return pf_int(env, r == 0 ? -ETIMEDOUT : r);
  napi_create_arraybuffer(env, sizeof rec, &data, &ab);
  memcpy(data, rec, sizeof rec);
  napi_create_typedarray(env, napi_float64_array, PF_EXIT_FIELDS, ab, 0, &array);
  return array;
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

/* watchCgroup(dir, ref): watches the cgroup's cgroup.events (records of how 'cgroup'); the fd,
 * or -errno. unwatch(fd, ref) stops early and closes it. */
napi_value js_watch_cgroup(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char *dir;
  int ref;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_string(env, argv[0], "dir", &dir)) return NULL;
  struct pf_env *e = pf_to_bool(env, argv[1], "ref", &ref) ? pf_started_env(env) : NULL;
  int r = e == NULL ? 0 : pf_watch_cgroup(&e->watcher, dir, ref);
  free(dir);
  return e == NULL ? NULL : pf_int(env, r);
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

/* The fd calls below are made here rather than through node:fs: Deno's node:fs refuses an fd that
 * it did not open itself (EBADF), and the library's fds are the addon's. */

/* inode(fd): fstat's st_ino as a bigint (a pidfs inode is a process's stable identity), or
 * -errno. */
napi_value js_inode(napi_env env, napi_callback_info info) {
  napi_value argv[1], ino;
  int32_t fd;
  struct stat st;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  if (fstat(fd, &st) != 0) return pf_int(env, -errno);
  if (napi_create_bigint_uint64(env, (uint64_t)st.st_ino, &ino) != napi_ok) return NULL;
  return ino;
}

/* openDirectory(path): a close-on-exec, read-only fd on the directory, or -errno. */
napi_value js_open_directory(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char *path = NULL;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_string(env, argv[0], "path", &path)) return NULL;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = fd < 0 ? -errno : fd;
  free(path);
  return pf_int(env, r);
}

/* access(path, mode): 0 or -errno, as the kernel decides (Deno's node:fs.accessSync reads the
 * mode bits itself and refuses root a directory whose mode lacks w, which the kernel allows). */
napi_value js_access(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char *path = NULL;
  int32_t mode;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_int(env, argv[1], "mode", &mode) ||
      !pf_to_string(env, argv[0], "path", &path))
    return NULL;
  int r = access(path, mode) == 0 ? 0 : -errno;
  free(path);
  return pf_int(env, r);
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


/* ---- pipes ---- */

/* pipe(): a new pipe, both ends close-on-exec and blocking: [readFd, writeFd], or -errno. For a
 * layer that hands one end to a child as a plain fd and reads the other itself (run()'s
 * capture). */
napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return pf_int(env, -errno);
  napi_value buffer, array;
  void *data;
  if (napi_create_arraybuffer(env, sizeof fds, &data, &buffer) != napi_ok ||
      napi_create_typedarray(env, napi_int32_array, 2, buffer, 0, &array) != napi_ok) {
    close(fds[0]);
    close(fds[1]);
    return NULL;
  }
  memcpy(data, fds, sizeof fds);
  return array;
}

/* adviseHugePages(buffer, reserved): asks the kernel to back the first `reserved` bytes of an
 * ArrayBuffer's memory (a resizable one's whole reservation) with transparent huge pages where
 * it can (madvise MADV_HUGEPAGE, for THP's "madvise" mode): a large capture then takes one page
 * fault per 2 MiB instead of per 4 KiB. Advice only: returns 0 or -errno, changes nothing else. */
napi_value js_advise_huge_pages(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *data = NULL;
  size_t length = 0;
  double reserved = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_arraybuffer_info(env, argv[0], &data, &length) != napi_ok ||
      napi_get_value_double(env, argv[1], &reserved) != napi_ok || data == NULL || !(reserved > 0)) {
    return pf_int(env, -EINVAL);
  }
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = ((uintptr_t)data + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)data + (uintptr_t)reserved) & ~(page - 1);
  if (end <= start) return pf_int(env, 0);
  return pf_int(env, madvise((void *)start, end - start, MADV_HUGEPAGE) == 0 ? 0 : -errno);
}

/* ---- the watchdog's control socket ---- */

const char *const pf_watchdog_op_names[PF_WATCHDOG_OP_COUNT] = {
    [PF_WATCHDOG_NONE] = "none",
    [PF_WATCHDOG_ADD_GROUP] = "addGroup",
    [PF_WATCHDOG_ADD_LEADER] = "addLeader",
    [PF_WATCHDOG_ADD_CGROUP] = "addCgroup",
    [PF_WATCHDOG_REMOVE] = "remove",
};

/* sendWithFd(socket, bytes, fd): one sendmsg of `bytes` carrying a copy of `fd` (SCM_RIGHTS;
 * none for fd -1). The number of bytes sent, or -errno. MSG_NOSIGNAL: a peer that has gone is
 * EPIPE, not a SIGPIPE. Node's own sockets cannot pass descriptors outside its IPC channel. */
napi_value js_send_with_fd(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t sock, fd;
  if (!pf_get_args(env, info, 3, argv) || !pf_to_int(env, argv[0], "socket", &sock) ||
      !pf_to_int(env, argv[2], "fd", &fd))
    return NULL;
  napi_typedarray_type type;
  size_t length;
  void *data;
  bool is_typed = false;
  if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    pf_throw_type(env, "bytes must be a Uint8Array");
    return NULL;
  }
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  struct iovec iov = {.iov_base = data, .iov_len = length};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return pf_int(env, n < 0 ? -errno : n);
}
