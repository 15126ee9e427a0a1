/*
 * cgroup_signal.c: a signal to a whole cgroup tree, frozen (see cgroup_signal.h).
 */
#include "cgroup_signal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pidfd.h"

/* Cgroups below cgroups: deeper than this is not walked (the kernel allows any depth unless
 * cgroup.max.depth says otherwise; a workload that nests this deep is not one to follow). */
#define PF_CGROUP_MAX_DEPTH 32

/* Rounds of SIGKILL without cgroup.kill (before 5.14): again until nothing is listed. */
#define PF_CGROUP_KILL_ROUNDS 100

static int pf_cgroup_write(int dirfd, const char *name, const char *text) {
  int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, text, strlen(text));
  int r = n < 0 ? -errno : 0;
  close(fd);
  return r;
}

static long pf_cgroup_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The number after `key ` in a cgroup file's "key value" lines ("populated 1\nfrozen 0\n"),
 * or -1 (cgroup_signal.h). */
int pf_cgroup_value(const char *text, const char *key) {
  size_t len = strlen(key);
  for (const char *line = text; *line != '\0';) {
    if (strncmp(line, key, len) == 0 && line[len] == ' ') return atoi(line + len + 1);
    const char *next = strchr(line, '\n');
    if (next == NULL) break;
    line = next + 1;
  }
  return -1;
}

/* Waits until the kernel says the tree is frozen (or empty), at most wait_ms: cgroup.freeze
 * only asks each member to stop at its next return to user space, and a member that forks
 * meanwhile still completes its fork. Once `frozen 1` is said, every member (a new child
 * included) is stopped, and cgroup.procs lists them all. cgroup.events says a change with
 * POLLPRI. */
static void pf_cgroup_wait_frozen(int dirfd, int wait_ms) {
  int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  long deadline = pf_cgroup_now_ms() + wait_ms;
  for (;;) {
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* removed: nothing left to wait for */
    buf[n] = '\0';
    if (pf_cgroup_value(buf, "frozen") == 1 || pf_cgroup_value(buf, "populated") == 0) break;
    long left = deadline - pf_cgroup_now_ms();
    if (left <= 0) break;
    struct pollfd p = {.fd = fd, .events = POLLPRI};
    if (poll(&p, 1, (int)left) < 0 && errno != EINTR) break;
  }
  close(fd);
}

/* One pid of cgroup.procs (text, not terminated): `sig` through a pidfd of its own, and SIGCONT
 * at once with `cont`. The tree is frozen then, and that is as good as after the thaw: SIGCONT
 * takes effect when it is sent (a stopped member is continued, into the freezer), and the member
 * acts on both signals once thawed. Returns 1 if the member got the signal. */
static int pf_cgroup_signal_pid(const char *text, size_t len, int sig, int cont) {
  long pid = 0;
  size_t i = 0;
  for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) pid = pid * 10 + (text[i] - '0');
  if (i == 0 || pid <= 0) return 0;
  int pidfd = pf_pidfd_open((pid_t)pid, 0);
  if (pidfd < 0) return 0; /* exited since it was listed */
  int sent = pf_pidfd_send_signal(pidfd, sig, 0) == 0;
  if (sent && cont) pf_pidfd_send_signal(pidfd, SIGCONT, 0);
  close(pidfd);
  return sent;
}

/* Signals each member that one cgroup's cgroup.procs lists (read as it comes: it may be long).
 * Returns how many got it, or -errno if the file could not be opened. */
static int pf_cgroup_signal_procs(int dirfd, int sig, int cont) {
  int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char buf[4096];
  size_t have = 0;
  int count = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - have);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) have += (size_t)n;
    size_t used = 0;
    for (size_t i = 0; i < have; i++) {
      if (buf[i] != '\n') continue;
      count += pf_cgroup_signal_pid(buf + used, i - used, sig, cont);
      used = i + 1;
    }
    if (n <= 0) {
      count += pf_cgroup_signal_pid(buf + used, have - used, sig, cont);
      break;
    }
    memmove(buf, buf + used, have - used);
    have -= used;
    if (have == sizeof buf) have = 0; /* no pid is that long */
  }
  close(fd);
  return count;
}

/* The members of the cgroup at dirfd and of every cgroup below it. */
static int pf_cgroup_signal_walk(int dirfd, int sig, int cont, int depth) {
  int count = pf_cgroup_signal_procs(dirfd, sig, cont);
  if (count < 0 || depth >= PF_CGROUP_MAX_DEPTH) return count;
  /* dirfd may be O_PATH, which cannot be listed: "." opened through it can. */
  int listfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listfd < 0) return count;
  DIR *dir = fdopendir(listfd);
  if (dir == NULL) {
    close(listfd);
    return count;
  }
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    int sub = openat(listfd, e->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (sub < 0) continue; /* removed meanwhile */
    int r = pf_cgroup_signal_walk(sub, sig, cont, depth + 1);
    if (r > 0) count += r;
    close(sub);
  }
  closedir(dir);
  return count;
}

int pf_cgroup_signal(int dirfd, int sig, int cont, int freeze_wait_ms) {
  if (sig == SIGKILL && pf_cgroup_write(dirfd, "cgroup.kill", "1") == 0) return 1;
  if (sig == SIGKILL) cont = 0;
  /* Without cgroup.freeze (before 5.2), or where it cannot be written, the members are
   * signalled as they are. */
  int frozen = pf_cgroup_write(dirfd, "cgroup.freeze", "1") == 0;
  if (frozen) pf_cgroup_wait_frozen(dirfd, freeze_wait_ms);
  int count = 0;
  for (int round = 0; round < PF_CGROUP_KILL_ROUNDS; round++) {
    int r = pf_cgroup_signal_walk(dirfd, sig, cont, 0);
    if (r < 0 && round == 0) count = r;
    if (r <= 0) break;
    count += r;
    /* SIGKILL by hand: until nothing is listed (a member in uninterruptible sleep takes its time
     * to go; bounded). Another signal: once. */
    if (sig != SIGKILL) break;
    usleep(1000);
  }
  if (frozen) pf_cgroup_write(dirfd, "cgroup.freeze", "0");
  return count;
}

int pf_cgroup_remove(const char *path) {
  if (rmdir(path) == 0) return 0;
  if (errno != EBUSY) return -errno;
  DIR *dir = opendir(path);
  if (dir == NULL) return -errno;
  struct dirent *e;
  char sub[4096];
  while ((e = readdir(dir)) != NULL) {
    if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < sizeof sub) pf_cgroup_remove(sub);
  }
  closedir(dir);
  return rmdir(path) == 0 ? 0 : -errno;
}
