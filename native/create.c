/*
 * create.c: creating one child with one backend, and nothing else: the CLONE_VM stack, the three
 * ways to create (clone3, clone, a copy of the process), and the probe children that probe.c
 * uses to find which of them work. It knows nothing of what was probed: spawn.c chooses the
 * backend and the flags (from probe.c's answers) and passes them in, so that probe.c and spawn.c
 * both stand on this file and not on each other.
 */
#include "create.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clone.h"
#include "pidfd.h"
#include "sys.h"

#define PF_STACK_SIZE (64 * 1024)
#define PF_GUARD_SIZE 4096

int pf_stack_ensure(struct pf_stack *stack) {
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

/* Blocks every signal, glibc's internal ones included (pthread_sigmask would filter those). */
static void pf_block_all(uint64_t *old) {
  uint64_t all = ~(uint64_t)0;
  pf_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &all, old, 8);
}

static void pf_restore_mask(const uint64_t *old) {
  pf_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, old, 0, 8);
}

/* Creates the child (create.h). */
long pf_create(struct pf_stack *stack, int backend, struct pf_child_plan *plan, int cgroup_fd,
               int (*entry)(void *), int *pidfd, int *chan, int *step) {
  uint64_t old_mask;
  long pid;
  char *stack_lo = stack->map + PF_GUARD_SIZE;
  char *stack_hi = stack->map + stack->map_size;

  *step = PF_PARENT_CLONE;
  if (pf_parent_fault(plan, PF_PARENT_CLONE)) return -EAGAIN; /* as when RLIMIT_NPROC is hit */
  if (backend == PF_BACKEND_FORK) {
    int sv[2];
    if (pf_parent_fault(plan, PF_PARENT_CHANNEL) ? (errno = EMFILE, 1)
                                                 : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      *step = PF_PARENT_CHANNEL;
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
      args.flags = PF_CLONE_PIDFD | PF_CLONE_VM | PF_CLONE_VFORK | plan->clone_flags;
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
      *step = PF_PARENT_PIDFD_OPEN;
      return fd;
    }
    *pidfd = fd;
  }
  return pid;
}

/* Lets the fork backend's child go on. The child may already be dead (killed from outside, or the
 * probe child, which never reads): MSG_NOSIGNAL, so that this raises no SIGPIPE in the parent. */
void pf_send_go(int chan) {
  char go = 'g';
  ssize_t w;
  do w = send(chan, &go, 1, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
}

int pf_spawn_probe_flags(uint64_t flags) {
  struct pf_stack stack = {NULL, 0};
  struct pf_child_plan plan;
  int pidfd = -1, chan = -1, step;

  memset(&plan, 0, sizeof plan);
  plan.chan_fd = -1;
  plan.clone_flags = flags;
  int r = pf_stack_ensure(&stack);
  if (r < 0) return r;
  long pid = pf_create(&stack, PF_BACKEND_CLONE3, &plan, -1, pf_child_probe_entry, &pidfd, &chan, &step);
  pf_stack_release(&stack);
  if (pid < 0) return (int)pid;
  if (pidfd < 0) return -EBADF;
  if (!plan.vm_probe) r = -EFAULT;
  if (flags & PF_CLONE_AUTOREAP) {
    /* No waitid: the kernel reaps it. Its pidfd reports POLLHUP once the reap is done, and
     * from then on PIDFD_INFO_EXIT must have its status, or the flag is of no use to us. */
    struct pollfd p = {.fd = pidfd, .events = 0}; /* POLLHUP alone: POLLIN comes first */
    for (int i = 0; i < 1000 && !(p.revents & POLLHUP); i++) {
      if (poll(&p, 1, 10) < 0 && errno != EINTR) break;
    }
    struct pf_pidfd_info info;
    memset(&info, 0, sizeof info);
    info.mask = PF_PIDFD_INFO_EXIT;
    if (r == 0 && !((p.revents & POLLHUP) && pf_pidfd_get_info(pidfd, &info) == 0 &&
                    (info.mask & PF_PIDFD_INFO_EXIT) && info.exit_code == 0))
      r = -EOPNOTSUPP;
  } else {
    siginfo_t info;
    int w = pf_waitid_pidfd(pidfd, &info, WEXITED | PF_WALL, NULL);
    if (r == 0 && w < 0) r = w;
  }
  close(pidfd);
  return r;
}

int pf_spawn_probe(int backend, int *vm_shared, int *exit_info) {
  struct pf_stack stack = {NULL, 0};
  struct pf_child_plan plan;
  int pidfd = -1, chan = -1, step;

  *vm_shared = 0;
  *exit_info = 0;
  memset(&plan, 0, sizeof plan);
  plan.chan_fd = -1;
  if (backend != PF_BACKEND_FORK) {
    int r = pf_stack_ensure(&stack);
    if (r < 0) return r;
  }
  long pid = pf_create(&stack, backend, &plan, -1, pf_child_probe_entry, &pidfd, &chan, &step);
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
