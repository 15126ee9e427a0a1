/*
 * pidfd.h: the pidfd system calls, each returning its result or -errno.
 */
#ifndef PIDFD_PIDFD_H
#define PIDFD_PIDFD_H

#include <signal.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/types.h>

#include "sys.h"

static inline int pf_pidfd_open(pid_t pid, unsigned flags) {
  return (int)pf_syscall2(SYS_pidfd_open, pid, flags);
}

static inline int pf_pidfd_send_signal(int pidfd, int sig, unsigned flags) {
  return (int)pf_syscall4(SYS_pidfd_send_signal, pidfd, sig, 0, flags);
}

static inline int pf_pidfd_getfd(int pidfd, int targetfd, unsigned flags) {
  return (int)pf_syscall3(SYS_pidfd_getfd, pidfd, targetfd, flags);
}

/* waitid(P_PIDFD, pidfd, info, options, ru): the kernel's waitid also fills a struct rusage,
 * which libc's wrapper does not expose. */
static inline int pf_waitid_pidfd(int pidfd, siginfo_t *info, int options, struct rusage *ru) {
  long r;
  do r = pf_syscall5(SYS_waitid, PF_P_PIDFD, pidfd, info, options, ru);
  while (r == -EINTR);
  return (int)r;
}

static inline int pf_pidfd_get_info(int pidfd, struct pf_pidfd_info *info) {
  return (int)pf_syscall3(SYS_ioctl, pidfd, PF_PIDFD_GET_INFO, info);
}

#endif
