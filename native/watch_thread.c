/*
 * watch_thread.c: the thread implementation of the exit watcher (see watch.h). It needs nothing
 * of libuv, for runtimes whose event loop is not libuv's (Bun, Deno).
 *
 * One thread per environment blocks in poll() on the epoll fd and on an eventfd that stops it.
 * When the epoll fd is readable it calls a napi_threadsafe_function, whose callback, on the
 * JavaScript thread, drains the set, reaps and delivers the batch (pf_watch_drain) as the uv_poll
 * callback does, then tells the thread that it may poll again. The thread never reads the set
 * itself, and it waits for that word before polling again: a level-triggered set that is still
 * ready cannot make it spin, nor queue a second call. Whether the watcher keeps the event loop
 * alive is the threadsafe function's ref/unref. The environment's plain cleanup hook stops and
 * joins the thread (pf_watch_stop).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "watch.h"

struct pf_thread {
  /* The watcher, or NULL once stopped. Read by the threadsafe function's callback, which some
   * runtimes may still run after the environment's cleanup: that is why this state lives apart
   * from the watcher and is freed by the threadsafe function's finalizer. */
  struct pf_watcher *w;
  int epfd;
  int stopfd; /* an eventfd: written once to stop the thread */
  napi_threadsafe_function tsfn;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int delivered; /* the JavaScript side has handled the last readiness */
  int stopping;
};

static void *pf_thread_main(void *arg) {
  struct pf_thread *t = arg;
  for (;;) {
    struct pollfd p[2] = {{.fd = t->epfd, .events = POLLIN}, {.fd = t->stopfd, .events = POLLIN}};
    int r = poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || p[1].revents != 0 || (p[0].revents & (POLLERR | POLLNVAL))) break;
    if (!(p[0].revents & POLLIN)) continue;
    pthread_mutex_lock(&t->lock);
    t->delivered = 0;
    pthread_mutex_unlock(&t->lock);
    /* Non-blocking into an unbounded queue; at most one call is ever queued. napi_closing once
     * the environment is going away: then the cleanup hook is about to stop us. */
    if (napi_call_threadsafe_function(t->tsfn, NULL, napi_tsfn_nonblocking) != napi_ok) break;
    pthread_mutex_lock(&t->lock);
    while (!t->delivered && !t->stopping) pthread_cond_wait(&t->cond, &t->lock);
    int stopping = t->stopping;
    pthread_mutex_unlock(&t->lock);
    if (stopping) break;
  }
  return NULL;
}

/* On the JavaScript thread. env is NULL when the runtime drops a queued call at teardown. */
static void pf_thread_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  struct pf_thread *t = context;
  (void)js_cb;
  (void)data;
  if (env == NULL || t->w == NULL) return;
  pf_watch_drain(t->w);
  pthread_mutex_lock(&t->lock);
  t->delivered = 1;
  pthread_cond_signal(&t->cond);
  pthread_mutex_unlock(&t->lock);
}

static void pf_thread_free(struct pf_thread *t) {
  pthread_cond_destroy(&t->cond);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

/* The threadsafe function is gone: nothing can call pf_thread_call_js any more. (A runtime that
 * never finalizes it at exit, as Bun does not finalize at exit, leaves this small block.) */
static void pf_thread_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  pf_thread_free(data);
}

static int pf_thread_start(struct pf_watcher *w, napi_value on_exit) {
  napi_value name;
  struct pf_thread *t = calloc(1, sizeof *t);
  if (t == NULL) return -ENOMEM;
  t->w = w;
  t->epfd = w->epfd;
  pthread_mutex_init(&t->lock, NULL);
  pthread_cond_init(&t->cond, NULL);
  t->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (t->stopfd < 0) {
    int err = errno;
    pf_thread_free(t);
    return -err;
  }
  if (napi_create_string_utf8(w->env, "pidfd:exit", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(w->env, on_exit, NULL, name, 0, 1, t, pf_thread_finalize, t,
                                      pf_thread_call_js, &t->tsfn) != napi_ok) {
    close(t->stopfd);
    pf_thread_free(t);
    return -ENOMEM;
  }
  /* Created with every signal blocked, so that it inherits a full mask: signals are for the
   * threads that handle them, and poll() is never interrupted. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pthread_create(&t->thread, NULL, pf_thread_main, t);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != 0) {
    close(t->stopfd);
    t->w = NULL;
    napi_release_threadsafe_function(t->tsfn, napi_tsfn_abort); /* finalizes: frees t */
    return -r;
  }
  w->state = t;
  return 0;
}

static void pf_thread_loop_ref(struct pf_watcher *w, int ref) {
  struct pf_thread *t = w->state;
  if (ref)
    napi_ref_threadsafe_function(w->env, t->tsfn);
  else
    napi_unref_threadsafe_function(w->env, t->tsfn);
}

/* Inside the threadsafe function's callback, which runs the microtask queue afterwards. */
static napi_status pf_thread_call(struct pf_watcher *w, napi_value fn, size_t argc, const napi_value *argv) {
  napi_value global, ret;
  napi_status s = napi_get_global(w->env, &global);
  if (s != napi_ok) return s;
  return napi_call_function(w->env, global, fn, argc, argv, &ret);
}

static void pf_thread_stop(struct pf_watcher *w) {
  struct pf_thread *t = w->state;
  w->state = NULL;
  if (t == NULL) return;
  pthread_mutex_lock(&t->lock);
  t->stopping = 1;
  pthread_cond_signal(&t->cond);
  pthread_mutex_unlock(&t->lock);
  uint64_t one = 1;
  while (write(t->stopfd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  pthread_join(t->thread, NULL);
  close(t->stopfd);
  t->stopfd = -1;
  t->w = NULL;
  /* The last use of t here: the runtime may finalize (and free t) at once or later. */
  napi_release_threadsafe_function(t->tsfn, napi_tsfn_release);
}

const struct pf_watch_impl pf_watch_thread_impl = {
    .start = pf_thread_start,
    .loop_ref = pf_thread_loop_ref,
    .call = pf_thread_call,
    .stop = pf_thread_stop,
};
