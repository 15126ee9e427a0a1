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
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clone.h"
#include "pidfd.h"
#include "sys.h"

#define PF_STACK_SIZE (64 * 1024)
#define PF_GUARD_SIZE 4096

static const char *const pf_step_names[PF_STEP_COUNT] = {
    [PF_STEP_NONE] = "spawn",          [PF_STEP_SYNC] = "read",
    [PF_STEP_SIGACTION] = "rt_sigaction", [PF_STEP_SETSID] = "setsid",
    [PF_STEP_SETPGID] = "setpgid",     [PF_STEP_CHDIR] = "chdir",
    [PF_STEP_DEVNULL] = "open",        [PF_STEP_FD_MOVE] = "fcntl",
    [PF_STEP_FD_DUP] = "dup3",         [PF_STEP_FD_CLOSE] = "close_range",
    [PF_STEP_SETGROUPS] = "setgroups", [PF_STEP_SETGID] = "setgid",
    [PF_STEP_SETUID] = "setuid",       [PF_STEP_PDEATHSIG] = "prctl",
    [PF_STEP_SIGMASK] = "rt_sigprocmask", [PF_STEP_EXEC] = "execve",
    [PF_STEP_FAULT] = "fault",
};

const char *pf_step_syscall(int step) {
  if (step < 0 || step >= PF_STEP_COUNT || pf_step_names[step] == NULL) return "spawn";
  return pf_step_names[step];
}

static int pf_stack_ensure(struct pf_stack *stack) {
  if (stack->map != NULL) return 0;
  size_t size = PF_STACK_SIZE + PF_GUARD_SIZE;
  void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                   -1, 0);
  if (map == MAP_FAILED) return -errno;
  if (mprotect(map, PF_GUARD_SIZE, PROT_NONE) != 0) {
    int err = errno;
    munmap(map, size);
    return -err;
  }
  stack->map = map;
  stack->map_size = size;
  return 0;
}

void pf_stack_release(struct pf_stack *stack) {
  if (stack->map != NULL) munmap(stack->map, stack->map_size);
  stack->map = NULL;
}

static void pf_fail_parent(struct pf_spawn_result *out, int err, const char *syscall) {
  out->err = err;
  out->syscall = syscall;
  out->step = -1;
  out->index = -1;
}

/* Blocks every signal, glibc's internal ones included (pthread_sigmask would filter those). */
static void pf_block_all(uint64_t *old) {
  uint64_t all = ~(uint64_t)0;
  pf_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &all, old, 8);
}

static void pf_restore_mask(const uint64_t *old) {
  pf_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, old, 0, 8);
}

/* Reaps a child that failed before execve. It has exited (CLONE_VFORK let us run again only
 * then) or is about to; its exit signal is 0 until execve, so only __WALL sees it. */
static void pf_reap_failed(int pidfd) {
  siginfo_t info;
  pf_waitid_pidfd(pidfd, &info, WEXITED | PF_WALL, NULL);
}

/* Creates the child. Returns its pid (and sets *pidfd), or -errno. For the fork backend the
 * child's report socket end is plan->chan_fd and the parent's is *chan. */
static long pf_create(struct pf_stack *stack, int backend, struct pf_child_plan *plan,
                      int cgroup_fd, int (*entry)(void *), int *pidfd, int *chan,
                      const char **what) {
  uint64_t old_mask;
  long pid;
  char *stack_lo = stack->map + PF_GUARD_SIZE;
  char *stack_hi = stack->map + stack->map_size;

  *what = backend == PF_BACKEND_CLONE3 ? "clone3" : backend == PF_BACKEND_CLONE ? "clone" : "fork";
  if (pf_parent_fault(plan, PF_PARENT_CLONE)) return -EAGAIN; /* as when RLIMIT_NPROC is hit */
  if (backend == PF_BACKEND_FORK) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      *what = "socketpair";
      return -errno;
    }
    *chan = sv[0];
    plan->chan_fd = sv[1];
  }

  pf_block_all(&old_mask);
  switch (backend) {
    case PF_BACKEND_CLONE3: {
      struct pf_clone_args args;
      memset(&args, 0, sizeof args);
      args.flags = PF_CLONE_PIDFD | PF_CLONE_VM | PF_CLONE_VFORK;
      args.pidfd = (uint64_t)(uintptr_t)pidfd;
      args.exit_signal = 0;
      args.stack = (uint64_t)(uintptr_t)stack_lo;
      args.stack_size = (uint64_t)(stack_hi - stack_lo);
      if (cgroup_fd >= 0) {
        args.flags |= PF_CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
      }
      pid = pf_clone3_call(&args, entry, plan);
      break;
    }
    case PF_BACKEND_CLONE:
      pid = pf_clone_call(PF_CLONE_VM | PF_CLONE_VFORK | PF_CLONE_PIDFD, stack_hi, pidfd, entry,
                          plan);
      break;
    case PF_BACKEND_FORK:
      pid = pf_fork_call();
      if (pid == 0) entry(plan); /* never returns */
      break;
    default:
      pid = -ENOSYS;
  }
  pf_restore_mask(&old_mask);

  if (backend == PF_BACKEND_FORK) {
    close(plan->chan_fd);
    plan->chan_fd = -1;
    if (pid < 0) {
      close(*chan);
      *chan = -1;
      return pid;
    }
    /* The child waits for our byte before doing anything, so it cannot have exited and its pid
     * cannot have been reused: this pidfd_open is as good as CLONE_PIDFD. */
    int fd = pf_parent_fault(plan, PF_PARENT_PIDFD_OPEN) ? -EMFILE : pf_pidfd_open((pid_t)pid, 0);
    if (fd < 0) {
      siginfo_t info;
      kill((pid_t)pid, SIGKILL);
      do {
      } while (waitid(P_PID, (id_t)pid, &info, WEXITED | PF_WALL) != 0 && errno == EINTR);
      close(*chan);
      *chan = -1;
      *what = "pidfd_open";
      return fd;
    }
    *pidfd = fd;
  }
  return pid;
}

/* Lets the fork backend's child go on. The child may already be dead (killed from outside, or the
 * probe child, which never reads): MSG_NOSIGNAL, so that this raises no SIGPIPE in the parent. */
static void pf_send_go(int chan) {
  char go = 'g';
  ssize_t w;
  do w = send(chan, &go, 1, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
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

int pf_spawn(struct pf_stack *stack, int backend, struct pf_child_plan *plan, int cgroup_fd,
             struct pf_spawn_result *out) {
  struct pf_child_report report;
  int pidfd = -1, chan = -1;

  memset(out, 0, sizeof *out);
  out->pidfd = -1;
  memset(&report, 0, sizeof report);
  plan->chan_fd = -1;
  plan->report = backend == PF_BACKEND_FORK ? NULL : &report;
  plan->parent_pid = getpid();

  if (cgroup_fd >= 0 && backend != PF_BACKEND_CLONE3) {
    pf_fail_parent(out, ENOTSUP, "clone3");
    return -1;
  }
  if (backend != PF_BACKEND_FORK) {
    int r = pf_parent_fault(plan, PF_PARENT_STACK) ? -ENOMEM : pf_stack_ensure(stack);
    if (r < 0) {
      pf_fail_parent(out, -r, "mmap");
      return -1;
    }
  }

  const char *syscall;
  long pid = pf_create(stack, backend, plan, cgroup_fd, pf_child_entry, &pidfd, &chan, &syscall);
  if (pid < 0) {
    int err = (int)-pid;
    /* A kernel without CLONE_INTO_CGROUP sees a clone_args larger than it knows. */
    if (cgroup_fd >= 0 && err == E2BIG) err = ENOTSUP;
    pf_fail_parent(out, err, syscall);
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
  if (len == (int)sizeof report && report.magic == PF_REPORT_MAGIC &&
      report.check == pf_report_check(&report) && report.step > PF_STEP_NONE &&
      report.step < PF_STEP_COUNT && report.err > 0) {
    out->err = report.err;
    out->step = report.step;
    out->syscall = pf_step_syscall(report.step);
    out->index = report.index;
    return -1;
  }
  out->err = EPROTO;
  out->step = -1;
  out->index = -1;
  out->syscall = "spawn";
  out->raw_len = len < (int)sizeof out->raw ? len : (int)sizeof out->raw;
  memcpy(out->raw, &report, (size_t)out->raw_len);
  return -1;
}

int pf_spawn_probe(int backend, int *vm_shared, int *exit_info) {
  struct pf_stack stack = {NULL, 0};
  struct pf_child_plan plan;
  int pidfd = -1, chan = -1;

  *vm_shared = 0;
  *exit_info = 0;
  memset(&plan, 0, sizeof plan);
  plan.chan_fd = -1;
  if (backend != PF_BACKEND_FORK) {
    int r = pf_stack_ensure(&stack);
    if (r < 0) return r;
  }
  const char *what;
  long pid = pf_create(&stack, backend, &plan, -1, pf_child_probe_entry, &pidfd, &chan, &what);
  if (backend == PF_BACKEND_FORK && chan >= 0) {
    pf_send_go(chan); /* the probe child exits without reading it */
    close(chan);
  }
  pf_stack_release(&stack);
  if (pid < 0) return (int)pid;
  if (pidfd < 0) return -EBADF; /* CLONE_PIDFD silently ignored: a kernel older than 5.2 */

  siginfo_t info;
  memset(&info, 0, sizeof info);
  int r = pf_waitid_pidfd(pidfd, &info, WEXITED | PF_WALL, NULL);
  if (r == 0 && info.si_pid == pid) {
    *vm_shared = plan.vm_probe;
    struct pf_pidfd_info pinfo;
    memset(&pinfo, 0, sizeof pinfo);
    pinfo.mask = PF_PIDFD_INFO_EXIT;
    if (pf_pidfd_get_info(pidfd, &pinfo) == 0 && (pinfo.mask & PF_PIDFD_INFO_EXIT)) *exit_info = 1;
  }
  close(pidfd);
  return r;
}
