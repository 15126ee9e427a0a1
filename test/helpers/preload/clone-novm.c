/*
 * clone-novm.so: an LD_PRELOAD library whose clone() ignores CLONE_VM and CLONE_VFORK, the way
 * some emulators treat a vfork-style clone (QEMU user mode runs it as a fork; WSL1 had no working
 * CLONE_VM): the call succeeds, but the child gets a copy of the memory (case I4).
 *
 * Only callers of libc's exported clone() are affected: the addon's clone backend (and its probe).
 * glibc's own fork, posix_spawn and pthread_create reach the kernel without that symbol, and the
 * clone3 backend issues its system call itself; run under `seccomp-launcher clone3=38` so that
 * clone is the first backend the probe tries.
 *
 * Test helper only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/types.h>

int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...) {
  typedef int (*clone_fn)(int (*)(void *), void *, int, void *, ...);
  static clone_fn real;
  va_list ap;
  va_start(ap, arg);
  pid_t *parent_tid = va_arg(ap, pid_t *);
  void *tls = va_arg(ap, void *);
  pid_t *child_tid = va_arg(ap, pid_t *);
  va_end(ap);
  if (real == NULL) real = (clone_fn)dlsym(RTLD_NEXT, "clone");
  return real(fn, stack, flags & ~(CLONE_VM | CLONE_VFORK), arg, parent_tid, tls, child_tid);
}
