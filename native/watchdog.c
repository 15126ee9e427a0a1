/*
 * watchdog.c: pidfd-watchdog, a program of its own (the second target of binding.gyp). One runs
 * beside each Node environment that uses run() with `cleanup`, and kills that process's process
 * trees when the process dies, however it dies: a SIGKILL runs no exit handler, and the kernel's
 * parent-death signal reaches only a direct child, never the grandchildren.
 *
 * The Node process starts it in a session of its own (so that a terminal's signals for the Node
 * process's group do not reach it), with
 *   fd 3: a unix stream socket on which the records of watchdog.h arrive, each add record with a
 *         descriptor: a pidfd of a group leader or of a lone process, or a cgroup directory;
 *   fd 4: a pidfd of the Node process.
 * It waits in one epoll set for three things:
 *   - the Node process's pidfd becomes readable (the process has exited): every entry is killed
 *     with SIGKILL, and the watchdog exits;
 *   - a record arrives, or the socket reaches EOF (the environment closed its end: a worker that
 *     ended, or a process about to exit with nothing running). After EOF the watchdog stays only
 *     while some group or cgroup it knows still has members, checking them once a second;
 *   - an entry's leader exits: a lone process is forgotten; a group is forgotten when it is
 *     empty (zombies aside), else kept and checked again at every wake-up until it is (its pidfd
 *     pins the kernel's struct pid, so a pid that is reused meanwhile is never signalled).
 * It never signals anything by pid number: without cgroup.kill (5.14) the members of a cgroup
 * are signalled through pidfds of their own, with the cgroup frozen (cgroup_signal.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cgroup_signal.h"
#include "pidfd.h"
#include "tree_signal.h"
#include "watchdog.h"

enum { KEY_PARENT = -1, KEY_CONTROL = -2 };

struct entry {
  int op;     /* enum pf_watchdog_op; 0: free slot */
  int fd;     /* the pidfd or the cgroup directory */
  int polled; /* in the epoll set (a leader not yet seen to exit) */
  pid_t pgid; /* ADD_GROUP: the group's id */
  uint64_t id;
};

static struct entry *entries;
static size_t nentries, capacity;
static int epfd;

/* Descriptors received but not yet paired with their add record. */
static int pending_fds[64];
static size_t npending;

static int group_signal(int fd, int sig) {
  int r = pf_pidfd_send_signal(fd, sig, PF_PIDFD_SIGNAL_PROCESS_GROUP);
  /* Before 6.9 a pidfd cannot address a group: the leader alone is reachable safely. */
  if (r == -EINVAL) r = sig == 0 ? -ESRCH : pf_pidfd_send_signal(fd, sig, 0);
  return r;
}

/* Whether a process of group `pgid` is more than a zombie. Signal 0 reaches zombies too, and the
 * orphans of a killed tree stay zombies until their new parent reaps them, which some container
 * inits do late or never. The number names this group as long as signal 0 reaches it: a pid stays
 * allocated while any process has it as its group id. */
static int group_has_live_member(pid_t pgid) {
  DIR *proc = opendir("/proc");
  if (proc == NULL) return 1;
  int live = 0;
  struct dirent *d;
  while (!live && (d = readdir(proc)) != NULL) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    char path[sizeof d->d_name + 8], stat[512];
    snprintf(path, sizeof path, "%s/stat", d->d_name);
    int fd = openat(dirfd(proc), path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (n <= 0) continue;
    stat[n] = '\0';
    /* pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses. */
    char *end = strrchr(stat, ')');
    char state;
    int ppid, pgrp;
    if (end == NULL || sscanf(end + 2, "%c %d %d", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') live = 1;
  }
  closedir(proc);
  return live;
}

/* `sig` to every process of an entry's tree, then SIGCONT where the tree rule says so
 * (tree_signal.h; the watchdog sends SIGKILL, which needs none). */
static void signal_entry(const struct entry *e, int sig) {
  if (e->op == PF_WATCHDOG_ADD_CGROUP) {
    /* cgroup.kill, else frozen, member by member through pidfds, sub-cgroups included: the rule
     * that runSync's loop (sync.c) applies too. */
    pf_cgroup_signal(e->fd, sig, pf_tree_signal_continues(sig), PF_CGROUP_FREEZE_WAIT_MS);
    return;
  }
  for (int round = 0; round < 1 + pf_tree_signal_continues(sig); round++) {
    int s = round == 0 ? sig : SIGCONT;
    if (e->op == PF_WATCHDOG_ADD_GROUP) group_signal(e->fd, s);
    if (e->op == PF_WATCHDOG_ADD_LEADER) pf_pidfd_send_signal(e->fd, s, 0);
  }
}

static void forget(struct entry *e) {
  if (e->polled) epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL);
  close(e->fd);
  e->op = PF_WATCHDOG_NONE;
}

static void kill_all(void) {
  for (size_t i = 0; i < nentries; i++) signal_entry(&entries[i], SIGKILL);
}

static int add(uint32_t op, pid_t pgid, uint64_t id, int fd) {
  size_t slot = nentries;
  for (size_t i = 0; i < nentries; i++) {
    if (entries[i].op == PF_WATCHDOG_NONE) {
      slot = i;
      break;
    }
  }
  if (slot == capacity) {
    size_t n = capacity == 0 ? 64 : capacity * 2;
    struct entry *grown = realloc(entries, n * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    entries = grown;
    capacity = n;
  }
  if (slot == nentries) nentries++;
  struct entry *e = &entries[slot];
  *e = (struct entry){.op = (int)op, .fd = fd, .polled = 0, .pgid = pgid, .id = id};
  if (op != PF_WATCHDOG_ADD_CGROUP) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    e->polled = epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
  }
  return 0;
}

/* Whether a cgroup still holds a process (cgroup.events); one that was removed is empty. */
static int cgroup_populated(int dirfd) {
  int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[256];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return strstr(buf, "populated 0") == NULL;
}

/* Drops every entry whose leader has exited and whose tree is empty (zombies aside); returns how
 * many trees are left with members after their leader exited. A cgroup is guarded before its
 * first process is placed in it: while the socket is open it is kept until a remove record
 * names it; after EOF (its environment is gone: a worker terminated while its run blocked, or
 * ended with a killed tree not yet empty) nobody can place a process in it any more, and it is
 * dropped once empty, so that the watchdog does not stay for nothing. */
static size_t prune(int open_control) {
  size_t stragglers = 0;
  for (size_t i = 0; i < nentries; i++) {
    struct entry *e = &entries[i];
    if (e->op == PF_WATCHDOG_ADD_CGROUP && !open_control) {
      if (cgroup_populated(e->fd)) stragglers++;
      else forget(e);
      continue;
    }
    if (e->op == PF_WATCHDOG_NONE || e->op == PF_WATCHDOG_ADD_CGROUP || e->polled) continue;
    if (e->op == PF_WATCHDOG_ADD_GROUP && group_signal(e->fd, 0) == 0 && group_has_live_member(e->pgid)) {
      stragglers++;
      continue;
    }
    forget(e);
  }
  return stragglers;
}

/* After the end of the socket: forgets the cgroups whose directory is gone (removed once empty
 * by the environment, whose remove record it held back to send with a later one that never
 * came), so that a watchdog that knows nothing else exits. */
static void forget_removed_cgroups(void) {
  for (size_t i = 0; i < nentries; i++) {
    struct entry *e = &entries[i];
    if (e->op != PF_WATCHDOG_ADD_CGROUP) continue;
    int fd = openat(e->fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) close(fd);
    else if (errno == ENOENT || errno == ENODEV) forget(e);
  }
}

static void leader_exited(int fd) {
  for (size_t i = 0; i < nentries; i++) {
    if (entries[i].op != PF_WATCHDOG_NONE && entries[i].fd == fd && entries[i].polled) {
      epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
      entries[i].polled = 0;
      return;
    }
  }
}

static void handle_record(const struct pf_watchdog_record *r) {
  if (r->op == PF_WATCHDOG_REMOVE) {
    for (size_t i = 0; i < nentries; i++) {
      if (entries[i].op != PF_WATCHDOG_NONE && entries[i].id == r->id) forget(&entries[i]);
    }
    return;
  }
  if (r->op == PF_WATCHDOG_NONE || r->op >= PF_WATCHDOG_REMOVE || npending == 0) return;
  int fd = pending_fds[0];
  npending--;
  memmove(pending_fds, pending_fds + 1, npending * sizeof *pending_fds);
  if (add(r->op, (pid_t)r->pid, r->id, fd) < 0) close(fd);
}

/* Reads what is there: 1 if something was read, 0 at EOF (or a broken socket), -1 if there was
 * nothing to read. */
static int read_control(int sock) {
  static unsigned char carry[4096 + PF_WATCHDOG_RECORD_SIZE];
  static size_t ncarry;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 16)];
  } control;
  struct iovec iov = {.iov_base = carry + ncarry, .iov_len = 4096};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN ? -1 : 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (npending < sizeof pending_fds / sizeof *pending_fds) pending_fds[npending++] = fd;
      else close(fd);
    }
  }
  if (n == 0) return 0;
  ncarry += (size_t)n;
  size_t used = 0;
  while (ncarry - used >= PF_WATCHDOG_RECORD_SIZE) {
    struct pf_watchdog_record r;
    memcpy(&r, carry + used, sizeof r);
    handle_record(&r);
    used += PF_WATCHDOG_RECORD_SIZE;
  }
  memmove(carry, carry + used, ncarry - used);
  ncarry -= used;
  return 1;
}

int main(void) {
  /* A session of its own already keeps terminal signals away; these would only be sent by
   * someone signalling everything, and must not end the watch early. */
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return 1;
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = KEY_PARENT};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, PF_WATCHDOG_PARENT_FD, &ev) < 0) return 1;
  ev.data.fd = KEY_CONTROL;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, PF_WATCHDOG_CONTROL_FD, &ev) < 0) return 1;

  int open_control = 1;
  size_t stragglers = 0;
  for (;;) {
    struct epoll_event events[32];
    int timeout = !open_control && stragglers > 0 ? 1000 : -1;
    int n = epoll_wait(epfd, events, 32, timeout);
    if (n < 0 && errno != EINTR) return 1;
    int parent_died = 0;
    for (int i = 0; i < n; i++) {
      if (events[i].data.fd == KEY_PARENT) parent_died = 1;
    }
    if (parent_died) {
      /* Records sent just before the death are still in the socket: read them first. */
      while (open_control && read_control(PF_WATCHDOG_CONTROL_FD) == 1) {
      }
      kill_all();
      return 0;
    }
    for (int i = 0; i < n; i++) {
      int key = events[i].data.fd;
      if (key == KEY_CONTROL) {
        if (read_control(PF_WATCHDOG_CONTROL_FD) == 0) {
          epoll_ctl(epfd, EPOLL_CTL_DEL, PF_WATCHDOG_CONTROL_FD, NULL);
          close(PF_WATCHDOG_CONTROL_FD);
          open_control = 0;
          forget_removed_cgroups();
        }
      } else {
        leader_exited(key);
      }
    }
    stragglers = prune(open_control);
    if (!open_control) {
      size_t live = 0;
      for (size_t i = 0; i < nentries; i++) live += entries[i].op != PF_WATCHDOG_NONE;
      if (live == 0) return 0;
    }
  }
}
