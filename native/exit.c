/*
 * exit.c: exit records (see exit.h).
 *
 * The reap always passes __WALL: a child whose exit signal is still 0 (it died before execve) is
 * invisible to waitid without it, and ECHILD must never be read as "exited".
 */
#include "exit.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup_signal.h"
#include "pidfd.h"
#include "probe.h"

const char *const pf_exit_how_names[PF_EXIT_HOW_COUNT] = {
    [PF_EXIT_WAITID] = "waitid",
    [PF_EXIT_INFO] = "info",
    [PF_EXIT_LOST] = "lost",
    [PF_EXIT_PENDING] = "pending",
    [PF_EXIT_CGROUP] = "cgroup",
};

const char *const pf_exit_field_names[PF_EXIT_FIELDS] = {
    [PF_EXIT_FD] = "fd",           [PF_EXIT_PID] = "pid",
    [PF_EXIT_HOW] = "how",         [PF_EXIT_CODE] = "code",
    [PF_EXIT_STATUS] = "status",   [PF_EXIT_UTIME_US] = "utimeUs",
    [PF_EXIT_STIME_US] = "stimeUs", [PF_EXIT_MAXRSS_KIB] = "maxRssKiB",
    [PF_EXIT_MINFLT] = "minFlt",   [PF_EXIT_MAJFLT] = "majFlt",
    [PF_EXIT_NVCSW] = "nvcsw",     [PF_EXIT_NIVCSW] = "nivcsw",
};

static void pf_record_status_from_wait_status(double *rec, int status) {
  if (WIFEXITED(status)) {
    rec[PF_EXIT_CODE] = CLD_EXITED;
    rec[PF_EXIT_STATUS] = WEXITSTATUS(status);
  } else {
    rec[PF_EXIT_CODE] = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
    rec[PF_EXIT_STATUS] = WTERMSIG(status);
  }
}

static void pf_record_no_rusage(double *rec) {
  for (int f = PF_EXIT_UTIME_US; f < PF_EXIT_FIELDS; f++) rec[f] = -1;
}

int pf_exit_from_info(int fd, double *rec, int final) {
  struct pf_pidfd_info info;
  memset(&info, 0, sizeof info);
  info.mask = PF_PIDFD_INFO_EXIT;
  int r = pf_pidfd_get_info(fd, &info);
  pf_record_no_rusage(rec);
  if (r == 0 && (info.mask & PF_PIDFD_INFO_EXIT)) {
    rec[PF_EXIT_HOW] = PF_EXIT_INFO;
    pf_record_status_from_wait_status(rec, info.exit_code);
    return 1;
  }
  if (!final) return 0;
  rec[PF_EXIT_HOW] = PF_EXIT_LOST;
  rec[PF_EXIT_CODE] = r < 0 ? -r : EOPNOTSUPP;
  rec[PF_EXIT_STATUS] = 0;
  return 1;
}

int pf_exit_from_reap(int fd, double *rec) {
  siginfo_t si;
  struct rusage ru;
  memset(&si, 0, sizeof si);
  memset(&ru, 0, sizeof ru);
  int r = pf_waitid_pidfd(fd, &si, WEXITED | WNOHANG | PF_WALL, &ru);
  if (r == 0 && si.si_pid == 0) return 0;
  if (r < 0) {
    /* ECHILD: something else in this process reaped our child (a waitpid(-1) loop, or SIGCHLD
     * set to SIG_IGN), or the kernel did (CLONE_AUTOREAP). Since 6.15 the kernel still has the
     * status, from the end of the reap on, which the pidfd's POLLHUP tells: an auto-reaped child
     * is readable (exited) a moment before that. Until then, not final: the caller polls again. */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int reaped = poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLNVAL));
    if (pf_exit_from_info(fd, rec, reaped || !pf_support_get()->pidfd_info_exit.ok)) return 1;
    return -1; /* exited, reaped elsewhere: wait for POLLHUP alone (POLLIN would spin) */
  }
  rec[PF_EXIT_HOW] = PF_EXIT_WAITID;
  rec[PF_EXIT_PID] = si.si_pid;
  rec[PF_EXIT_CODE] = si.si_code;
  rec[PF_EXIT_STATUS] = si.si_status;
  rec[PF_EXIT_UTIME_US] = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec;
  rec[PF_EXIT_STIME_US] = (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
  rec[PF_EXIT_MAXRSS_KIB] = (double)ru.ru_maxrss;
  rec[PF_EXIT_MINFLT] = (double)ru.ru_minflt;
  rec[PF_EXIT_MAJFLT] = (double)ru.ru_majflt;
  rec[PF_EXIT_NVCSW] = (double)ru.ru_nvcsw;
  rec[PF_EXIT_NIVCSW] = (double)ru.ru_nivcsw;
  return 1;
}

int pf_exit_from_cgroup_events(int fd, double *rec) {
  char buf[256];
  ssize_t n;
  do n = pread(fd, buf, sizeof buf - 1, 0);
  while (n < 0 && errno == EINTR);
  /* The directory was removed under the watch (by someone else: rmdir succeeds only on an empty
   * cgroup). Its file then stays ready and unreadable for ever: say the tree is empty, which it
   * is, so that the watch ends instead of spinning. */
  if (n < 0 && (errno == ENODEV || errno == ENOENT)) n = (ssize_t)snprintf(buf, sizeof buf, "populated 0\n");
  if (n < 0) return -errno;
  buf[n] = '\0';
  for (int f = PF_EXIT_PID; f < PF_EXIT_FIELDS; f++) rec[f] = -1;
  rec[PF_EXIT_FD] = fd;
  rec[PF_EXIT_PID] = 0;
  rec[PF_EXIT_HOW] = PF_EXIT_CGROUP;
  rec[PF_EXIT_CODE] = pf_cgroup_value(buf, "populated");
  rec[PF_EXIT_STATUS] = pf_cgroup_value(buf, "frozen");
  return 1;
}

static long pf_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int pf_exit_wait(int fd, int timeout_ms, double *rec) {
  long deadline = timeout_ms < 0 ? 0 : pf_now_ms() + timeout_ms;
  rec[PF_EXIT_FD] = fd;
  rec[PF_EXIT_PID] = 0;
  short events = POLLIN;
  for (;;) {
    int left = timeout_ms < 0 ? -1 : (int)(deadline - pf_now_ms());
    if (timeout_ms >= 0 && left < 0) left = 0;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -errno;
    if (p.revents & POLLNVAL) return -EBADF;
    int got = r > 0 ? pf_exit_from_reap(fd, rec) : 0;
    if (got > 0) return 1;
    if (got < 0) events = 0; /* POLLHUP, always reported, ends the wait */
    if (timeout_ms >= 0 && pf_now_ms() >= deadline) return 0;
  }
}
