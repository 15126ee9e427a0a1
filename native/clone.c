/*
 * clone.c: process creation, one function per backend.
 *
 * clone3 has no libc wrapper (glibc keeps its own __clone3 internal), and a raw clone3 with
 * CLONE_VM cannot simply "return" in the child: the child starts on a new stack with no frame to
 * return into. pf_clone3_call therefore issues the system call from inline assembly and, in the
 * child, calls fn(arg) and exits, never leaving the asm block. libc's clone() does the same for
 * the clone system call.
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

long pf_fork_call(void) {
  /* flags 0: no CLONE_* and exit signal 0; the argument order differs between architectures,
   * but every argument is 0. */
  return pf_syscall5(SYS_clone, 0, 0, 0, 0, 0);
}
