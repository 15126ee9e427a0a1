/*
 * probe.c: feature probes. Each one really calls the kernel (as Go's checkPidfd does) and keeps
 * the errno it saw, so that support() can say why something is missing.
 *
 * The backend is the first of clone3, clone and fork whose probe child really ran: a spawn with
 * the backend's own flags that writes one word and exits. That also catches CLONE_VM that does
 * not share memory (QEMU user mode, WSL1: libuv probes the same way) and seccomp filters that
 * return ENOSYS or EPERM for clone3 (Docker's default profile; older profiles said EPERM).
 */
#include "probe.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clone.h"
#include "create.h"
#include "pidfd.h"

#define PF_PIDFS_MAGIC 0x50494446

static pthread_once_t pf_once = PTHREAD_ONCE_INIT;
static struct pf_support pf_sup;
static int pf_backend_now;

static void pf_set(struct pf_feature *f, long r) {
  f->probed = 1;
  f->ok = r >= 0;
  f->err = r < 0 ? (int)-r : 0;
}

static int pf_try_backend(int backend, struct pf_feature *f) {
  int vm = 0, exit_info = 0;
  int r = pf_spawn_probe(backend, &vm, &exit_info);
  pf_set(f, r);
  if (r < 0) return 0;
  if (backend != PF_BACKEND_FORK) {
    pf_set(&pf_sup.vm_shared, vm ? 0 : -EFAULT);
    if (!vm) {
      f->ok = 0;
      f->err = EFAULT;
      return 0;
    }
  }
  pf_set(&pf_sup.pidfd_info_exit, exit_info ? 0 : -EOPNOTSUPP);
  return 1;
}

static void pf_probe(void) {
  struct pf_support *s = &pf_sup;
  struct utsname u;
  if (uname(&u) == 0) {
    snprintf(s->kernel, sizeof s->kernel, "%s", u.release);
  }

  int fd = pf_pidfd_open(getpid(), 0);
  pf_set(&s->pidfd_open, fd);
  if (fd >= 0) {
    struct statfs sfs;
    pf_set(&s->pidfs, fstatfs(fd, &sfs) == 0 && sfs.f_type == PF_PIDFS_MAGIC ? 0 : -EOPNOTSUPP);
    struct pf_pidfd_info info;
    memset(&info, 0, sizeof info);
    pf_set(&s->pidfd_info, pf_pidfd_get_info(fd, &info));
    close(fd);
  }
  int tfd = pf_pidfd_open(gettid(), PF_PIDFD_THREAD);
  pf_set(&s->pidfd_thread, tfd);
  if (tfd >= 0) close(tfd);

  siginfo_t si;
  long w = pf_syscall5(SYS_waitid, PF_P_PIDFD, INT_MAX, &si, WEXITED | WNOHANG, 0);
  pf_set(&s->waitid_pidfd, w == -EBADF ? 0 : (w < 0 ? w : -EINVAL));

  pf_set(&s->close_range, pf_syscall3(SYS_close_range, ~0U, ~0U, 0));

  if (pf_clone3_arch_ok()) {
    /* A size below the first published struct: EINVAL if clone3 exists, and no process. */
    long r = pf_syscall2(SYS_clone3, 0, 0);
    pf_set(&s->clone3, r == -EINVAL ? 0 : (r < 0 ? r : -EINVAL));
  }
  /* else: no clone3 trampoline for this architecture (clone.c); s->clone3 stays unprobed, so
   * that support() says so rather than blaming the kernel. */

  const char *forced = getenv("PIDFD_BACKEND");
  int want = PF_BACKEND_NONE;
  if (forced != NULL && forced[0] != '\0') {
    s->forced = 1;
    snprintf(s->forced_name, sizeof s->forced_name, "%s", forced);
    if (strcmp(forced, "clone3") == 0) want = PF_BACKEND_CLONE3;
    else if (strcmp(forced, "clone") == 0) want = PF_BACKEND_CLONE;
    else if (strcmp(forced, "fork") == 0) want = PF_BACKEND_FORK;
    else {
      s->backend = PF_BACKEND_NONE;
      return;
    }
  }

  s->backend = PF_BACKEND_NONE;
  if (!s->pidfd_open.ok || !s->waitid_pidfd.ok) return;

  if ((want == PF_BACKEND_NONE || want == PF_BACKEND_CLONE3) && s->clone3.ok &&
      pf_try_backend(PF_BACKEND_CLONE3, &s->clone3_spawn)) {
    s->backend = PF_BACKEND_CLONE3;
  } else if ((want == PF_BACKEND_NONE || want == PF_BACKEND_CLONE) &&
             !(s->vm_shared.probed && !s->vm_shared.ok) &&
             pf_try_backend(PF_BACKEND_CLONE, &s->clone_spawn)) {
    s->backend = PF_BACKEND_CLONE;
  } else if ((want == PF_BACKEND_NONE || want == PF_BACKEND_FORK) &&
             pf_try_backend(PF_BACKEND_FORK, &s->fork_spawn)) {
    s->backend = PF_BACKEND_FORK;
  }
}

/* Linux 7.1's clone3 flags, each tried once with the clone3 spawn's own flags (CLONE_VM and
 * CLONE_VFORK, exit signal 0): a kernel without them refuses the unknown bits with EINVAL before
 * creating anything. Only the clone3 backend can pass them. */
static void pf_probe_new_flags(struct pf_support *s) {
  if (s->backend != PF_BACKEND_CLONE3) {
    pf_set(&s->autoreap, -ENOSYS);
    pf_set(&s->pidfd_autokill, -ENOSYS);
    pf_set(&s->clone_nnp, -ENOSYS);
    return;
  }
  pf_set(&s->clone_nnp, pf_spawn_probe_flags(PF_CLONE_NNP));
  pf_set(&s->autoreap, pf_spawn_probe_flags(PF_CLONE_AUTOREAP));
  if (s->autoreap.ok) {
    pf_set(&s->pidfd_autokill, pf_spawn_probe_flags(PF_CLONE_AUTOREAP | PF_CLONE_PIDFD_AUTOKILL));
  } else {
    pf_set(&s->pidfd_autokill, -s->autoreap.err);
  }
}

static void pf_probe_once(void) {
  pf_probe();
  pf_probe_new_flags(&pf_sup);
  __atomic_store_n(&pf_backend_now, pf_sup.backend, __ATOMIC_RELEASE);
}

const struct pf_support *pf_support_get(void) {
  pthread_once(&pf_once, pf_probe_once);
  return &pf_sup;
}

int pf_backend_current(void) {
  pf_support_get();
  return __atomic_load_n(&pf_backend_now, __ATOMIC_ACQUIRE);
}

int pf_backend_demote(int err) {
  if (pf_sup.forced || (err != ENOSYS && err != EPERM)) return PF_BACKEND_NONE;
  int expected = PF_BACKEND_CLONE3;
  __atomic_compare_exchange_n(&pf_backend_now, &expected, PF_BACKEND_CLONE, 0, __ATOMIC_ACQ_REL,
                              __ATOMIC_ACQUIRE);
  return __atomic_load_n(&pf_backend_now, __ATOMIC_ACQUIRE);
}
