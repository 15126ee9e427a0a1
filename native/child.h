/*
 * child.h: what the parent hands to the code that runs between clone and execve, and what that
 * code hands back when it fails.
 */
#ifndef PIDFD_CHILD_H
#define PIDFD_CHILD_H

#include <stdint.h>
#include <sys/types.h>

/*
 * On every function that runs in the child before execve: no AddressSanitizer instrumentation
 * (it matters only to a sanitizer build, `npm run test:asan`). With CLONE_VM the child runs on
 * spawn.c's stack, which ASan does not know, and every runtime call it makes works on the
 * parent's memory. Instrumented, the child called __asan_handle_no_return before each _Noreturn
 * call ("ASan is ignoring requested __asan_handle_no_return" on the parent's stderr); its frames,
 * which never return, left their redzones poisoned in the shared shadow memory; and the next child
 * on the same stack died in the runtime with a false stack-use-after-scope report before execve.
 * UBSan's checks stay: they call the runtime only when there is a real bug to report (seen to
 * work from the child, once per source location).
 */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define PF_CHILD_CODE __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef PF_CHILD_CODE
#define PF_CHILD_CODE
#endif

/* The step of the child's setup that failed. Their names (for errors and for the test hooks)
 * are in spawn.c's pf_child_steps. */
enum pf_step {
  PF_STEP_NONE = 0,
  PF_STEP_SYNC,        /* read: waiting for the parent's go-ahead (fork backend) */
  PF_STEP_SIGACTION,   /* rt_sigaction: resetting a disposition */
  PF_STEP_CGROUP,      /* write to cgroup.procs: joining the cgroup (backends without clone3) */
  PF_STEP_SETSID,      /* setsid */
  PF_STEP_SETPGID,     /* setpgid */
  PF_STEP_CHDIR,       /* chdir */
  PF_STEP_DEVNULL,     /* open("/dev/null") for an ignored stdio */
  PF_STEP_FD_MOVE,     /* fcntl(F_DUPFD_CLOEXEC): moving a source out of the target range */
  PF_STEP_FD_DUP,      /* dup3: placing a source at its target */
  PF_STEP_FD_CLOSE,    /* close_range or the /proc/self/fd scan */
  PF_STEP_SETGROUPS,   /* setgroups */
  PF_STEP_SETGID,      /* setgid */
  PF_STEP_SETUID,      /* setuid */
  PF_STEP_PDEATHSIG,   /* prctl(PR_SET_PDEATHSIG) */
  PF_STEP_NNP,         /* prctl(PR_SET_NO_NEW_PRIVS) (when CLONE_NNP did not do it) */
  PF_STEP_SIGMASK,     /* rt_sigprocmask: emptying the mask */
  PF_STEP_EXEC,        /* execve, every PATH candidate tried */
  PF_STEP_FAULT,       /* a test build's injected failure */
  PF_STEP_COUNT
};

/* An ignored stdio entry reads and writes /dev/null, opened by the child itself. */
#define PF_SRC_DEVNULL (-2)

/* Place `source` (a parent fd, or PF_SRC_DEVNULL) at `target` in the child. */
struct pf_fd_action {
  int target;
  int source;
};

/* Test hooks: make the child (or the parent) misbehave on purpose (see src/internal/testing.ts).
 * Their names are in js_test.c. */
enum pf_fault {
  PF_FAULT_NONE = 0,
  PF_FAULT_REPORT_GARBAGE,  /* write a record that is not a report, then exit 127 */
  PF_FAULT_REPORT_SHORT,    /* write half a report, then exit 127 */
  PF_FAULT_KILL_BEFORE_EXEC, /* SIGKILL itself just before execve */
  PF_FAULT_EXIT_BEFORE_EXEC, /* _exit(fault_arg) just before execve */
  PF_FAULT_FAIL_STEP,       /* report step fault_arg as failed with EIO, the real path taken */
  PF_FAULT_PARENT_STEP,     /* make the parent's step fault_arg (spawn.h's enum pf_parent_step) fail */
  PF_FAULT_COUNT
};

#define PF_REPORT_MAGIC 0x70696466u /* "pidf" */

/*
 * The child's failure report: nothing written means execve succeeded (or the child was killed
 * before it got there: then the exit status says so). A record whose check does not match is a
 * bug or a corruption, never guessed at.
 */
struct pf_child_report {
  uint32_t magic;
  int32_t step;  /* enum pf_step */
  int32_t err;   /* positive errno */
  int32_t index; /* the fd action or PATH candidate concerned, or -1 */
  uint32_t check;
};

PF_CHILD_CODE
static inline uint32_t pf_report_check(const struct pf_child_report *r) {
  return r->magic ^ (uint32_t)r->step * 2654435761u ^ (uint32_t)r->err * 40503u ^
         (uint32_t)r->index * 97u ^ 0x5a5a5a5au;
}

/*
 * Everything the child needs, built by the parent before clone. The child never allocates;
 * it may rewrite fds[].source while it works (the parent does not read them back).
 */
struct pf_child_plan {
  char *const *paths; /* execve candidates in execvp order, NULL-terminated */
  char *const *argv;
  char *const *envp;
  const char *cwd; /* NULL: stay */

  struct pf_fd_action *fds; /* sorted by target, targets unique */
  int nfds;
  int max_target; /* the highest target */

  int setsid;
  int pgid; /* -1: leave, 0: a new group led by the child, >0: join that group */
  int set_groups;
  int ngroups;
  const gid_t *groups;
  int set_gid;
  gid_t gid;
  int set_uid;
  uid_t uid;
  int pdeathsig; /* 0: none */
  pid_t parent_pid;
  int cgroup_procs_fd; /* >= 0: the child moves itself into that cgroup first; else -1 */

  int chan_fd;                    /* fork backend: the child's end of the report socket; else -1 */
  struct pf_child_report *report; /* VM backends: the report is written here; else NULL */
  int use_close_range;            /* 0: close fds by scanning /proc/self/fd (kernel < 5.9) */

  int fault;
  int fault_arg;

  volatile int vm_probe; /* set to 1 by the probe child to show that memory is shared */

  /* Linux 7.1's clone3 flags (spawn.c, pf_new_clone_flags). The requests: */
  int no_new_privs; /* noNewPrivileges: CLONE_NNP, else prctl(PR_SET_NO_NEW_PRIVS) in the child */
  int auto_reap;    /* autoReap: CLONE_AUTOREAP where the kernel has it */
  int auto_kill;    /* killOnParentExit SIGKILL: CLONE_PIDFD_AUTOKILL where the kernel has it */
  /* What the creation used (set by pf_spawn before the clone; read by the child): with
   * CLONE_NNP the child skips its prctl, with CLONE_PIDFD_AUTOKILL its parent-death signal. */
  uint64_t clone_flags;
};

/* Runs in the child. Never returns: execs, or reports and exits with status 127. */
_Noreturn void pf_child_main(struct pf_child_plan *plan);

/* The entry point for clone()-style trampolines: pf_child_main with an int return type. */
int pf_child_entry(void *plan);

/* The entry point of the CLONE_VM probe child: sets plan->vm_probe and exits 0. */
int pf_child_probe_entry(void *plan);

#endif
