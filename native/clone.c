/*
 * clone.c: process creation, one function per backend.
 *
 * clone3 has no libc wrapper (glibc keeps its own __clone3 internal), and a raw clone3 with
 * CLONE_VM cannot simply "return" in the child: the child starts on a new stack with no frame to
 * return into. pf_clone3_call therefore issues the system call from inline assembly and, in the
 * child, calls fn(arg) and exits, never leaving the asm block. libc's clone() does the same for
 * the clone system call. There is one for x86_64 and one for aarch64; on any other architecture
 * pf_clone3_arch_ok() is 0 and the clone backend is used.
 */
#include "clone.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>

#if defined(__x86_64__)
int pf_clone3_arch_ok(void) { return 1; }

long pf_clone3_call(struct pf_clone_args *args, int (*fn)(void *), void *arg) {
  long ret;
  /* fn and arg ride in callee-saved registers: the child gets the parent's registers except
   * rax (0) and rsp (the top of args->stack, which is 16-byte aligned, as `call` wants). */
  register void *r12 __asm__("r12") = (void *)fn;
  register void *r13 __asm__("r13") = arg;
  __asm__ volatile(
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      /* child */
      "xorl %%ebp, %%ebp\n\t"
      "movq %%r13, %%rdi\n\t"
      "callq *%%r12\n\t"
      "movl %%eax, %%edi\n\t"
      "movl $231, %%eax\n\t" /* exit_group */
      "syscall\n\t"
      "ud2\n"
      "1:\n\t"
      : "=a"(ret)
      : "a"((long)SYS_clone3), "D"(args), "S"(sizeof *args), "r"(r12), "r"(r13)
      : "rcx", "r11", "memory", "cc");
  return ret;
}
#elif defined(__aarch64__)
int pf_clone3_arch_ok(void) { return 1; }

long pf_clone3_call(struct pf_clone_args *args, int (*fn)(void *), void *arg) {
  /* The same plan as x86_64: svc with the number in x8 and the arguments in x0 and x1; fn and
   * arg ride in the callee-saved x19 and x20, which the child inherits. In the child, x0 is 0 and
   * sp is the top of args->stack (16-byte aligned, as AAPCS64 wants); the frame pointer and link
   * register are zeroed so that no unwinder walks into the parent's frames. */
  register long x8 __asm__("x8") = SYS_clone3;
  register long x0 __asm__("x0") = (long)args;
  register long x1 __asm__("x1") = (long)sizeof *args;
  register void *x19 __asm__("x19") = (void *)fn;
  register void *x20 __asm__("x20") = arg;
  __asm__ volatile(
      "svc #0\n\t"
      "cbnz x0, 1f\n\t"
      /* child */
      "mov x29, xzr\n\t"
      "mov x30, xzr\n\t"
      "mov x0, x20\n\t"
      "blr x19\n\t"
      "mov x8, #94\n\t" /* exit_group, with fn's result in w0 */
      "svc #0\n\t"
      "brk #0\n"
      "1:\n\t"
      : "+r"(x0)
      : "r"(x8), "r"(x1), "r"(x19), "r"(x20)
      : "memory", "cc");
  return x0;
}
#else
int pf_clone3_arch_ok(void) { return 0; }

long pf_clone3_call(struct pf_clone_args *args, int (*fn)(void *), void *arg) {
  (void)args;
  (void)fn;
  (void)arg;
  return -ENOSYS;
}
#endif

long pf_clone_call(unsigned long flags, void *stack_top, int *pidfd, int (*fn)(void *), void *arg) {
  int pid = clone(fn, stack_top, (int)flags, arg, pidfd);
  return pid < 0 ? -errno : pid;
}

/* QEMU user mode (multi-arch Docker builds run `npm install` and tests under it) refuses a
 * fork-like clone whose exit signal is not SIGCHLD with EINVAL; a kernel never does. There, the
 * child is created with SIGCHLD as its exit signal: the parent gets one SIGCHLD more at its exit,
 * which Node (libuv waits for its own pids only) ignores; the pidfd, the watch and the reap are
 * the same. */
static long pf_fork_sigchld_fallback(long r) {
  if (r != -EINVAL) return r;
  return pf_syscall5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

long pf_fork_call(void) {
  /* flags 0: no CLONE_* and exit signal 0; the argument order differs between architectures,
   * but every argument is 0. */
  return pf_fork_sigchld_fallback(pf_syscall5(SYS_clone, 0, 0, 0, 0, 0));
}
