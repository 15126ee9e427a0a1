/*
 * child.c: the code that runs in the new process between clone and execve.
 *
 * The contract, which every line below keeps:
 *
 *  - With the clone3 and clone backends this code runs with CLONE_VM|CLONE_VFORK: it shares the
 *    parent's memory, on a stack of its own, while the calling thread is suspended and every
 *    other thread of the parent keeps running. Any lock it took could be held by one of those
 *    threads forever; any libc state it touched (errno, malloc arenas, stdio, the atfork and
 *    setxid machinery) belongs to them. So: raw system calls only (pf_syscall*, which do not
 *    touch errno), no malloc, no locks, no stdio, no libc wrappers with side effects. setuid()
 *    from libc, for one, would signal every thread of the parent to change their credentials too.
 *  - All signals are blocked by the parent around clone, and the child keeps them blocked until
 *    every disposition is back to SIG_DFL: no handler of the parent can ever run here (it would
 *    run on the parent's heap, from the wrong process).
 *  - Every failure goes through pf_fail(): it records {step, errno, index} where the parent will
 *    look (the shared report for CLONE_VM, the report socket for the fork backend) and exits with
 *    status 127. Nothing else is written, and nothing is printed.
 *  - The plan is read-only apart from fds[].source, which the child rewrites as it moves fds.
 *  - Every function here is PF_CHILD_CODE (child.h): a sanitizer build must not instrument it.
 *
 * The order of the steps is deliberate: dispositions first (so nothing odd can happen later),
 * then the cgroup (without clone3), then session and group, the working directory, the file descriptors, and credentials; the
 * parent-death signal after the credentials, because changing credentials clears it; the signal
 * mask last, so that the only place a signal can be delivered is execve itself.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "sys.h"

PF_CHILD_CODE
static _Noreturn void pf_exit(int status) {
  for (;;) pf_syscall1(SYS_exit_group, status);
}

/* Hands a report (or, from the test hooks, something that is not one) to the parent. */
PF_CHILD_CODE
static void pf_send_report(struct pf_child_plan *p, const struct pf_child_report *r, size_t len) {
  if (p->report != NULL) {
    volatile struct pf_child_report *out = p->report;
    out->step = r->step;
    out->err = r->err;
    out->index = r->index;
    out->check = r->check;
    out->magic = r->magic; /* last: a report is there once its magic is */
  }
  if (p->chan_fd >= 0) pf_syscall3(SYS_write, p->chan_fd, r, len);
}

/* Records the failure for the parent and exits 127 (the shell's "cannot execute"). */
PF_CHILD_CODE
static _Noreturn void pf_fail(struct pf_child_plan *p, int step, long err, int index) {
  struct pf_child_report r;
  r.magic = PF_REPORT_MAGIC;
  r.step = step;
  r.err = (int32_t)err;
  r.index = index;
  r.check = pf_report_check(&r);
  pf_send_report(p, &r, sizeof r);
  pf_exit(127);
}

/* The test hooks that corrupt the report: what a bug in this file would look like. */
PF_CHILD_CODE
static _Noreturn void pf_fail_corrupt(struct pf_child_plan *p, int short_record) {
  struct pf_child_report r;
  r.magic = short_record ? PF_REPORT_MAGIC : 0xdeadbeefu;
  r.step = PF_STEP_FAULT;
  r.err = 5;
  r.index = 0x41414141;
  r.check = 0x42424242; /* never the right check */
  pf_send_report(p, &r, short_record ? sizeof r / 2 : sizeof r);
  pf_exit(127);
}

PF_CHILD_CODE
static void pf_maybe_fault(struct pf_child_plan *p, int step) {
  if (p->fault == PF_FAULT_FAIL_STEP && p->fault_arg == step) pf_fail(p, step, EIO, -1);
}

/* Every signal back to SIG_DFL, including the ones Node ignores (SIGPIPE, SIGXFSZ). */
PF_CHILD_CODE
static void pf_reset_dispositions(struct pf_child_plan *p) {
  /* struct kernel_sigaction: handler, flags, restorer, mask. All zero is SIG_DFL on every
   * layout, with or without the restorer field. */
  unsigned long dfl[4] = {0, 0, 0, 0};
  for (int sig = 1; sig < 65; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    long r = pf_syscall4(SYS_rt_sigaction, sig, dfl, 0, 8);
    if (r < 0 && r != -EINVAL) pf_fail(p, PF_STEP_SIGACTION, -r, sig);
  }
}

/* Closes [lo, hi]; lo <= hi. */
PF_CHILD_CODE
static long pf_close_span(struct pf_child_plan *p, unsigned lo, unsigned hi) {
  if (p->use_close_range) return pf_syscall3(SYS_close_range, lo, hi, 0);
  for (unsigned fd = lo; fd <= hi; fd++) pf_syscall1(SYS_close, fd);
  return 0;
}

/* Closes every fd >= lowest except `keep`, when close_range is missing (kernel < 5.9). */
PF_CHILD_CODE
static long pf_close_from_by_scan(int lowest, int keep) {
  union {
    char bytes[2048];
    uint64_t align;
  } buf;
  struct {
    uint64_t cur, max;
  } limit;
  long dfd = pf_syscall4(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                         0);
  /* EMFILE: every fd below RLIMIT_NOFILE is taken, as in a parent that lowered its limit below
   * fds it holds (Node 22 and later hold some 20 at start-up, io_uring's among them). Those from
   * `lowest` up are to be closed anyway: closing them one by one, up to the limit, makes room for
   * the directory, whose listing then finds the rest, above the limit. */
  if (dfd == -EMFILE && pf_syscall4(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&limit) == 0 &&
      limit.cur > (uint64_t)lowest) {
    for (uint64_t fd = (uint64_t)lowest; fd < limit.cur; fd++)
      if (fd != (uint64_t)keep) pf_syscall1(SYS_close, (long)fd);
    dfd = pf_syscall4(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  }
  if (dfd < 0) return dfd;
  for (;;) {
    long n = pf_syscall3(SYS_getdents64, dfd, buf.bytes, sizeof buf.bytes);
    if (n < 0) {
      pf_syscall1(SYS_close, dfd);
      return n;
    }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      const char *d = buf.bytes + off;
      unsigned short reclen = *(const unsigned short *)(d + 16); /* after d_ino, d_off */
      const char *name = d + 19;                                  /* after d_reclen, d_type */
      long fd = 0;
      int digits = 0;
      for (; *name >= '0' && *name <= '9'; name++, digits++) fd = fd * 10 + (*name - '0');
      if (digits > 0 && *name == '\0' && fd >= lowest && fd != dfd && fd != keep)
        pf_syscall1(SYS_close, fd);
      off += reclen;
    }
  }
  pf_syscall1(SYS_close, dfd);
  return 0;
}

PF_CHILD_CODE
static int pf_is_target(const struct pf_child_plan *p, int fd) {
  for (int i = 0; i < p->nfds; i++)
    if (p->fds[i].target == fd) return 1;
  return 0;
}

/*
 * Places every source at its target and closes everything else.
 *
 * A source can sit where another entry's target goes (swapping stdout and stderr; a pipe the
 * parent got at fd 0 because its own stdin was closed), so such a source is first moved above
 * the target range [0, max_target]; after that no dup3 can clobber a source still needed. A
 * source already at its own target ('inherit') stays where it is and only loses close-on-exec:
 * no other entry targets it, and it costs no extra fd.
 */
PF_CHILD_CODE
static void pf_apply_fds(struct pf_child_plan *p) {
  int above = p->max_target + 1;
  long devnull = -1;

  for (int i = 0; i < p->nfds; i++) {
    if (p->fds[i].source != PF_SRC_DEVNULL) continue;
    if (devnull < 0) {
      devnull = pf_syscall4(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC, 0);
      if (devnull < 0) pf_fail(p, PF_STEP_DEVNULL, -devnull, i);
    }
    p->fds[i].source = (int)devnull;
  }
  pf_maybe_fault(p, PF_STEP_DEVNULL);

  /* The report socket must survive until execve: never inside the range the gaps are closed in. */
  if (p->chan_fd >= 0 && p->chan_fd < above) {
    long moved = pf_syscall3(SYS_fcntl, p->chan_fd, F_DUPFD_CLOEXEC, above);
    if (moved < 0) pf_fail(p, PF_STEP_FD_MOVE, -moved, -1);
    p->chan_fd = (int)moved;
  }
  for (int i = 0; i < p->nfds; i++) {
    int source = p->fds[i].source;
    if (source >= above || source == p->fds[i].target || !pf_is_target(p, source)) continue;
    long moved = pf_syscall3(SYS_fcntl, source, F_DUPFD_CLOEXEC, above);
    if (moved < 0) pf_fail(p, PF_STEP_FD_MOVE, -moved, i);
    p->fds[i].source = (int)moved;
  }
  pf_maybe_fault(p, PF_STEP_FD_MOVE);

  for (int i = 0; i < p->nfds; i++) {
    long r = p->fds[i].source == p->fds[i].target
                 ? pf_syscall3(SYS_fcntl, p->fds[i].target, F_SETFD, 0)
                 : pf_syscall3(SYS_dup3, p->fds[i].source, p->fds[i].target, 0);
    if (r < 0) pf_fail(p, PF_STEP_FD_DUP, -r, i);
  }
  pf_maybe_fault(p, PF_STEP_FD_DUP);

  /* The gaps between targets, then everything above the last one (but the report socket, which
   * is close-on-exec and must stay open until execve so that the parent sees EOF only then). */
  long r = 0;
  int next = 0;
  for (int i = 0; i < p->nfds && r >= 0; i++) {
    if (p->fds[i].target > next) r = pf_close_span(p, (unsigned)next, (unsigned)p->fds[i].target - 1);
    next = p->fds[i].target + 1;
  }
  if (r >= 0 && next < above) r = pf_close_span(p, (unsigned)next, (unsigned)above - 1);
  if (r >= 0) {
    if (!p->use_close_range) {
      r = pf_close_from_by_scan(above, p->chan_fd);
    } else if (p->chan_fd >= 0) {
      if (p->chan_fd > above) r = pf_close_span(p, (unsigned)above, (unsigned)p->chan_fd - 1);
      if (r >= 0) r = pf_syscall3(SYS_close_range, (unsigned)p->chan_fd + 1, ~0U, 0);
    } else {
      r = pf_syscall3(SYS_close_range, (unsigned)above, ~0U, 0);
    }
  }
  if (r < 0) pf_fail(p, PF_STEP_FD_CLOSE, -r, -1);
  pf_maybe_fault(p, PF_STEP_FD_CLOSE);
}

PF_CHILD_CODE
static void pf_set_credentials(struct pf_child_plan *p) {
  long r;
  if (p->set_groups) {
    r = pf_syscall2(SYS_setgroups, p->ngroups, p->groups);
    if (r < 0) pf_fail(p, PF_STEP_SETGROUPS, -r, -1);
  } else if (p->set_uid || p->set_gid) {
    /* Changing identity without naming groups drops the supplementary groups (as libuv does);
     * only a privileged parent can, and an unprivileged one has nothing it could drop. */
    r = pf_syscall2(SYS_setgroups, 0, 0);
    if (r < 0 && r != -EPERM) pf_fail(p, PF_STEP_SETGROUPS, -r, -1);
  }
  pf_maybe_fault(p, PF_STEP_SETGROUPS);
  if (p->set_gid) {
    r = pf_syscall1(SYS_setgid, p->gid);
    if (r < 0) pf_fail(p, PF_STEP_SETGID, -r, -1);
  }
  pf_maybe_fault(p, PF_STEP_SETGID);
  if (p->set_uid) {
    r = pf_syscall1(SYS_setuid, p->uid);
    if (r < 0) pf_fail(p, PF_STEP_SETUID, -r, -1);
  }
  pf_maybe_fault(p, PF_STEP_SETUID);
}

PF_CHILD_CODE
static void pf_set_parent_death_signal(struct pf_child_plan *p) {
  /* CLONE_PIDFD_AUTOKILL already kills the child when this process dies, and only then: the
   * parent-death signal would also fire when the spawning thread exits. */
  if (p->pdeathsig == 0 || (p->clone_flags & PF_CLONE_PIDFD_AUTOKILL)) return;
  long r = pf_syscall2(SYS_prctl, PR_SET_PDEATHSIG, p->pdeathsig);
  if (r < 0) pf_fail(p, PF_STEP_PDEATHSIG, -r, -1);
  /* The parent may have died before prctl: the kernel will never send the signal then, so the
   * child sends it to itself. (It is blocked until execve for anything but SIGKILL.) */
  if (pf_syscall0(SYS_getppid) != p->parent_pid)
    pf_syscall2(SYS_kill, pf_syscall0(SYS_getpid), p->pdeathsig);
  pf_maybe_fault(p, PF_STEP_PDEATHSIG);
}

/* noNewPrivileges where CLONE_NNP did not set it at creation (another backend, a kernel before
 * 7.1): execve can then never grant privileges (setuid and setgid bits, file capabilities). */
PF_CHILD_CODE
static void pf_set_no_new_privs(struct pf_child_plan *p) {
  if (!p->no_new_privs || (p->clone_flags & PF_CLONE_NNP)) return;
  long r = pf_syscall5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (r < 0) pf_fail(p, PF_STEP_NNP, -r, -1);
  pf_maybe_fault(p, PF_STEP_NNP);
}

/* execvp's rules, without its shell fallback: a file without a #! line fails with ENOEXEC. */
PF_CHILD_CODE
static _Noreturn void pf_exec(struct pf_child_plan *p) {
  int eacces_at = -1;
  int last = 0;
  long r = -ENOENT;
  pf_maybe_fault(p, PF_STEP_EXEC);
  for (int i = 0; p->paths[i] != NULL; i++) {
    last = i;
    r = pf_syscall3(SYS_execve, p->paths[i], p->argv, p->envp);
    switch (-r) {
      case EACCES:
        if (eacces_at < 0) eacces_at = i;
        continue;
      case ENOENT:
      case ENOTDIR:
      case ESTALE:
      case ENODEV:
      case ETIMEDOUT:
        continue; /* not here: try the next PATH entry */
      default:
        pf_fail(p, PF_STEP_EXEC, -r, i);
    }
  }
  if (eacces_at >= 0) pf_fail(p, PF_STEP_EXEC, EACCES, eacces_at);
  pf_fail(p, PF_STEP_EXEC, -r, last);
}

PF_CHILD_CODE
_Noreturn void pf_child_main(struct pf_child_plan *p) {
  long r;

  if (p->chan_fd >= 0) {
    /* Fork backend: wait until the parent holds our pidfd. Until then we cannot exit on our own,
     * so our pid cannot be reaped and reused under the parent's pidfd_open. */
    char go = 0;
    do r = pf_syscall3(SYS_read, p->chan_fd, &go, 1);
    while (r == -EINTR);
    if (r != 1) pf_exit(127); /* the parent gave up on us; it reaps us */
  }

  if (p->fault == PF_FAULT_REPORT_GARBAGE) pf_fail_corrupt(p, 0);
  if (p->fault == PF_FAULT_REPORT_SHORT) pf_fail_corrupt(p, 1);

  pf_reset_dispositions(p);
  pf_maybe_fault(p, PF_STEP_SIGACTION);

  /* Into the cgroup before anything else: every step after this (and every process the program
   * starts) runs inside it, and the credentials that might forbid the write are not changed yet.
   * clone3 does this at creation (CLONE_INTO_CGROUP) and never sets the fd. "0" is the writer. */
  if (p->cgroup_procs_fd >= 0) {
    r = pf_syscall3(SYS_write, p->cgroup_procs_fd, "0", 1);
    if (r < 0) pf_fail(p, PF_STEP_CGROUP, -r, -1);
  }
  pf_maybe_fault(p, PF_STEP_CGROUP);

  if (p->setsid) {
    r = pf_syscall0(SYS_setsid);
    if (r < 0) pf_fail(p, PF_STEP_SETSID, -r, -1);
  }
  pf_maybe_fault(p, PF_STEP_SETSID);
  if (p->pgid >= 0) {
    r = pf_syscall2(SYS_setpgid, 0, p->pgid);
    if (r < 0) pf_fail(p, PF_STEP_SETPGID, -r, -1);
  }
  pf_maybe_fault(p, PF_STEP_SETPGID);

  if (p->cwd != NULL) {
    r = pf_syscall1(SYS_chdir, p->cwd);
    if (r < 0) pf_fail(p, PF_STEP_CHDIR, -r, -1);
  }
  pf_maybe_fault(p, PF_STEP_CHDIR);

  pf_apply_fds(p);
  pf_set_credentials(p);
  pf_set_parent_death_signal(p);
  pf_set_no_new_privs(p);

  if (p->fault == PF_FAULT_KILL_BEFORE_EXEC)
    pf_syscall2(SYS_kill, pf_syscall0(SYS_getpid), SIGKILL);
  if (p->fault == PF_FAULT_EXIT_BEFORE_EXEC) pf_exit(p->fault_arg);

  uint64_t empty = 0;
  r = pf_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8);
  if (r < 0) pf_fail(p, PF_STEP_SIGMASK, -r, -1);
  pf_maybe_fault(p, PF_STEP_SIGMASK);

  pf_exec(p);
}

PF_CHILD_CODE
int pf_child_entry(void *plan) { pf_child_main(plan); }

PF_CHILD_CODE
int pf_child_probe_entry(void *plan) {
  ((struct pf_child_plan *)plan)->vm_probe = 1;
  pf_exit(0);
}
