/*
 * watchdog.h: the protocol between a Node process and its pidfd-watchdog (watchdog.c), the small
 * process that kills run()'s process trees when the Node process dies, however it dies.
 *
 * The Node process sends fixed-size records over a unix stream socket (the watchdog's fd 3).
 * A record that adds something to kill carries one file descriptor (SCM_RIGHTS) in the same
 * sendmsg, and a sendmsg carries at most one such record, last: the watchdog pairs every add
 * record with the next descriptor it received, in order.
 */
#ifndef PIDFD_WATCHDOG_H
#define PIDFD_WATCHDOG_H

#include <stdint.h>

enum pf_watchdog_op {
  PF_WATCHDOG_NONE = 0,
  /* fd: a pidfd of a process group's leader. Killed with PIDFD_SIGNAL_PROCESS_GROUP (6.9; the
   * leader alone before). Dropped once the leader has exited and the group is empty. */
  PF_WATCHDOG_ADD_GROUP,
  /* fd: a pidfd. The process alone is killed. Dropped once it has exited. */
  PF_WATCHDOG_ADD_LEADER,
  /* fd: a cgroup v2 directory. Killed with cgroup.kill (5.14), else member by member while the
   * cgroup is frozen. Kept until a remove record names it, or, once the socket has reached EOF,
   * until the cgroup is empty. */
  PF_WATCHDOG_ADD_CGROUP,
  /* No fd: forget the entry with this id (its fd is closed). */
  PF_WATCHDOG_REMOVE,
  PF_WATCHDOG_OP_COUNT
};

/* Names of the ops, by enum pf_watchdog_op (exported to TypeScript as constants.watchdogOp). */
extern const char *const pf_watchdog_op_names[PF_WATCHDOG_OP_COUNT];

/* One record, native byte order. */
struct pf_watchdog_record {
  uint32_t op;  /* enum pf_watchdog_op */
  uint32_t pid; /* ADD_GROUP: the leader's pid, which is the group's id (for telling zombies from
                   live members in /proc); else 0 */
  uint64_t id;  /* chosen by the sender, unique among its live entries */
};

#define PF_WATCHDOG_RECORD_SIZE 16

/* The watchdog's fds, as the Node process sets them up when it starts it. */
#define PF_WATCHDOG_CONTROL_FD 3
#define PF_WATCHDOG_PARENT_FD 4

#endif
