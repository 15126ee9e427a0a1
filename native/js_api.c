/*
 * js_api.c: the Node-API entry points of starting a child: init, support, spawn and spawnSync.
 * Each one unwraps its arguments, calls the C core and wraps the result. Outcomes (a failed
 * spawn, ESRCH) come back as values (-errno, or an object with `errno`), for TypeScript to turn
 * into errors with context; only misuse of the binding itself (wrong argument types, which
 * src/binding.ts never sends) throws here. The entry points on descriptors (pidfds, the watcher,
 * plain fds, pipes) are in js_fds.c, over fdops.c's system calls; the test-only ones in
 * js_test.c.
 */
#include "js_api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "exit.h"
#include "js_plan.h"
#include "js_util.h"
#include "probe.h"
#include "spawn.h"
#include "sync.h"
#include "watch.h"

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

/* ---- spawn(paths, argv, env, cwd, cgroupPath, groups, watch, ref): the plan of js_plan.h ---- */

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

napi_value js_spawn(napi_env env, napi_callback_info info) {
  napi_value argv[PF_PLAN_ARGS + 2], result = NULL;
  struct pf_plan_memory m;
  struct pf_start_request req;
  struct pf_spawn_result out;
  int watch, ref;

  memset(&m, 0, sizeof m);
  memset(&req, 0, sizeof req);
  if (!pf_get_args(env, info, PF_PLAN_ARGS + 2, argv) ||
      !pf_to_bool(env, argv[PF_PLAN_ARGS], "watch", &watch) ||
      !pf_to_bool(env, argv[PF_PLAN_ARGS + 1], "ref", &ref))
    return NULL;
  struct pf_env *e = pf_started_env(env);
  if (e == NULL) return NULL;
  if (!pf_unpack_request(env, e, argv, &m, &req)) goto done;

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

/* ---- spawnSync(paths, argv, env, cwd, cgroupPath, groups, sync): a child run to its end on
 * this thread (sync.h) ---- */

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
  /* A worker terminated while the call blocked can no longer call into JavaScript: Node-API then
   * fails to make anything (napi_pending_exception) and leaves `data` unset. */
  if (napi_create_arraybuffer(env, sizeof r->rec, &data, &ab) != napi_ok) return NULL;
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
  napi_value argv[PF_PLAN_ARGS + 1], result = NULL;
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
  if (!pf_get_args(env, info, PF_PLAN_ARGS + 1, argv)) return NULL;
  /* The environment's state holds the child's stack; the exit watcher is not needed. */
  struct pf_env *e = pf_env_get(env);
  if (e == NULL) return NULL;
  napi_value sync = argv[PF_PLAN_ARGS];
  if (!pf_unpack_request(env, e, argv, &m, &req) ||
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
  /* Without the cgroup's directory the tree is the child's process group, if the child leads one;
   * otherwise (it stayed in this process's group, for the terminal) only the child: never our group. */
  if (limits.cgroup_fd < 0 && limits.tree == PF_SYNC_CGROUP)
    limits.tree = req.plan.setsid || req.plan.pgid == 0 ? PF_SYNC_GROUP : PF_SYNC_CHILD;
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
    napi_value runs;
    void *data;
    napi_value ab;
    pf_set_int(env, result, "exceededPipe", r.exceeded_pipe);
    pf_set_int(env, result, "exceededLines", r.exceeded_lines);
    pf_set_int(env, result, "killed", r.killed);
    pf_set_int(env, result, "exitedBefore", r.exited_before);
    pf_set_int(env, result, "forced", r.forced);
    if (napi_create_arraybuffer(env, (size_t)r.nruns * 2 * sizeof(int32_t), &data, &ab) != napi_ok) {
      result = NULL;
      goto done;
    }
    if (r.nruns > 0) memcpy(data, r.runs, (size_t)r.nruns * 2 * sizeof(int32_t));
    napi_create_typedarray(env, napi_int32_array, (size_t)r.nruns * 2, ab, 0, &runs);
    napi_set_named_property(env, result, "runs", runs);
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
