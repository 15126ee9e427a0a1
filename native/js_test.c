/*
 * js_test.c: entry points for the test suite only (reached through src/internal/testing.ts, never
 * by the library itself): the kernel's view of our children, signal masks and dispositions, fd
 * flags, and the names of the test hooks a spawn plan can carry (`fault`, `faultArg`).
 */
#include "js_test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "js_util.h"
#include "pidfd.h"
#include "spawn.h"
#include "tee.h"

static const char *const pf_fault_names[PF_FAULT_COUNT] = {
    [PF_FAULT_NONE] = "none",
    [PF_FAULT_REPORT_GARBAGE] = "reportGarbage",
    [PF_FAULT_REPORT_SHORT] = "reportShort",
    [PF_FAULT_KILL_BEFORE_EXEC] = "killBeforeExec",
    [PF_FAULT_EXIT_BEFORE_EXEC] = "exitBeforeExec",
    [PF_FAULT_FAIL_STEP] = "failStep",
    [PF_FAULT_PARENT_STEP] = "parentStep",
};

/* { name: step } for a table of step descriptions. */
static napi_value pf_step_table(napi_env env, const struct pf_step_desc *steps, size_t n) {
  napi_value obj;
  napi_create_object(env, &obj);
  for (size_t i = 1; i < n; i++) pf_set_int(env, obj, steps[i].name, (int64_t)i);
  return obj;
}

/* waitid(P_PIDFD) without __WALL, without reaping: -errno, or the pid it would reap. */
static napi_value js_test_waitid_no_wall(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = pf_waitid_pidfd(fd, &si, WEXITED | WNOHANG | WNOWAIT, NULL);
  return pf_int(env, r < 0 ? r : si.si_pid);
}

/* Whether pid is no longer a child of this process (not running, not a zombie). */
static napi_value js_test_reaped(napi_env env, napi_callback_info info) {
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
static napi_value js_test_has_children(napi_env env, napi_callback_info info) {
  (void)info;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT | PF_WALL);
  napi_value v;
  napi_get_boolean(env, !(r < 0 && errno == ECHILD), &v);
  return v;
}

/* Blocks (1) or unblocks (0) a signal on the calling thread; returns whether it was blocked. */
static napi_value js_test_block_signal(napi_env env, napi_callback_info info) {
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
static napi_value js_test_ignore_signal(napi_env env, napi_callback_info info) {
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
static napi_value js_test_fd_flags(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  int r = fcntl(fd, F_GETFD);
  return pf_int(env, r < 0 ? -errno : r);
}

/* teeFault(call, errno, nth): the next tee started fails its nth call of kind `call` (the
 * binding's constants.teeCall) with errno instead of making it; errno 0 clears it. */
static napi_value js_test_tee_fault(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t call, error, nth;
  if (!pf_get_args(env, info, 3, argv) || !pf_to_int(env, argv[0], "call", &call) ||
      !pf_to_int(env, argv[1], "errno", &error) || !pf_to_int(env, argv[2], "nth", &nth))
    return NULL;
  pf_tee_inject_fault(call, error, nth);
  return NULL;
}

/* fill(fd): writes zeros to a socket or a pipe until it would block, without changing its file
 * description (send MSG_DONTWAIT; a pipe opened again non-blocking): the bytes written, or
 * -errno. A place that nobody reads, full before a run starts. */
static napi_value js_test_fill(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  static const char zeros[4096];
  struct stat st;
  if (fstat(fd, &st) != 0) return pf_int(env, -errno);
  int own = -1;
  if (!S_ISSOCK(st.st_mode)) {
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    own = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (own < 0) return pf_int(env, -errno);
  }
  int64_t total = 0;
  for (;;) {
    ssize_t w = own < 0 ? send(fd, zeros, sizeof zeros, MSG_DONTWAIT | MSG_NOSIGNAL)
                        : write(own, zeros, sizeof zeros);
    if (w > 0) total += w;
    else if (w < 0 && errno == EINTR) continue;
    else break;
  }
  int error = errno;
  if (own >= 0) close(own);
  return pf_int(env, error == EAGAIN || error == EWOULDBLOCK ? (int)total : -error);
}

#define PF_FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}

napi_value pf_test_api(napi_env env) {
  napi_value api, constants;
  napi_create_object(env, &api);
  napi_create_object(env, &constants);
  napi_set_named_property(env, constants, "fault",
                          pf_table_of_names(env, pf_fault_names, PF_FAULT_COUNT));
  napi_set_named_property(env, constants, "childStep",
                          pf_step_table(env, pf_child_steps, PF_STEP_COUNT));
  napi_set_named_property(env, constants, "parentStep",
                          pf_step_table(env, pf_parent_steps, PF_PARENT_STEP_COUNT));
  napi_property_descriptor props[] = {
      PF_FN("waitidNoWall", js_test_waitid_no_wall),
      PF_FN("reaped", js_test_reaped),
      PF_FN("hasChildren", js_test_has_children),
      PF_FN("blockSignal", js_test_block_signal),
      PF_FN("ignoreSignal", js_test_ignore_signal),
      PF_FN("fdFlags", js_test_fd_flags),
      PF_FN("teeFault", js_test_tee_fault),
      PF_FN("fill", js_test_fill),
      {"constants", NULL, NULL, NULL, NULL, constants, napi_enumerable, NULL},
  };
  napi_define_properties(env, api, PF_COUNT(props), props);
  return api;
}
