/*
 * watch_uv.c: the uv_poll implementation of the exit watcher (see watch.h): the epoll fd sits in
 * the event loop as one uv_poll handle. For runtimes whose event loop is real libuv (Node).
 */
#include <errno.h>
#include <stdlib.h>
#include <uv.h>

#include "watch.h"

/* The handle and the environment's hold on its close (see pf_uv_stop). */
struct pf_uv {
  uv_poll_t poll; /* first: the uv_handle_t * of the callbacks is this struct's address */
  napi_async_cleanup_hook_handle hook;
};

static void pf_uv_on_poll(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  pf_watch_drain(handle->data);
}

static void pf_uv_stop(struct pf_watcher *w);

/* The environment is ending: the handle is stopped and closed, and the environment's teardown
 * waits (it runs the loop) until the close callback has removed this hook. */
static void pf_uv_on_env_ending(napi_async_cleanup_hook_handle hook, void *arg) {
  (void)hook;
  pf_uv_stop(arg);
}

static int pf_uv_start(struct pf_watcher *w, napi_value on_exit) {
  uv_loop_t *loop;
  (void)on_exit;
  if (napi_get_uv_event_loop(w->env, &loop) != napi_ok || loop == NULL) return -ENOSYS;
  struct pf_uv *u = calloc(1, sizeof *u);
  if (u == NULL) return -ENOMEM;
  /* Registered after the environment's plain cleanup hook (addon.c), so it runs before it: the
   * hooks run in the reverse order of their registration. */
  if (napi_add_async_cleanup_hook(w->env, pf_uv_on_env_ending, w, &u->hook) != napi_ok) {
    free(u);
    return -ENOMEM;
  }
  int r = uv_poll_init(loop, &u->poll, w->epfd);
  if (r != 0) {
    napi_remove_async_cleanup_hook(u->hook);
    free(u);
    return r; /* libuv's errors are -errno on Linux */
  }
  u->poll.data = w;
  uv_poll_start(&u->poll, UV_READABLE, pf_uv_on_poll);
  w->state = u;
  return 0;
}

static void pf_uv_loop_ref(struct pf_watcher *w, int ref) {
  struct pf_uv *u = w->state;
  if (u == NULL) return; /* closed already: the environment is ending */
  if (ref)
    uv_ref((uv_handle_t *)&u->poll);
  else
    uv_unref((uv_handle_t *)&u->poll);
}

/* napi_make_callback runs the microtask queue afterwards, as any I/O callback would. No async
 * context: a resource would have to be destroyed with napi_async_destroy, which needs a handle
 * scope that an environment cleanup hook does not have (Deno crashes there); the callbacks that
 * JavaScript hangs on an exit are promise reactions, which carry their own context. */
static napi_status pf_uv_call(struct pf_watcher *w, napi_value fn, size_t argc, const napi_value *argv) {
  napi_value global, ret;
  napi_status s = napi_get_global(w->env, &global);
  if (s != napi_ok) return s;
  return napi_make_callback(w->env, NULL, global, fn, argc, argv, &ret);
}

/* The handle's last callback: the memory goes, and so does the environment's hold on its
 * teardown. */
static void pf_uv_on_closed(uv_handle_t *handle) {
  struct pf_uv *u = (struct pf_uv *)handle;
  napi_async_cleanup_hook_handle hook = u->hook;
  free(u);
  napi_remove_async_cleanup_hook(hook);
}

/* The handle is stopped at once (libuv forgets the epoll fd) and closed; its close callback runs
 * when the loop next turns. That callback is code of this module, so it must run before the
 * environment's teardown can unload the module: a worker's environment unloads its addons, and
 * a close callback still pending then runs unmapped code when the worker's loop is closed (the
 * SIGSEGV of a worker that was the only one to load the addon). The async cleanup hook is what
 * makes the teardown wait: Node counts it as a pending request and turns the loop until the
 * close callback removes it. Whichever runs first, this from the environment's plain cleanup
 * hook or from the async hook, closes the handle; the second finds nothing to do. */
static void pf_uv_stop(struct pf_watcher *w) {
  struct pf_uv *u = w->state;
  w->state = NULL;
  if (u == NULL) return;
  uv_poll_stop(&u->poll);
  u->poll.data = NULL;
  uv_close((uv_handle_t *)&u->poll, pf_uv_on_closed);
}

const struct pf_watch_impl pf_watch_uv_poll_impl = {
    .start = pf_uv_start,
    .loop_ref = pf_uv_loop_ref,
    .call = pf_uv_call,
    .stop = pf_uv_stop,
};
