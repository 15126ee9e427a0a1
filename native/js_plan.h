/*
 * js_plan.h: a spawn's plan as TypeScript passes it (src/process/spec.ts): its strings as
 * arguments, its integers and stdio triples in the environment's plan array, an Int32Array off
 * the JavaScript heap that the addon made once and reads in place. No property is read: the ~16
 * property reads of a plan object, and the backing store V8 materializes for a small heap typed
 * array at every napi_get_typedarray_info, were a fifth of a spawn's parent CPU
 * (docs/benchmarks.md).
 */
#ifndef PIDFD_JS_PLAN_H
#define PIDFD_JS_PLAN_H

#include <node_api.h>

#include "env.h"
#include "spawn.h"

/* The integers of a plan, by index in the plan array; the (target, kind, fd) triples follow
 * from PF_PLAN_STDIO. The names are exported (constants().planField). An id is written as its
 * 32 bits: (uint32_t)-1, which no id can be, means "leave it". */
enum pf_plan_field {
  PF_PLAN_PGID,       /* -1: leave; 0: a new group; > 0: join that group */
  PF_PLAN_UID,        /* as uint32_t; (uint32_t)-1: leave */
  PF_PLAN_GID,        /* likewise */
  PF_PLAN_PDEATHSIG,  /* 0: none */
  PF_PLAN_SETSID,     /* 0 or 1 */
  PF_PLAN_NO_NEW_PRIVS,
  PF_PLAN_AUTO_REAP,
  PF_PLAN_AUTO_KILL,
  PF_PLAN_CGROUP_FD,  /* -1: none */
  PF_PLAN_BACKEND,    /* enum pf_backend; PF_BACKEND_NONE: the current one */
  PF_PLAN_FAULT,      /* test hooks (child.h, enum pf_fault) */
  PF_PLAN_FAULT_ARG,
  PF_PLAN_NSTDIO,     /* the number of triples */
  PF_PLAN_STDIO,      /* the first triple */
};
#define PF_PLAN_FIELD_COUNT (PF_PLAN_STDIO + 1)

extern const char *const pf_plan_field_names[PF_PLAN_FIELD_COUNT];

/* The strings of a plan, in the order of the arguments of spawn() and spawnSync(). */
enum pf_plan_arg { PF_ARG_PATHS, PF_ARG_ARGV, PF_ARG_ENV, PF_ARG_CWD, PF_ARG_CGROUP_PATH, PF_ARG_GROUPS, PF_PLAN_ARGS };

/* The memory a plan is unpacked into; freed when the entry point returns (the child has exec'd
 * by then, or failed). */
struct pf_plan_memory {
  char *paths, *argv, *env, *cwd, *cgroup_path; /* the strings */
  char **pathv, **argvv, **envv;                 /* pointers into them */
  int *parent_fds;
};

/* The request of a plan: args[PF_PLAN_ARGS] and the environment's plan array. 1, or 0 with an
 * exception pending. The stdio triples are read in place: no JavaScript may run until pf_start
 * has returned. */
int pf_unpack_request(napi_env env, struct pf_env *e, const napi_value *args, struct pf_plan_memory *m,
                      struct pf_start_request *req);

void pf_plan_memory_free(struct pf_plan_memory *m);

/* planArray(count): the environment's plan array, made anew with at least `count` elements if
 * the one it has is shorter. */
napi_value js_plan_array(napi_env env, napi_callback_info info);

#endif
