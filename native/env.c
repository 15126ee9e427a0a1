/*
 * env.c: the state each Node environment keeps in the addon (env.h): made at its first use, torn
 * down by its cleanup hook. Below js_util.c (whose property keys live here) and the entry points;
 * it calls none of them.
 */
#include "env.h"

#include <stdlib.h>

#include "create.h"

/* Deletes the references of an environment's keys (from its cleanup hook: no handle is made). */
static void pf_keys_release(napi_env env, struct pf_keys *keys) {
  if (keys->array != NULL) napi_delete_reference(env, keys->array);
  keys->array = NULL;
  keys->n = 0;
}

/* The environment is going away. A plain cleanup hook, synchronous: the asynchronous kind
 * (napi_add_async_cleanup_hook) double-frees in Deno's napi_remove_async_cleanup_hook, and Node
 * waits forever for a hook that is not removed. Nothing here creates a JavaScript handle: Deno
 * has no handle scope in a cleanup hook. */
static void pf_env_cleanup(void *arg) {
  struct pf_env *e = arg;
  /* The PidFds' fds first. Some may still be in the watcher's epoll set; the watcher hands its
   * running children to a new set and closes this one. */
  pf_owned_close_all(&e->owned);
  if (e->started) pf_watch_stop(&e->watcher);
  pf_stack_release(&e->stack);
  pf_keys_release(e->env, &e->keys);
  if (e->started_array != NULL) napi_delete_reference(e->env, e->started_array);
  if (e->plan_array != NULL) napi_delete_reference(e->env, e->plan_array);
  free(e);
}

struct pf_env *pf_env_get(napi_env env) {
  struct pf_env *e = NULL;
  if (napi_get_instance_data(env, (void **)&e) == napi_ok && e != NULL) return e;
  e = calloc(1, sizeof *e);
  if (e != NULL) {
    e->env = env;
    pf_owned_init(&e->owned);
  }
  if (e == NULL || napi_set_instance_data(env, e, NULL, NULL) != napi_ok ||
      napi_add_env_cleanup_hook(env, pf_env_cleanup, e) != napi_ok) {
    free(e);
    napi_throw_error(env, "ENOMEM", "pidfd: cannot set up the addon for this environment");
    return NULL;
  }
  return e;
}
