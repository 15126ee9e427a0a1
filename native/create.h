/*
 * create.h: creating one child with one backend (create.c). Below both spawn.c, which prepares a
 * child's fds and reads its report, and probe.c, which finds the backends that work: neither
 * calls the other's code to create a child.
 */
#ifndef PIDFD_CREATE_H
#define PIDFD_CREATE_H

#include <stdint.h>

#include "spawn.h"

/* Maps the child's stack (with its guard page) on first use: 0 or -errno. */
int pf_stack_ensure(struct pf_stack *stack);

void pf_stack_release(struct pf_stack *stack);

/* Creates the child with `backend` (PF_BACKEND_CLONE3 takes plan->clone_flags too), running
 * `entry(plan)` in it; cgroup_fd >= 0 asks for CLONE_INTO_CGROUP. Returns its pid (and sets
 * *pidfd), or -errno with *step set to the parent step that failed. For the fork backend the
 * child's report socket end is plan->chan_fd and the parent's is *chan: the child waits for
 * pf_send_go(*chan) before it does anything. */
long pf_create(struct pf_stack *stack, int backend, struct pf_child_plan *plan, int cgroup_fd,
               int (*entry)(void *), int *pidfd, int *chan, int *step);

/* Lets the fork backend's child go on (it may already be dead: no SIGPIPE). */
void pf_send_go(int chan);

/* Creates a child with `backend` that only writes plan->vm_probe and exits, and reaps it.
 * Returns 0 or -errno; *vm_shared tells whether the write reached our memory, and
 * *exit_info whether PIDFD_GET_INFO reported its exit status after the reap (6.15+). */
int pf_spawn_probe(int backend, int *vm_shared, int *exit_info);

/* A probe child created by clone3 with PIDFD|VM|VFORK and `flags` (Linux 7.1's): 0 if it ran,
 * shared memory, exited and (with CLONE_AUTOREAP) left its status in PIDFD_INFO_EXIT; else -errno. */
int pf_spawn_probe_flags(uint64_t flags);

#endif
