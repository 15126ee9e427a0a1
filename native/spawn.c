/*
 * spawn.c: the parent side of a spawn.
 *
 * The child's report is read three ways, as libuv does: nothing at all means execve succeeded;
 * a complete, well-formed report means the named step failed (the child has exited: reap it,
 * close the pidfd, return the error); anything else is a bug or a corruption, reported with its
 * raw bytes and never guessed at. A child killed before execve writes nothing: the spawn then
 * succeeds and the exit status tells what happened, as with glibc's posix_spawn.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "create.h"
#include "pidfd.h"
#include "probe.h"
#include "sys.h"

const char *const pf_backend_names[PF_BACKEND_COUNT] = {
    [PF_BACKEND_NONE] = "none",
    [PF_BACKEND_CLONE3] = "clone3",
    [PF_BACKEND_CLONE] = "clone",
    [PF_BACKEND_FORK] = "fork",
};

const char *const pf_stdio_kind_names[PF_STDIO_KIND_COUNT] = {
    [PF_STDIO_FD] = "fd",          [PF_STDIO_DEVNULL] = "devnull", [PF_STDIO_PIPE_IN] = "pipeIn",
    [PF_STDIO_PIPE_OUT] = "pipeOut", [PF_STDIO_SOCKET] = "socket",
};

const struct pf_step_desc pf_child_steps[PF_STEP_COUNT] = {
    [PF_STEP_NONE] = {"none", "spawn"},
    [PF_STEP_SYNC] = {"sync", "read"},
    [PF_STEP_SIGACTION] = {"sigaction", "rt_sigaction"},
    [PF_STEP_CGROUP] = {"cgroupJoin", "write"},
    [PF_STEP_SETSID] = {"setsid", "setsid"},
    [PF_STEP_SETPGID] = {"setpgid", "setpgid"},
    [PF_STEP_CHDIR] = {"chdir", "chdir"},
    [PF_STEP_DEVNULL] = {"devnull", "open"},
    [PF_STEP_FD_MOVE] = {"fdMove", "fcntl"},
    [PF_STEP_FD_DUP] = {"fdDup", "dup3"},
    [PF_STEP_FD_CLOSE] = {"fdClose", "close_range"},
    [PF_STEP_SETGROUPS] = {"setgroups", "setgroups"},
    [PF_STEP_SETGID] = {"setgid", "setgid"},
    [PF_STEP_SETUID] = {"setuid", "setuid"},
    [PF_STEP_PDEATHSIG] = {"pdeathsig", "prctl"},
    [PF_STEP_NNP] = {"noNewPrivileges", "prctl"},
    [PF_STEP_SIGMASK] = {"sigmask", "rt_sigprocmask"},
    [PF_STEP_EXEC] = {"exec", "execve"},
    [PF_STEP_FAULT] = {"fault", "fault"},
};

const struct pf_step_desc pf_parent_steps[PF_PARENT_STEP_COUNT] = {
    [PF_PARENT_NONE] = {"none", "spawn"},
    [PF_PARENT_BACKEND] = {"backend", "spawn"},
    [PF_PARENT_STDIO_CHECK] = {"stdioCheck", "fcntl"},
    [PF_PARENT_PIPE] = {"pipe", "pipe2"},
    [PF_PARENT_STDIO_MOVE] = {"stdioMove", "fcntl"},
    [PF_PARENT_CGROUP] = {"cgroup", "open"},
    [PF_PARENT_STACK] = {"stack", "mmap"},
    [PF_PARENT_CHANNEL] = {"channel", "socketpair"},
    [PF_PARENT_CLONE] = {"clone", "clone3"},
    [PF_PARENT_PIDFD_OPEN] = {"pidfdOpen", "pidfd_open"},
    [PF_PARENT_WATCH] = {"watch", "epoll_ctl"},
};

/* Records a failure of the parent's `step`; `syscall` overrides the step's own when not NULL. */
static void pf_fail_parent(struct pf_failure *f, int step, int err, const char *syscall, int index) {
  memset(f, 0, sizeof *f);
  f->err = err;
  f->step = pf_parent_steps[step].name;
  f->syscall = syscall != NULL ? syscall : pf_parent_steps[step].syscall;
  f->child = 0;
  f->index = index;
}

/* Reaps a child that failed before execve. It has exited (CLONE_VFORK let us run again only
 * then) or is about to; its exit signal is 0 until execve, so only __WALL sees it. */
static void pf_reap_failed(int pidfd) {
  siginfo_t info;
  pf_waitid_pidfd(pidfd, &info, WEXITED | PF_WALL, NULL);
}

/* The system call a backend's creation is. */
static const char *pf_clone_syscall(int backend) {
  return backend == PF_BACKEND_CLONE3 ? "clone3" : backend == PF_BACKEND_CLONE ? "clone" : "fork";
}

/*
 * Linux 7.1's clone3 flags for this plan, where the probe found them (probe.c):
 *  - CLONE_NNP for noNewPrivileges (elsewhere the child calls prctl);
 *  - CLONE_PIDFD_AUTOKILL (with the CLONE_AUTOREAP it needs) for killOnParentExit's SIGKILL: the
 *    kernel kills the child when the last copy of its pidfd closes, which is when this process
 *    dies, however it dies, and not when the spawning thread exits as PR_SET_PDEATHSIG does.
 *    Unprivileged (no CAP_SYS_ADMIN), the kernel takes it only with CLONE_NNP. run()'s cleanup
 *    (pdeathsig without auto_kill) keeps the signal: from the main thread it fires at the same
 *    time, and the reap by waitid keeps the rusage of run()'s result;
 *  - CLONE_AUTOREAP for autoReap: the kernel reaps the child, so no waitid or waitpid(-1) in
 *    this process can take it; its status then comes from PIDFD_INFO_EXIT, without rusage.
 * The exit signal stays 0, as CLONE_AUTOREAP requires.
 */
static uint64_t pf_new_clone_flags(const struct pf_child_plan *plan) {
  const struct pf_support *s = pf_support_get();
  uint64_t flags = 0;
  int nnp = plan->no_new_privs && s->clone_nnp.ok;
  if (nnp) flags |= PF_CLONE_NNP;
  if (plan->auto_kill && plan->pdeathsig == SIGKILL && (s->pidfd_autokill.ok || (nnp && s->pidfd_autokill.err == EPERM)))
    flags |= PF_CLONE_AUTOREAP | PF_CLONE_PIDFD_AUTOKILL;
  if (plan->auto_reap && s->autoreap.ok) flags |= PF_CLONE_AUTOREAP;
  return flags;
}

/* Reads the fork backend's report: until EOF, which comes when the child execs or exits. */
static int pf_read_report(int chan, unsigned char *buf, size_t size) {
  size_t got = 0;
  for (;;) {
    unsigned char extra[64];
    unsigned char *dst = got < size ? buf + got : extra;
    size_t room = got < size ? size - got : sizeof extra;
    ssize_t n = read(chan, dst, room);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  return (int)got;
}

/* The cgroup.procs fd is the child's to write; once it exists, or failed to, it is closed. */
static void pf_close_procs(struct pf_child_plan *plan) {
  if (plan->cgroup_procs_fd >= 0) close(plan->cgroup_procs_fd);
  plan->cgroup_procs_fd = -1;
}

int pf_spawn(struct pf_stack *stack, int backend, struct pf_child_plan *plan, int cgroup_fd,
             struct pf_spawn_result *out) {
  struct pf_child_report report;
  int pidfd = -1, chan = -1, step;

  memset(out, 0, sizeof *out);
  out->pidfd = -1;
  memset(&report, 0, sizeof report);
  plan->chan_fd = -1;
  plan->report = backend == PF_BACKEND_FORK ? NULL : &report;
  /* Only the parent-death check reads it (child.c): no getpid() for a spawn without one. */
  plan->parent_pid = plan->pdeathsig != 0 ? getpid() : 0;
  plan->clone_flags = backend == PF_BACKEND_CLONE3 ? pf_new_clone_flags(plan) : 0;

  plan->cgroup_procs_fd = -1;
  if (cgroup_fd >= 0 && backend != PF_BACKEND_CLONE3) {
    /* CLONE_INTO_CGROUP exists only in clone3: the child joins through cgroup.procs instead,
     * before its first step (glibc has no fallback; Go and systemd do the same). */
    plan->cgroup_procs_fd = pf_parent_fault(plan, PF_PARENT_CGROUP)
                                ? (errno = EMFILE, -1)
                                : openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (plan->cgroup_procs_fd < 0) {
      pf_fail_parent(&out->fail, PF_PARENT_CGROUP, errno, "open", -1);
      return -1;
    }
    cgroup_fd = -1;
  }
  if (backend != PF_BACKEND_FORK) {
    int r = pf_parent_fault(plan, PF_PARENT_STACK) ? -ENOMEM : pf_stack_ensure(stack);
    if (r < 0) {
      pf_fail_parent(&out->fail, PF_PARENT_STACK, -r, NULL, -1);
      pf_close_procs(plan);
      return -1;
    }
  }

  long pid = pf_create(stack, backend, plan, cgroup_fd, pf_child_entry, &pidfd, &chan, &step);
  pf_close_procs(plan);
  if (pid < 0) {
    int err = (int)-pid;
    /* A kernel without CLONE_INTO_CGROUP (before 5.7) sees a clone_args larger than it knows. */
    if (cgroup_fd >= 0 && err == E2BIG) err = ENOTSUP;
    pf_fail_parent(&out->fail, step, err, step == PF_PARENT_CLONE ? pf_clone_syscall(backend) : NULL,
                   -1);
    return -1;
  }

  int len;
  if (backend == PF_BACKEND_FORK) {
    pf_send_go(chan);
    len = pf_read_report(chan, (unsigned char *)&report, sizeof report);
    close(chan);
  } else {
    static const struct pf_child_report zero;
    len = memcmp(&report, &zero, sizeof report) == 0 ? 0 : (int)sizeof report;
  }

  if (len == 0) {
    out->pid = (pid_t)pid;
    out->pidfd = pidfd;
    return 0;
  }

  pf_reap_failed(pidfd);
  close(pidfd);
  struct pf_failure *f = &out->fail;
  if (len == (int)sizeof report && report.magic == PF_REPORT_MAGIC &&
      report.check == pf_report_check(&report) && report.step > PF_STEP_NONE &&
      report.step < PF_STEP_COUNT && report.err > 0) {
    f->err = report.err;
    f->step = pf_child_steps[report.step].name;
    f->syscall = pf_child_steps[report.step].syscall;
    f->child = 1;
    f->index = report.index;
    return -1;
  }
  f->err = EPROTO;
  f->step = "report";
  f->syscall = "spawn";
  f->child = 1;
  f->index = -1;
  f->raw_len = len < (int)sizeof f->raw ? len : (int)sizeof f->raw;
  memcpy(f->raw, &report, (size_t)f->raw_len);
  return -1;
}

/* ---- pf_start: the whole request ---- */

/* Closes every fd in list[0..n) that is not -1, and sets it to -1. */
static void pf_close_all(int *list, int n) {
  for (int i = 0; i < n; i++) {
    if (list[i] >= 0) close(list[i]);
    list[i] = -1;
  }
}

/*
 * A descriptor without O_NONBLOCK for a parent fd that has it. Node puts the pipes it uses on
 * fds 0-2 (and every fd a stream adopts) in non-blocking mode, and the flag belongs to the open
 * file description, which a child would share: its first write to a full pipe would fail with
 * EAGAIN. A pipe or FIFO is opened anew through /proc/self/fd, which gives a description of its
 * own on the same pipe, blocking, and leaves the parent's as it is. Anything else (a socket, a
 * terminal) has no such second opening: the flag is cleared on the shared description, as libuv
 * does for the fds 0-2 it hands to a child. Returns a new fd for the child (the caller closes it
 * after the spawn), or -1 when the fd is to be passed as it is.
 */
static int pf_blocking_copy(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || !(flags & O_NONBLOCK)) return -1;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    /* O_NONBLOCK for the open itself: a read end with no writer left would wait forever. */
    int copy = open(path, (flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (copy >= 0) {
      if (fcntl(copy, F_SETFL, flags & ~O_NONBLOCK) == 0) return copy;
      close(copy);
    }
    /* No /proc, or a write end with no reader left (ENXIO): as for the others. */
  }
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return -1;
}

/* Creates the fds of stdio entry i: a pipe or socketpair, with the parent's end kept at fd 3 or
 * above. Returns 0, or -1 with out->fail set. */
static int pf_make_channel(struct pf_start_request *req, int i, int *parent_end, int *child_end,
                           struct pf_failure *fail) {
  int kind = req->stdio[i].kind, pair[2], r;
  if (pf_parent_fault(&req->plan, PF_PARENT_PIPE)) {
    errno = EMFILE;
    r = -1;
  } else if (kind == PF_STDIO_SOCKET) {
    r = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
  } else {
    r = pipe2(pair, O_CLOEXEC);
  }
  if (r != 0) {
    pf_fail_parent(fail, PF_PARENT_PIPE, errno, kind == PF_STDIO_SOCKET ? "socketpair" : NULL, i);
    return -1;
  }
  /* pipe2 gives [read, write]: the child reads its stdin and writes the others. */
  int child = kind == PF_STDIO_PIPE_IN ? 0 : 1;
  *child_end = pair[child];
  *parent_end = pair[1 - child];
  /* With its own fds 0-2 closed, the parent gets pipe ends there; Node's streams must not end
   * up on them (libuv never closes 0-2, and process.stdout would open onto our pipe). */
  if (*parent_end < 3 || pf_parent_fault(&req->plan, PF_PARENT_STDIO_MOVE)) {
    int moved = pf_parent_fault(&req->plan, PF_PARENT_STDIO_MOVE) ? (errno = EMFILE, -1)
                                                                  : fcntl(*parent_end, F_DUPFD_CLOEXEC, 3);
    if (moved < 0) {
      pf_fail_parent(fail, PF_PARENT_STDIO_MOVE, errno, NULL, i);
      return -1;
    }
    close(*parent_end);
    *parent_end = moved;
  }
  return 0;
}

int pf_start(struct pf_stack *stack, struct pf_start_request *req, int *parent_fds,
             struct pf_spawn_result *out) {
  int n = req->nstdio;
  int cgroup_fd = req->cgroup_fd, cgroup_owned = -1;
  /* Per entry: the fd the child gets, and a fd of ours that only the child needs (closed after
   * the spawn either way): the child's end of a pipe, or a blocking copy of a parent fd. */
  struct pf_fd_action *actions = calloc((size_t)n + 1, sizeof *actions);
  int *temp = malloc(((size_t)n + 1) * sizeof *temp);
  int r = -1;

  memset(out, 0, sizeof *out);
  out->pidfd = -1;
  for (int i = 0; i < n; i++) parent_fds[i] = -1;
  if (actions == NULL || temp == NULL) {
    pf_fail_parent(&out->fail, PF_PARENT_PIPE, ENOMEM, "malloc", -1);
    goto done;
  }
  for (int i = 0; i < n; i++) temp[i] = -1;

  int backend = req->backend != PF_BACKEND_NONE ? req->backend : pf_backend_current();
  if (backend == PF_BACKEND_NONE || pf_parent_fault(&req->plan, PF_PARENT_BACKEND)) {
    pf_fail_parent(&out->fail, PF_PARENT_BACKEND, ENOSYS, NULL, -1);
    goto done;
  }
  /* The user's fds are checked before we create any fd of our own, which could otherwise take
   * the number of one that is closed and reach the child in its place. */
  for (int i = 0; i < n; i++) {
    actions[i].target = req->stdio[i].target;
    if (req->stdio[i].kind == PF_STDIO_FD &&
        (pf_parent_fault(&req->plan, PF_PARENT_STDIO_CHECK) ? (errno = EBADF, 1)
                                                            : fcntl(req->stdio[i].fd, F_GETFD) < 0)) {
      pf_fail_parent(&out->fail, PF_PARENT_STDIO_CHECK, errno, NULL, i);
      goto done;
    }
  }
  for (int i = 0; i < n; i++) {
    switch (req->stdio[i].kind) {
      case PF_STDIO_FD: {
        int fd = req->stdio[i].fd, same = -1;
        /* The same fd at several targets ('inherit' of a 2>&1, say) needs one copy. */
        for (int j = 0; j < i && same < 0; j++)
          if (req->stdio[j].kind == PF_STDIO_FD && req->stdio[j].fd == fd) same = j;
        if (same >= 0) {
          actions[i].source = actions[same].source;
          break;
        }
        temp[i] = pf_blocking_copy(fd);
        actions[i].source = temp[i] >= 0 ? temp[i] : fd;
        break;
      }
      case PF_STDIO_DEVNULL:
        actions[i].source = PF_SRC_DEVNULL;
        break;
      case PF_STDIO_PIPE_IN:
      case PF_STDIO_PIPE_OUT:
      case PF_STDIO_SOCKET:
        if (pf_make_channel(req, i, &parent_fds[i], &temp[i], &out->fail) < 0) goto done;
        actions[i].source = temp[i];
        break;
      default:
        pf_fail_parent(&out->fail, PF_PARENT_PIPE, EINVAL, "spawn", i);
        goto done;
    }
  }

  if (req->cgroup_path != NULL) {
    cgroup_owned = pf_parent_fault(&req->plan, PF_PARENT_CGROUP)
                       ? (errno = EMFILE, -1)
                       : open(req->cgroup_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_owned < 0) {
      pf_fail_parent(&out->fail, PF_PARENT_CGROUP, errno, NULL, -1);
      goto done;
    }
    cgroup_fd = cgroup_owned;
  }

  struct pf_child_plan *p = &req->plan;
  p->fds = actions;
  p->nfds = n;
  p->max_target = n > 0 ? req->stdio[n - 1].target : -1;
  p->use_close_range = pf_support_get()->close_range.ok;
  r = pf_spawn(stack, backend, p, cgroup_fd, out);
  if (r < 0 && !out->fail.child && backend == PF_BACKEND_CLONE3 && req->backend == PF_BACKEND_NONE) {
    /* clone3 refused after the probe said yes: a seccomp filter installed since. */
    int next = pf_backend_demote(out->fail.err);
    if (next != PF_BACKEND_NONE && next != backend) r = pf_spawn(stack, next, p, cgroup_fd, out);
  }

done:
  if (r < 0) pf_close_all(parent_fds, n);
  if (temp != NULL) pf_close_all(temp, n);
  if (cgroup_owned >= 0) close(cgroup_owned);
  free(actions);
  free(temp);
  return r;
}

void pf_start_abandon(struct pf_spawn_result *started, int *parent_fds, int nstdio) {
  siginfo_t si;
  pf_pidfd_send_signal(started->pidfd, SIGKILL, 0);
  pf_waitid_pidfd(started->pidfd, &si, WEXITED | PF_WALL, NULL);
  close(started->pidfd);
  started->pidfd = -1;
  pf_close_all(parent_fds, nstdio);
}
