/*
 * sync.c: the blocking loop of a synchronous spawn (see sync.h).
 *
 * The rules are those of Node's SyncProcessRunner, which programs rely on: the input is written
 * whole and the child's stdin then ended (at once when there is none); the output of every pipe
 * is kept in full; past `max_buffer` bytes read (over all pipes) the result is ENOBUFS, past the
 * timeout ETIMEDOUT, and either way the child gets `kill_signal` and the pipes are closed, so that
 * a grandchild that keeps a pipe open cannot hold the call; otherwise the call returns when the
 * child has exited and its output pipes have reached end of file.
 */
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_signal.h"
#include "pidfd.h"
#include "sys.h"

/* Node's read size (libuv's): a read never asks for more than this. */
#define PF_SYNC_CHUNK 65536

static long pf_sync_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pf_sync_close(struct pf_sync_pipe *p) {
  if (p->fd >= 0) close(p->fd);
  p->fd = -1;
}

/* The first error wins, as in Node's SetError. */
static void pf_sync_set(int *slot, int err) {
  if (*slot == 0) *slot = err;
}

struct pf_sync_state {
  int pidfd;
  struct pf_sync_pipe *pipes;
  int npipes;
  const struct pf_sync_limits *limits;
  struct pf_sync_result *out;
  int exited, killed;
  double total; /* output bytes read over all pipes */
  int events_fd; /* PF_SYNC_CGROUP, once killed: the cgroup's cgroup.events, or -1 */
  int emptied;   /* the cgroup was seen empty, or given up on */
};

/* Sends sig to the tree: the child, its process group, or its cgroup. */
static void pf_sync_signal_tree(struct pf_sync_state *s, int sig) {
  const struct pf_sync_limits *l = s->limits;
  int cont = sig != SIGKILL && l->continue_stopped;
  int r = 0;
  switch (l->tree) {
    case PF_SYNC_CGROUP:
      /* run()'s rule for a cgroup (cgroup_signal.h, shared with the watchdog): cgroup.kill for
       * SIGKILL; another signal with the tree frozen, sub-cgroups included, SIGCONT per `cont`. */
      pf_cgroup_signal(l->cgroup_fd, sig, cont, PF_CGROUP_FREEZE_WAIT_MS);
      return;
    case PF_SYNC_GROUP:
      /* The group through its leader's pidfd (6.9), which reaches it after the leader's reap
       * too. Before 6.9, kill(-pgid) only while the leader is not reaped: the number is then
       * its group's for sure. */
      r = pf_pidfd_send_signal(s->pidfd, sig, PF_PIDFD_SIGNAL_PROCESS_GROUP);
      if (r == -EINVAL && !s->exited && s->limits->pid > 0) r = kill(-(pid_t)s->limits->pid, sig) == 0 ? 0 : -errno;
      if (r == 0 && cont) pf_pidfd_send_signal(s->pidfd, SIGCONT, PF_PIDFD_SIGNAL_PROCESS_GROUP);
      break;
    default:
      if (s->exited) return;
      r = pf_pidfd_send_signal(s->pidfd, sig, 0);
      if (r == 0 && cont) pf_pidfd_send_signal(s->pidfd, SIGCONT, 0);
  }
  if (r < 0 && r != -ESRCH && r != -EINVAL) pf_sync_set(&s->out->error, r);
}

/* A limit was hit: signal the tree and stop reading and writing. */
static void pf_sync_kill(struct pf_sync_state *s) {
  if (s->killed) return;
  s->killed = 1;
  s->out->killed = 1;
  s->out->exited_before = s->exited;
  if (s->limits->tree == PF_SYNC_CHILD) {
    if (!s->exited) {
      int r = pf_pidfd_send_signal(s->pidfd, s->limits->kill_signal, 0);
      if (r < 0 && r != -ESRCH) pf_sync_set(&s->out->error, r);
    }
  } else {
    pf_sync_signal_tree(s, s->limits->kill_signal);
    if (s->limits->tree == PF_SYNC_CGROUP) {
      s->events_fd = openat(s->limits->cgroup_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
      if (s->events_fd < 0) s->emptied = 1;
    }
  }
  for (int i = 0; i < s->npipes; i++) pf_sync_close(&s->pipes[i]);
}

/* Whether the killed cgroup is empty now (cgroup.events). */
static void pf_sync_check_empty(struct pf_sync_state *s) {
  double rec[PF_EXIT_FIELDS];
  if (s->events_fd < 0 || s->emptied) return;
  if (pf_exit_from_cgroup_events(s->events_fd, rec) != 1 || rec[PF_EXIT_CODE] == 0) s->emptied = 1;
}

/* How many of the n new bytes of p are within max_lines newlines (n if all are): a line is
 * beyond the limit as soon as its first byte arrives. Newlines are the byte 0x0a, or with
 * line_unit 2 the utf16le code unit 0x000a at an even offset. */
static size_t pf_sync_keep_lines(struct pf_sync_pipe *p, const unsigned char *b, size_t n, double max, int unit) {
  size_t i = 0;
  if (n == 0) return 0;
  if (p->newlines >= max) return 0;
  if (unit != 2) {
    for (; i < n; i++) {
      if (b[i] == 0x0a && ++p->newlines >= max) return i + 1;
    }
    return n;
  }
  if (p->odd) {
    p->odd = 0;
    i = 1;
    if (p->odd_byte == 0x0a && b[0] == 0 && ++p->newlines >= max) return 1;
  }
  for (; i + 1 < n; i += 2) {
    if (b[i] == 0x0a && b[i + 1] == 0 && ++p->newlines >= max) return i + 2;
  }
  if (i < n) {
    p->odd = 1;
    p->odd_byte = b[i];
  }
  return n;
}

/* Notes that n bytes of pipe i were read, in order (for `all`). */
static void pf_sync_note_run(struct pf_sync_state *s, int i, size_t n) {
  struct pf_sync_result *o = s->out;
  if (n == 0) return;
  if (o->nruns > 0 && o->runs[2 * (o->nruns - 1)] == i && o->runs[2 * o->nruns - 1] < 0x40000000 - (int)n) {
    o->runs[2 * o->nruns - 1] += (int)n;
    return;
  }
  if (o->nruns == o->runs_cap) {
    int cap = o->runs_cap == 0 ? 64 : o->runs_cap * 2;
    int *grown = realloc(o->runs, (size_t)cap * 2 * sizeof *grown);
    if (grown == NULL) {
      pf_sync_set(&o->error, -ENOMEM);
      pf_sync_kill(s);
      return;
    }
    o->runs = grown;
    o->runs_cap = cap;
  }
  o->runs[2 * o->nruns] = i;
  o->runs[2 * o->nruns + 1] = (int)n;
  o->nruns++;
}

/* Reads what the pipe has (one chunk). */
static void pf_sync_read(struct pf_sync_state *s, struct pf_sync_pipe *p) {
  if (p->buf_cap - p->buf_len < PF_SYNC_CHUNK) {
    size_t cap = p->buf_cap == 0 ? PF_SYNC_CHUNK : p->buf_cap * 2;
    while (cap - p->buf_len < PF_SYNC_CHUNK) cap *= 2;
    unsigned char *grown = realloc(p->buf, cap);
    if (grown == NULL) {
      pf_sync_set(&s->out->error, -ENOMEM);
      pf_sync_kill(s);
      return;
    }
    p->buf = grown;
    p->buf_cap = cap;
  }
  ssize_t n = read(p->fd, p->buf + p->buf_len, PF_SYNC_CHUNK);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    pf_sync_set(&s->out->pipe_error, -errno);
    pf_sync_close(p);
    return;
  }
  if (n == 0) {
    pf_sync_close(p);
    return;
  }
  const struct pf_sync_limits *l = s->limits;
  if (l->per_pipe) {
    /* run()'s rule: each pipe alone, and what is kept stops at the limit. */
    size_t kept = (size_t)n;
    int lines = 0;
    if (l->max_lines >= 0) {
      kept = pf_sync_keep_lines(p, p->buf + p->buf_len, (size_t)n, l->max_lines, l->line_unit);
      lines = kept < (size_t)n;
    }
    if (l->max_buffer >= 0 && (double)(p->buf_len + kept) > l->max_buffer) {
      kept = l->max_buffer > (double)p->buf_len ? (size_t)(l->max_buffer - (double)p->buf_len) : 0;
      lines = 0;
    }
    p->buf_len += kept;
    if (l->record_runs) pf_sync_note_run(s, (int)(p - s->pipes), kept);
    if (kept < (size_t)n) {
      s->out->exceeded_pipe = (int)(p - s->pipes);
      s->out->exceeded_lines = lines;
      pf_sync_set(&s->out->error, -ENOBUFS);
      pf_sync_kill(s);
    }
    return;
  }
  p->buf_len += (size_t)n;
  s->total += (double)n;
  if (l->max_buffer > 0 && s->total > l->max_buffer) {
    pf_sync_set(&s->out->error, -ENOBUFS);
    pf_sync_kill(s);
  }
}

/*
 * The input is all written: the child's stdin ends. A socketpair (what child_process gives) is
 * shut for writing, as libuv's uv_shutdown does in Node's SyncProcessRunner, and stays open until
 * the call returns: the child reads its end of file, and a child that writes to its fd 0 (it is a
 * socket, both ways) still can, as with Node. A pipe is closed.
 */
static void pf_sync_end_input(struct pf_sync_pipe *p) {
  if (p->fd >= 0 && shutdown(p->fd, SHUT_WR) == 0) {
    p->ended = 1;
    return;
  }
  pf_sync_close(p);
}

/* Writes what the pipe takes of the input; ends it once all is written. */
static void pf_sync_write(struct pf_sync_state *s, struct pf_sync_pipe *p) {
  while (p->done < p->len) {
    size_t want = p->len - p->done;
    /* MSG_NOSIGNAL: a child that closed its stdin gives EPIPE, never SIGPIPE. A pipe (not a
     * socket) answers ENOTSOCK, and is written with write(). */
    ssize_t n = send(p->fd, p->data + p->done, want, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK) n = write(p->fd, p->data + p->done, want);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      pf_sync_set(&s->out->pipe_error, -errno);
      pf_sync_close(p);
      return;
    }
    p->done += (size_t)n;
  }
  pf_sync_end_input(p);
}

/* After a killed tree got SIGKILL, how long its cgroup may take to empty before it is given up
 * on (run()'s EMPTY_GRACE_MS). */
#define PF_SYNC_EMPTY_GRACE_MS 2000

static int pf_sync_wait_for(long at) {
  long left = at - pf_sync_now_ms();
  return left < 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int pf_sync_run(int pidfd, struct pf_sync_pipe *pipes, int npipes, const struct pf_sync_limits *limits,
                struct pf_sync_result *out) {
  struct pf_sync_state s = {pidfd, pipes, npipes, limits, out, 0, 0, 0, -1, 0};
  struct pollfd *fds = calloc((size_t)npipes + 2, sizeof *fds);
  long deadline = limits->timeout_ms > 0 ? pf_sync_now_ms() + limits->timeout_ms : 0;
  long force_at = 0, give_up_at = 0;
  int result = 0;

  memset(out, 0, sizeof *out);
  out->exceeded_pipe = -1;
  for (int i = 0; i < npipes; i++) {
    if (pipes[i].fd < 0) continue;
    int flags = fcntl(pipes[i].fd, F_GETFL);
    if (flags >= 0) fcntl(pipes[i].fd, F_SETFL, flags | O_NONBLOCK);
    /* No input: the child's stdin ends at once. */
    if (pipes[i].input && pipes[i].len == 0) pf_sync_end_input(&pipes[i]);
  }
  if (fds == NULL) {
    pf_sync_set(&out->error, -ENOMEM);
    pf_sync_kill(&s);
  }

  int reaped_elsewhere = 0;
  for (;;) {
    int open = 0;
    for (int i = 0; i < npipes; i++) open += pipes[i].fd >= 0 && !pipes[i].ended;
    /* A killed cgroup is waited for until it is empty, as run() waits for its tree. */
    if (s.exited && open == 0 && (s.events_fd < 0 || s.emptied)) break;
    if (s.killed && force_at == 0 && limits->tree != PF_SYNC_CHILD && limits->force_kill_ms >= 0) {
      force_at = pf_sync_now_ms() + limits->force_kill_ms;
    }

    /* Without the array (ENOMEM) only the pidfd is waited on. */
    struct pollfd single = {.fd = pidfd, .events = POLLIN};
    struct pollfd *set = fds != NULL ? fds : &single;
    int n = 0;
    if (!s.exited) set[n++] = (struct pollfd){.fd = pidfd, .events = reaped_elsewhere ? 0 : POLLIN};
    int first_pipe = n;
    if (fds != NULL) {
      for (int i = 0; i < npipes; i++) {
        if (pipes[i].fd < 0 || pipes[i].ended) continue;
        fds[n++] = (struct pollfd){.fd = pipes[i].fd, .events = pipes[i].input ? POLLOUT : POLLIN};
      }
      /* cgroup.events says a change with POLLPRI. */
      if (s.events_fd >= 0 && !s.emptied) fds[n++] = (struct pollfd){.fd = s.events_fd, .events = POLLPRI};
    }
    int wait = -1;
    if (deadline != 0 && !s.killed) wait = pf_sync_wait_for(deadline);
    else if (force_at > 0 && !out->forced) wait = pf_sync_wait_for(force_at);
    else if (give_up_at > 0) wait = pf_sync_wait_for(give_up_at);
    int r = poll(set, (nfds_t)n, wait);
    if (r < 0 && errno != EINTR) {
      result = -errno;
      pf_sync_kill(&s);
      break;
    }
    if (deadline != 0 && !s.killed && pf_sync_now_ms() >= deadline) {
      pf_sync_set(&out->error, -ETIMEDOUT);
      pf_sync_kill(&s);
      continue;
    }
    pf_sync_check_empty(&s);
    if (force_at > 0 && !out->forced && pf_sync_now_ms() >= force_at) {
      /* Forced only where something was left for SIGKILL to end. */
      int left = limits->tree == PF_SYNC_CGROUP ? !s.emptied : !s.exited;
      force_at = -1;
      if (left) {
        out->forced = 1;
        pf_sync_signal_tree(&s, SIGKILL);
        give_up_at = pf_sync_now_ms() + PF_SYNC_EMPTY_GRACE_MS;
      }
      continue;
    }
    if (give_up_at > 0 && pf_sync_now_ms() >= give_up_at) {
      s.emptied = 1; /* a member out of SIGKILL's reach for now: the run ends anyway */
      give_up_at = 0;
    }
    if (r <= 0) continue;

    /* The pipes first: output that came before the exit is kept. */
    for (int k = first_pipe; k < n && !s.killed; k++) {
      if (set[k].revents == 0) continue;
      for (int i = 0; i < npipes; i++) {
        if (pipes[i].fd != set[k].fd) continue;
        if (pipes[i].input) pf_sync_write(&s, &pipes[i]);
        else pf_sync_read(&s, &pipes[i]);
        break;
      }
    }
    if (!s.exited && first_pipe == 1 && (set[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      int got = pf_exit_from_reap(pidfd, out->rec);
      if (got > 0) s.exited = 1;
      else if (got < 0) reaped_elsewhere = 1; /* then POLLHUP alone (see exit.h) */
    }
  }

  /* Only a failed poll ends the loop before the exit: the child must not be left unreaped. */
  if (!s.exited) {
    int r = pf_exit_wait(pidfd, -1, out->rec);
    if (r == 1) {
      s.exited = 1;
      result = 0;
    } else if (r < 0 && result == 0) {
      result = r;
    }
  }
  for (int i = 0; i < npipes; i++) pf_sync_close(&pipes[i]);
  if (s.events_fd >= 0) close(s.events_fd);
  free(fds);
  return result;
}
