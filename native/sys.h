/*
 * sys.h: the kernel interface this addon speaks, defined here so that the build does not depend
 * on how new the machine's headers are (Debian 12's <linux/pidfd.h> predates PIDFD_GET_INFO).
 *
 * Kernel versions, for the features used:
 *   5.2   CLONE_PIDFD (clone)
 *   5.3   clone3, pidfd_open
 *   5.4   waitid(P_PIDFD)                    -> the minimum this library runs on
 *   5.5   CLONE_CLEAR_SIGHAND
 *   5.6   pidfd_getfd
 *   5.7   CLONE_INTO_CGROUP (clone3 only)
 *   5.9   close_range
 *   5.11  CLOSE_RANGE_CLOEXEC
 *   6.9   pidfs (stable inode per process), PIDFD_THREAD, PIDFD_SIGNAL_* flags
 *   6.13  PIDFD_GET_INFO
 *   6.15  PIDFD_INFO_EXIT (exit status readable after someone else reaped the process)
 *
 * Everything that runs between clone and execve calls the kernel through pf_syscall*() below,
 * which never touch errno or any other libc state: see child.c.
 */
#ifndef PIDFD_SYS_H
#define PIDFD_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

/* Syscall numbers 424 and up are the same on every architecture (the 5.1 unification). */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#define PF_CLONE_VM 0x00000100ULL
#define PF_CLONE_VFORK 0x00004000ULL
#define PF_CLONE_PIDFD 0x00001000ULL
#define PF_CLONE_CLEAR_SIGHAND 0x100000000ULL /* 5.5 */
#define PF_CLONE_INTO_CGROUP 0x200000000ULL   /* 5.7 */
#define PF_CLONE_AUTOREAP (1ULL << 34)        /* 7.1: needs exit_signal 0 */
#define PF_CLONE_NNP (1ULL << 35)             /* 7.1: no_new_privs from creation */
#define PF_CLONE_PIDFD_AUTOKILL (1ULL << 36)  /* 7.1: needs PIDFD|AUTOREAP, and CAP_SYS_ADMIN or NNP */

#define PF_P_PIDFD 3 /* waitid idtype, 5.4 */
#define PF_WALL 0x40000000 /* __WALL: also children whose exit signal is not SIGCHLD */

#define PF_CLOSE_RANGE_CLOEXEC (1U << 2) /* 5.11 */

#define PF_PIDFD_THREAD 0x80 /* O_EXCL, 6.9 */
#define PF_PIDFD_SIGNAL_PROCESS_GROUP (1U << 2) /* 6.9 */

/* struct clone_args as of 5.7 (CLONE_ARGS_SIZE_VER2). */
struct pf_clone_args {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};
#define PF_CLONE_ARGS_SIZE_VER0 64
#define PF_CLONE_ARGS_SIZE_VER2 88

/* struct pidfd_info (6.13; exit_code filled since 6.15). The ioctl is extensible: the kernel
 * reads the size from the request number and accepts anything from PIDFD_INFO_SIZE_VER0 up. */
struct pf_pidfd_info {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid;
  uint32_t tgid;
  uint32_t ppid;
  uint32_t ruid;
  uint32_t rgid;
  uint32_t euid;
  uint32_t egid;
  uint32_t suid;
  uint32_t sgid;
  uint32_t fsuid;
  uint32_t fsgid;
  int32_t exit_code; /* a wait status: 42 << 8 for _exit(42) */
  uint32_t coredump_mask;
  uint32_t spare1;
};
#define PF_PIDFD_INFO_PID (1ULL << 0)
#define PF_PIDFD_INFO_CREDS (1ULL << 1)
#define PF_PIDFD_INFO_CGROUPID (1ULL << 2)
#define PF_PIDFD_INFO_EXIT (1ULL << 3)
/* _IOWR(0xFF, 11, struct pf_pidfd_info) */
#define PF_PIDFD_GET_INFO                                                                      \
  ((3UL << 30) | ((unsigned long)sizeof(struct pf_pidfd_info) << 16) | (0xFFUL << 8) | 11UL)

/*
 * Raw system calls: return the result, or -errno. No errno, no cancellation points, no locks.
 * x86_64 and aarch64 have hand-written instructions; other architectures go through libc's
 * syscall(), which writes errno (harmless here: the parent thread is suspended and does not read
 * errno after a spawn), and the value is converted back to -errno.
 */
#if defined(__x86_64__)
static inline long pf_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
static inline long pf_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  /* svc #0: the number in x8, the arguments in x0-x5, the result in x0. */
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc #0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
}
#else
#include <errno.h>
#include <unistd.h>
static inline long pf_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  long ret = syscall(n, a, b, c, d, e, f);
  return ret == -1 ? -errno : ret;
}
#endif

#define pf_syscall0(n) pf_syscall6((n), 0, 0, 0, 0, 0, 0)
#define pf_syscall1(n, a) pf_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define pf_syscall2(n, a, b) pf_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define pf_syscall3(n, a, b, c) pf_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define pf_syscall4(n, a, b, c, d)                                                             \
  pf_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define pf_syscall5(n, a, b, c, d, e)                                                          \
  pf_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#endif
