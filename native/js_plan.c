/*
 * js_plan.c: a spawn's plan, unpacked from its arguments and the environment's plan array
 * (js_plan.h) into a request for pf_start.
 */
#include "js_plan.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "js_util.h"

const char *const pf_plan_field_names[PF_PLAN_FIELD_COUNT] = {
    [PF_PLAN_PGID] = "pgid",
    [PF_PLAN_UID] = "uid",
    [PF_PLAN_GID] = "gid",
    [PF_PLAN_PDEATHSIG] = "pdeathsig",
    [PF_PLAN_SETSID] = "setsid",
    [PF_PLAN_NO_NEW_PRIVS] = "noNewPrivs",
    [PF_PLAN_AUTO_REAP] = "autoReap",
    [PF_PLAN_AUTO_KILL] = "autoKill",
    [PF_PLAN_CGROUP_FD] = "cgroupFd",
    [PF_PLAN_BACKEND] = "backend",
    [PF_PLAN_FAULT] = "fault",
    [PF_PLAN_FAULT_ARG] = "faultArg",
    [PF_PLAN_NSTDIO] = "nstdio",
    [PF_PLAN_STDIO] = "stdio",
};

void pf_plan_memory_free(struct pf_plan_memory *m) {
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
static int pf_unpack_env(napi_env env, napi_value value, struct pf_plan_memory *m) {
  size_t n;
  if (!pf_value_strings(env, value, "binding: env", 0, &m->env, &m->envv, &n)) return 0;
  if (m->envv != NULL) return 1;
  for (n = 0; environ[n] != NULL; n++) {
  }
  m->envv = malloc((n + 1) * sizeof *m->envv);
  if (m->envv == NULL) return pf_throw_nomem(env);
  memcpy(m->envv, environ, (n + 1) * sizeof *m->envv);
  return 1;
}

/* An id of the plan array: (uint32_t)-1 is "leave it". */
static void pf_unpack_id(int32_t raw, int *set, unsigned *id) {
  *set = (uint32_t)raw != UINT32_MAX;
  *id = *set ? (uint32_t)raw : 0;
}

/* The strings and ids of the child's plan. */
static int pf_unpack_plan(napi_env env, const napi_value *args, const int32_t *ints,
                          struct pf_plan_memory *m, struct pf_child_plan *p) {
  size_t npaths, nargv, ngroups;
  void *groups;
  if (!pf_value_strings(env, args[PF_ARG_PATHS], "binding: paths", 0, &m->paths, &m->pathv, &npaths) ||
      !pf_value_strings(env, args[PF_ARG_ARGV], "binding: argv", 0, &m->argv, &m->argvv, &nargv) ||
      !pf_unpack_env(env, args[PF_ARG_ENV], m) ||
      !pf_value_string(env, args[PF_ARG_CWD], "binding: cwd", &m->cwd, NULL) ||
      !pf_value_typed(env, args[PF_ARG_GROUPS], "binding: groups", napi_uint32_array, &groups, &ngroups,
                      &p->set_groups))
    return 0;
  if (m->pathv == NULL || npaths < 1 || m->argvv == NULL)
    return pf_throw_type(env, "binding: paths and argv");
  unsigned uid, gid;
  p->paths = m->pathv;
  p->argv = m->argvv;
  p->envp = m->envv;
  p->cwd = m->cwd;
  p->setsid = ints[PF_PLAN_SETSID] != 0;
  p->pgid = ints[PF_PLAN_PGID];
  pf_unpack_id(ints[PF_PLAN_UID], &p->set_uid, &uid);
  pf_unpack_id(ints[PF_PLAN_GID], &p->set_gid, &gid);
  p->uid = (uid_t)uid;
  p->gid = (gid_t)gid;
  p->groups = groups; /* NULL for groups: [], which setgroups(0, NULL) takes */
  p->ngroups = (int)ngroups;
  p->pdeathsig = ints[PF_PLAN_PDEATHSIG];
  p->no_new_privs = ints[PF_PLAN_NO_NEW_PRIVS];
  p->auto_reap = ints[PF_PLAN_AUTO_REAP];
  p->auto_kill = ints[PF_PLAN_AUTO_KILL];
  p->fault = ints[PF_PLAN_FAULT];
  p->fault_arg = ints[PF_PLAN_FAULT_ARG];
  return 1;
}

/* The stdio triples (target, kind, fd), checked for what the C core relies on, read in place. */
static int pf_unpack_stdio(napi_env env, const int32_t *ints, size_t len, struct pf_plan_memory *m,
                           struct pf_start_request *req) {
  int32_t n = ints[PF_PLAN_NSTDIO];
  if (n < 0 || (size_t)n > (len - PF_PLAN_STDIO) / 3) return pf_throw_type(env, "binding: stdio");
  const int32_t *triples = ints + PF_PLAN_STDIO;
  int last = -1;
  for (int32_t i = 0; i < n; i++) {
    int target = triples[3 * i], kind = triples[3 * i + 1];
    if (target <= last) return pf_throw_type(env, "binding: stdio targets not ascending");
    if (kind < 0 || kind >= PF_STDIO_KIND_COUNT) return pf_throw_type(env, "binding: stdio kind");
    last = target;
  }
  _Static_assert(sizeof(struct pf_stdio) == 3 * sizeof(int32_t), "struct pf_stdio is a triple");
  req->stdio = (const struct pf_stdio *)triples;
  req->nstdio = (int)n;
  m->parent_fds = malloc(((size_t)n + 1) * sizeof *m->parent_fds);
  if (m->parent_fds == NULL) return pf_throw_nomem(env);
  return 1;
}

int pf_unpack_request(napi_env env, struct pf_env *e, const napi_value *args, struct pf_plan_memory *m,
                      struct pf_start_request *req) {
  if (e->plan_data == NULL) return pf_throw_type(env, "binding: no plan array (planArray())");
  const int32_t *ints = e->plan_data;
  if (!pf_unpack_plan(env, args, ints, m, &req->plan) ||
      !pf_unpack_stdio(env, ints, e->plan_len, m, req) ||
      !pf_value_string(env, args[PF_ARG_CGROUP_PATH], "binding: cgroupPath", &m->cgroup_path, NULL))
    return 0;
  int32_t backend = ints[PF_PLAN_BACKEND];
  if (backend < 0 || backend >= PF_BACKEND_COUNT) return pf_throw_type(env, "binding: backend");
  req->cgroup_fd = ints[PF_PLAN_CGROUP_FD];
  req->cgroup_path = m->cgroup_path;
  req->backend = backend;
  return 1;
}

/* planArray(count): made with napi_create_arraybuffer, whose memory is off the JavaScript heap
 * and stays where it is; the environment holds it by a reference until it ends or a longer one
 * replaces it. */
napi_value js_plan_array(napi_env env, napi_callback_info info) {
  napi_value argv[1], array = NULL, ab;
  int32_t count;
  void *data;
  napi_ref ref;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "count", &count)) return NULL;
  struct pf_env *e = pf_env_get(env);
  if (e == NULL) return NULL;
  if (count < PF_PLAN_FIELD_COUNT) count = PF_PLAN_FIELD_COUNT;
  if (e->plan_array != NULL && (size_t)count <= e->plan_len &&
      napi_get_reference_value(env, e->plan_array, &array) == napi_ok && array != NULL)
    return array;
  /* Room for 8 stdio entries at least: most plans never need a second array. */
  size_t len = (size_t)count < PF_PLAN_STDIO + 24 ? PF_PLAN_STDIO + 24 : (size_t)count;
  if (napi_create_arraybuffer(env, len * sizeof(int32_t), &data, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_int32_array, len, ab, 0, &array) != napi_ok ||
      napi_create_reference(env, array, 1, &ref) != napi_ok)
    return NULL;
  if (e->plan_array != NULL) napi_delete_reference(env, e->plan_array);
  e->plan_array = ref;
  e->plan_data = data;
  e->plan_len = len;
  return array;
}
