/*
 * js_fds.c: the Node-API entry points on descriptors: fds that JavaScript objects own, the
 * watcher, the pidfd system calls, plain fds, pipes and the watchdog's socket. Each one unwraps
 * its arguments, calls the C core (fdops.h for the plain system calls, pidfd.h, watch.h,
 * owned.h, exit.h) and wraps the result; outcomes are values (-errno), as in js_api.c, which has
 * the spawn entry points.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "exit.h"
#include "fdops.h"
#include "tee.h"
#include "js_api.h"
#include "js_util.h"
#include "pidfd.h"
#include "watch.h"
#include "watchdog.h"

/* An Int32Array of two fds (a pipe's or a socketpair's ends); NULL, with both closed, if it
 * cannot be made. */
static napi_value pf_fd_pair(napi_env env, const int fds[2]) {
  napi_value buffer, array;
  void *data;
  if (napi_create_arraybuffer(env, 2 * sizeof(int32_t), &data, &buffer) != napi_ok ||
      napi_create_typedarray(env, napi_int32_array, 2, buffer, 0, &array) != napi_ok) {
    pf_fd_close(fds[0]);
    pf_fd_close(fds[1]);
    return NULL;
  }
  memcpy(data, fds, 2 * sizeof(int32_t));
  return array;
}

/* socketpair(): two connected AF_UNIX stream sockets, close-on-exec, at fd 3 or above (an
 * Int32Array), or -errno. */
napi_value js_socketpair(napi_env env, napi_callback_info info) {
  int sv[2];
  (void)info;
  int r = pf_fd_socketpair(sv);
  return r < 0 ? pf_int(env, r) : pf_fd_pair(env, sv);
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

/* ownCgroupDir(fd): an external that owns a copy of fd, a cgroup's directory (fd stays the
 * caller's): closeOwned() closes the copy; if the environment ends first, the directory is
 * removed too (owned.h: runSync's cgroup in a worker terminated while the call blocked). A copy,
 * because the caller's fd may be one that Node closes itself when a worker ends (an fs.openSync
 * fd), and an fd closed twice would close whatever took its number meanwhile. */
napi_value js_own_cgroup_dir(napi_env env, napi_callback_info info) {
  napi_value argv[1], external;
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  struct pf_env *e = pf_env_get(env);
  if (e == NULL) return NULL;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return pf_int(env, -errno);
  struct pf_owned *o = pf_owned_add(&e->owned, copy);
  if (o == NULL) {
    close(copy);
    pf_throw_nomem(env);
    return NULL;
  }
  o->remove_dir = 1;
  if (napi_create_external(env, o, pf_owned_finalize, NULL, &external) != napi_ok) {
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
  /* Unset when a worker was terminated while this call blocked (Node-API makes nothing then). */
  if (napi_create_arraybuffer(env, sizeof rec, &data, &ab) != napi_ok) return NULL;
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
  return pf_int(env, pf_fd_readable(fd));
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

/* ---- plain fds (fdops.h) ---- */

napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  return pf_int(env, pf_fd_close(fd));
}

napi_value js_dup(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  return pf_int(env, pf_fd_dup(fd));
}

/* inode(fd): fstat's st_ino as a bigint, or -errno. */
napi_value js_inode(napi_env env, napi_callback_info info) {
  napi_value argv[1], ino;
  int32_t fd;
  uint64_t n;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_int(env, argv[0], "fd", &fd)) return NULL;
  int r = pf_fd_inode(fd, &n);
  if (r < 0) return pf_int(env, r);
  if (napi_create_bigint_uint64(env, n, &ino) != napi_ok) return NULL;
  return ino;
}

/* openDirectory(path): a close-on-exec, read-only fd on the directory, or -errno. */
napi_value js_open_directory(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char *path = NULL;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_string(env, argv[0], "path", &path)) return NULL;
  int r = pf_fd_open_directory(path);
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
  int r = pf_fd_access(path, mode);
  free(path);
  return pf_int(env, r);
}

/* ---- pipes and memory ---- */

/* pipe(): a new pipe, both ends close-on-exec and blocking: [readFd, writeFd], or -errno. For a
 * layer that hands one end to a child as a plain fd and reads the other itself (run()'s
 * capture). */
napi_value js_pipe(napi_env env, napi_callback_info info) {
  int fds[2];
  (void)info;
  int r = pf_fd_pipe(fds);
  return r < 0 ? pf_int(env, r) : pf_fd_pair(env, fds);
}

/* setPipeSize(fd, bytes): grows a pipe to `bytes` (fdops.c): its new capacity, 0 if it held as
 * much already, or -errno. */
napi_value js_set_pipe_size(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, bytes;
  if (!pf_get_args(env, info, 2, argv) || !pf_to_int(env, argv[0], "fd", &fd) ||
      !pf_to_int(env, argv[1], "bytes", &bytes))
    return NULL;
  return pf_int(env, pf_fd_set_pipe_size(fd, bytes));
}

/* tee(source, targets, status): copies everything of pipe `source` to each fd of `targets` (an
 * Int32Array, in order) on a thread of its own (tee.c), failures reported on pipe `status`,
 * closed when it ends. Every fd is duplicated: the caller closes its own. The tee's id (for
 * teeStop()), or [-errno, the call that failed]. A detached or empty `targets`, or one of more
 * than PF_TEE_MAX, is EINVAL. */
napi_value js_tee(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t source, status;
  void *data = NULL;
  size_t length = 0;
  int present = 0;
  if (!pf_get_args(env, info, 3, argv) || !pf_to_int(env, argv[0], "source", &source) ||
      !pf_value_typed(env, argv[1], "targets", napi_int32_array, &data, &length, &present) ||
      !pf_to_int(env, argv[2], "status", &status))
    return NULL;
  double id = 0;
  enum pf_tee_call call = PF_TEE_CALL_MALLOC;
  /* A detached array has no data and length 0: refused like an empty one. */
  int r = !present || data == NULL || length > PF_TEE_MAX
              ? -EINVAL
              : pf_tee_start(source, data, (int)length, status, &id, &call);
  napi_value out, name, errno_value;
  if (r == 0) {
    napi_create_double(env, id, &out);
    return out;
  }
  if (napi_create_array_with_length(env, 2, &out) != napi_ok) return NULL;
  napi_create_int32(env, r, &errno_value);
  napi_create_string_utf8(env, pf_tee_call_names[call], NAPI_AUTO_LENGTH, &name);
  napi_set_element(env, out, 0, errno_value);
  napi_set_element(env, out, 1, name);
  return out;
}

/* teeStop(id): tells tee `id` to stop waiting (tee.h, pf_tee_stop()): true, or false if it has
 * ended. */
napi_value js_tee_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  double id;
  if (!pf_get_args(env, info, 1, argv) || !pf_to_double(env, argv[0], "id", &id)) return NULL;
  napi_get_boolean(env, pf_tee_stop(id) != 0, &out);
  return out;
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
  return pf_int(env, pf_mem_advise_huge_pages(data, (size_t)reserved));
}

/* ---- the watchdog's control socket ---- */

const char *const pf_watchdog_op_names[PF_WATCHDOG_OP_COUNT] = {
    [PF_WATCHDOG_NONE] = "none",
    [PF_WATCHDOG_ADD_GROUP] = "addGroup",
    [PF_WATCHDOG_ADD_LEADER] = "addLeader",
    [PF_WATCHDOG_ADD_CGROUP] = "addCgroup",
    [PF_WATCHDOG_REMOVE] = "remove",
};

/* sendWithFd(socket, bytes, fd): one sendmsg of `bytes` carrying a copy of `fd` (none for fd
 * -1): the number of bytes sent, or -errno. Node's own sockets cannot pass descriptors outside
 * its IPC channel. */
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
  return pf_int(env, pf_fd_send_with_fd(sock, data, length, fd));
}
