/*
 * spawn.h: the parent side of a spawn. Prepare the child's file descriptors and cgroup, create
 * the child with a backend, read its report, and leave nothing behind when anything failed.
 *
 * Two levels: pf_start() takes a whole request (stdio entries as kinds, a cgroup path, a
 * backend), which is what every layer above uses; pf_spawn() creates one child from a finished
 * plan with one backend, which the C test programs use directly. Creating the child itself
 * (the stack, clone3/clone/fork) is create.h's, which the probe uses too.
 */
#ifndef PIDFD_SPAWN_H
#define PIDFD_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "child.h"

enum pf_backend {
  PF_BACKEND_NONE = 0, /* in a request: the current one (see probe.h) */
  PF_BACKEND_CLONE3,   /* clone3(CLONE_PIDFD|CLONE_VM|CLONE_VFORK), 5.3+ */
  PF_BACKEND_CLONE,    /* clone(CLONE_PIDFD|CLONE_VM|CLONE_VFORK), 5.2+ */
  PF_BACKEND_FORK,     /* a copy of the process + pidfd_open, for when CLONE_VM is unusable */
  PF_BACKEND_COUNT
};

/* Names of the backends, by enum pf_backend ("none" for PF_BACKEND_NONE). */
extern const char *const pf_backend_names[PF_BACKEND_COUNT];

/* What a child's fd is connected to. */
enum pf_stdio_kind {
  PF_STDIO_FD = 0,   /* a parent fd, given as it is (but for O_NONBLOCK: see pf_start) */
  PF_STDIO_DEVNULL,  /* /dev/null, opened by the child */
  PF_STDIO_PIPE_IN,  /* a new pipe the child reads (its stdin) */
  PF_STDIO_PIPE_OUT, /* a new pipe the child writes (stdout, stderr) */
  PF_STDIO_SOCKET,   /* a new AF_UNIX socketpair: both directions */
  PF_STDIO_KIND_COUNT
};

extern const char *const pf_stdio_kind_names[PF_STDIO_KIND_COUNT];

/* One child fd: where it comes from. */
struct pf_stdio {
  int target; /* the child's fd */
  int kind;   /* enum pf_stdio_kind */
  int fd;     /* PF_STDIO_FD: the parent's fd */
};

/*
 * The parent's steps, for failures and for the test build's fault injection
 * (PF_FAULT_PARENT_STEP with fault_arg = the step): each injected failure takes the real cleanup
 * path with the errno the real failure would give (EMFILE for fds, ENOMEM for the stack, EAGAIN
 * for clone, ENOSPC for the epoll set).
 */
enum pf_parent_step {
  PF_PARENT_NONE = 0,
  PF_PARENT_BACKEND,     /* no way to create a child works here (ENOSYS) */
  PF_PARENT_STDIO_CHECK, /* fcntl(F_GETFD): a parent fd named by stdio is not open */
  PF_PARENT_PIPE,        /* pipe2 / socketpair for a stdio entry */
  PF_PARENT_STDIO_MOVE,  /* fcntl(F_DUPFD_CLOEXEC): a pipe end moved above fd 2 */
  PF_PARENT_CGROUP,      /* open of the cgroup directory */
  PF_PARENT_STACK,       /* mmap of the child's stack */
  PF_PARENT_CHANNEL,     /* socketpair for the fork backend's report */
  PF_PARENT_CLONE,       /* the clone itself */
  PF_PARENT_PIDFD_OPEN,  /* the fork backend's pidfd_open, with the child already created */
  PF_PARENT_WATCH,       /* adding the pidfd to the epoll set, with the child running */
  PF_PARENT_STEP_COUNT
};

/* A step's name (for JavaScript and the test hooks) and the system call it stands for. */
struct pf_step_desc {
  const char *name;
  const char *syscall;
};

extern const struct pf_step_desc pf_child_steps[PF_STEP_COUNT];
extern const struct pf_step_desc pf_parent_steps[PF_PARENT_STEP_COUNT];

/* The child's stack for the CLONE_VM backends, with a guard page below it. One per thread that
 * spawns is enough: CLONE_VFORK keeps the parent suspended while the child uses it. */
struct pf_stack {
  char *map; /* the whole mapping, guard page included; NULL until first use */
  size_t map_size;
};

/* Why a spawn failed. */
struct pf_failure {
  int err;             /* positive errno */
  const char *syscall; /* what failed */
  const char *step;    /* the step's name: a child step or a parent step */
  int child;           /* 1: a step of the child; 0: of the parent */
  int index;           /* the stdio entry or PATH candidate concerned, or -1 */
  int raw_len;         /* > 0: the child's report was malformed; these are its bytes */
  unsigned char raw[sizeof(struct pf_child_report)];
};

struct pf_spawn_result {
  pid_t pid;
  int pidfd;
  struct pf_failure fail; /* when the call returned -1 */
};

/* Creates the child described by `plan` with `backend`. cgroup_fd >= 0 asks for
 * CLONE_INTO_CGROUP. Returns 0 with out->pid and out->pidfd set, or -1 with out->fail set (no
 * child, no fd left). */
int pf_spawn(struct pf_stack *stack, int backend, struct pf_child_plan *plan, int cgroup_fd,
             struct pf_spawn_result *out);

/* A whole spawn request, as the layers above make it. */
struct pf_start_request {
  /* paths, argv, envp, cwd, ids, pdeathsig and the test hooks; pf_start fills in the fds */
  struct pf_child_plan plan;
  const struct pf_stdio *stdio; /* ascending, unique targets */
  int nstdio;
  int cgroup_fd;           /* -1: none */
  const char *cgroup_path; /* NULL: none (or cgroup_fd) */
  int backend;             /* PF_BACKEND_NONE: the current one */
};

/*
 * Starts a child: checks the parent fds that stdio names, makes sure none of them reaches the
 * child with O_NONBLOCK, creates the pipes, opens the cgroup, creates the child (retrying with
 * clone if clone3 has been refused since the probe), and closes every fd the child no longer
 * needs. parent_fds[i] receives the parent's end of stdio entry i, or -1; the caller owns them.
 * Returns 0 with out->pid and out->pidfd (owned by the caller), or -1 with out->fail set and
 * nothing left behind.
 */
int pf_start(struct pf_stack *stack, struct pf_start_request *req, int *parent_fds,
             struct pf_spawn_result *out);

/* Undoes a successful pf_start whose caller cannot go on (it could not watch the child): kills
 * and reaps the child and closes its pidfd and the parent's ends of its pipes. */
void pf_start_abandon(struct pf_spawn_result *started, int *parent_fds, int nstdio);

/* Whether a test build asked for the parent's `step` to fail (see enum pf_parent_step). */
static inline int pf_parent_fault(const struct pf_child_plan *plan, int step) {
  return plan->fault == PF_FAULT_PARENT_STEP && plan->fault_arg == step;
}

#endif
