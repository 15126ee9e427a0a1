/*
 * clone.h: the three ways this addon creates a process. Each returns the child's pid in the
 * parent, or -errno; none of them returns in the child.
 */
#ifndef PIDFD_CLONE_H
#define PIDFD_CLONE_H

#include "sys.h"

/* Whether pf_clone3_call exists for this architecture (it needs a few instructions of assembly
 * to start the child on its own stack). */
int pf_clone3_arch_ok(void);

/* clone3(args), then fn(arg) in the child on args->stack; the child exits with fn's result. */
long pf_clone3_call(struct pf_clone_args *args, int (*fn)(void *), void *arg);

/* clone(flags) through libc's wrapper, which starts fn(arg) on stack_top; the pidfd of
 * CLONE_PIDFD lands in *pidfd. */
long pf_clone_call(unsigned long flags, void *stack_top, int *pidfd, int (*fn)(void *), void *arg);

/* A plain copy of the process (no CLONE_VM), with no exit signal: returns 0 in the child. */
long pf_fork_call(void);

#endif
