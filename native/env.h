/*
 * env.h: the state each Node environment (the main thread, each worker) keeps in the addon
 * (env.c).
 */
#ifndef PIDFD_ENV_H
#define PIDFD_ENV_H

#include <node_api.h>

#include "js_util.h"
#include "owned.h"
#include "spawn.h"
#include "watch.h"

struct pf_env {
  napi_env env;
  int started; /* init() ran: the watcher is live */
  struct pf_watcher watcher;
  struct pf_stack stack;
  struct pf_owned_list owned; /* fds of this environment's PidFds */
  struct pf_keys keys;        /* property keys (js_util.h) */
  /* The Int32Array that spawn() returns a started child in, reused (js_api.c). */
  napi_ref started_array;
  int32_t *started_data;
  size_t started_len;
  /* The Int32Array that spawn() reads a plan's integers from (js_plan.h). */
  napi_ref plan_array;
  int32_t *plan_data;
  size_t plan_len;
};

/* This environment's state, created on first use; NULL (with a JS exception pending) on failure. */
struct pf_env *pf_env_get(napi_env env);

#endif
