/*
 * watch_uv.c: the uv_poll implementation of the exit watcher (see watch.h): the epoll fd sits in
 * the event loop as one uv_poll handle. For runtimes whose event loop is real libuv (Node).
 */
#include <errno.h>
#include <stdlib.h>
#include <uv.h>

#include "watch.h"

static void pf_uv_on_poll(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  pf_watch_drain(handle->data);
}

static int pf_uv_start(struct pf_watcher *w, napi_value on_exit) {
  uv_loop_t *loop;
  (void)on_exit;
  if (napi_get_uv_event_loop(w->env, &loop) != napi_ok || loop == NULL) return -ENOSYS;
  uv_poll_t *poll = calloc(1, sizeof *poll);
  if (poll == NULL) return -ENOMEM;
  int r = uv_poll_init(loop, poll, w->epfd);
  if (r != 0) {
    free(poll);
    return r; /* libuv's errors are -errno on Linux */
  }
  poll->data = w;
  uv_poll_start(poll, UV_READABLE, pf_uv_on_poll);
  w->state = poll;
  return 0;
}

static void pf_uv_loop_ref(struct pf_watcher *w, int ref) {
  if (ref)
    uv_ref(w->state);
  else
    uv_unref(w->state);
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

static void pf_uv_on_closed(uv_handle_t *handle) { free(handle); }

/* From a plain cleanup hook: the handle is stopped at once (libuv forgets the epoll fd), and
 * closed; its memory is freed by the close callback when the loop next runs (a worker's loop
 * does; at the main thread's exit it may not, and the process is ending anyway). */
static void pf_uv_stop(struct pf_watcher *w) {
  uv_poll_t *poll = w->state;
  w->state = NULL;
  if (poll == NULL) return;
  uv_poll_stop(poll);
  poll->data = NULL;
  uv_close((uv_handle_t *)poll, pf_uv_on_closed);
}

const struct pf_watch_impl pf_watch_uv_poll_impl = {
    .start = pf_uv_start,
    .loop_ref = pf_uv_loop_ref,
    .call = pf_uv_call,
    .stop = pf_uv_stop,
};
