/*
 * exit.h: exit records. One record per exited process, as JavaScript receives it: the reap (or,
 * for a process that is not our child, PIDFD_GET_INFO) turned into PF_EXIT_FIELDS doubles. The
 * exit watcher (watch.c) delivers them in batches; the blocking wait gives one.
 */
#ifndef PIDFD_EXIT_H
#define PIDFD_EXIT_H

/* How a record's status was obtained. */
enum pf_exit_how {
  PF_EXIT_WAITID = 0,  /* waitid reaped it: status and rusage are real */
  PF_EXIT_INFO = 1,    /* PIDFD_GET_INFO gave the status (someone else reaped it; 6.15+) */
  PF_EXIT_LOST = 2,    /* nobody can tell: the record's code is the errno that says why */
  PF_EXIT_PENDING = 3, /* an observed process exited; its status comes when its parent reaps it */
  PF_EXIT_CGROUP = 4,  /* not an exit: a cgroup's events changed; code is populated, status frozen */
  PF_EXIT_HOW_COUNT
};

extern const char *const pf_exit_how_names[PF_EXIT_HOW_COUNT];

/* The fields of a record, in order. */
enum pf_exit_field {
  PF_EXIT_FD = 0,
  PF_EXIT_PID,
  PF_EXIT_HOW,
  PF_EXIT_CODE,   /* si_code (CLD_EXITED, CLD_KILLED, CLD_DUMPED), or the errno when lost */
  PF_EXIT_STATUS, /* exit code or signal number */
  PF_EXIT_UTIME_US,
  PF_EXIT_STIME_US,
  PF_EXIT_MAXRSS_KIB,
  PF_EXIT_MINFLT,
  PF_EXIT_MAJFLT,
  PF_EXIT_NVCSW,
  PF_EXIT_NIVCSW,
  PF_EXIT_FIELDS
};

extern const char *const pf_exit_field_names[PF_EXIT_FIELDS];

/* Reaps our child behind fd (waitid with WNOHANG and __WALL). Returns 1 with the record filled,
 * 0 if it has not exited after all. ECHILD (a foreign reaper, or the kernel with CLONE_AUTOREAP)
 * is answered from PIDFD_GET_INFO once the reap is complete; before that, -1: it has exited, and
 * the caller waits for the pidfd's POLLHUP alone (it stays readable: waiting for POLLIN would
 * spin). */
int pf_exit_from_reap(int fd, double *rec);

/* The exit of a process we did not (or could not) reap, from PIDFD_INFO_EXIT (6.15). Returns 1
 * when the record is complete; 0 when the status is not there yet and `final` is 0 (an observed
 * zombie its parent has not reaped). With `final`, a missing status makes a PF_EXIT_LOST record. */
int pf_exit_from_info(int fd, double *rec, int final);

/* The state of a cgroup, from its cgroup.events file open at fd: a PF_EXIT_CGROUP record with
 * `populated` in the code field and `frozen` in the status field (-1 where the file does not
 * say). Returns 1, or -errno when the file cannot be read. */
int pf_exit_from_cgroup_events(int fd, double *rec);

/* Waits for our child behind fd to exit, blocking the calling thread for at most timeout_ms
 * (< 0: no limit), and reaps it. Returns 1 with the record filled, 0 on timeout, or -errno. The
 * pidfd stays open. */
int pf_exit_wait(int fd, int timeout_ms, double *rec);

#endif
