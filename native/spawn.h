/*
 * spawn.h: the parent side of a spawn. Build the plan before clone, read the child's report
 * after, and leave nothing behind when it failed.
 */
#ifndef PIDFD_SPAWN_H
#define PIDFD_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "child.h"

enum pf_backend {
  PF_BACKEND_NONE = 0,
  PF_BACKEND_CLONE3, /* clone3(CLONE_PIDFD|CLONE_VM|CLONE_VFORK), 5.3+ */
  PF_BACKEND_CLONE,  /* clone(CLONE_PIDFD|CLONE_VM|CLONE_VFORK), 5.2+ */
  PF_BACKEND_FORK,   /* a copy of the process + pidfd_open, for when CLONE_VM is unusable */
};

/* The child's stack for the CLONE_VM backends, with a guard page below it. One per thread that
 * spawns is enough: CLONE_VFORK keeps the parent suspended while the child uses it. */
struct pf_stack {
  char *map; /* the whole mapping, guard page included; NULL until first use */
  size_t map_size;
};

struct pf_spawn_result {
  pid_t pid;
  int pidfd;
  /* On failure: */
  int err;             /* positive errno; 0 on success */
  const char *syscall; /* what failed */
  int step;            /* enum pf_step for a child-side failure, -1 for a parent-side one */
  int index;           /* the fd action or PATH candidate concerned, or -1 */
  int raw_len;         /* > 0: the report was malformed; these are its bytes */
  unsigned char raw[sizeof(struct pf_child_report)];
};

/* Creates the child described by `plan` with `backend`. cgroup_fd >= 0 asks for
 * CLONE_INTO_CGROUP. Returns 0 with out->pid and out->pidfd set, or -1 with the failure in out
 * (no child, no fd left). */
int pf_spawn(struct pf_stack *stack, int backend, struct pf_child_plan *plan, int cgroup_fd,
             struct pf_spawn_result *out);

/* Creates a child with `backend` that only writes plan->vm_probe and exits, and reaps it.
 * Returns 0 or -errno; *vm_shared tells whether the write reached our memory, and
 * *exit_info whether PIDFD_GET_INFO reported its exit status after the reap (6.15+). */
int pf_spawn_probe(int backend, int *vm_shared, int *exit_info);

void pf_stack_release(struct pf_stack *stack);

/* Whether a test build asked for the parent's `step` to fail (see enum pf_parent_step). */
static inline int pf_parent_fault(const struct pf_child_plan *plan, int step) {
  return plan->fault == PF_FAULT_PARENT_STEP && plan->fault_arg == step;
}

/* The system call a child step stands for ("chdir", "execve", ...). */
const char *pf_step_syscall(int step);

#endif
