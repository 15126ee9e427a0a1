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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pidfd.h"

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
};

/* A limit was hit: signal the child (unless it has exited) and stop reading and writing. */
static void pf_sync_kill(struct pf_sync_state *s) {
  if (s->killed) return;
  s->killed = 1;
  if (!s->exited) {
    int r = pf_pidfd_send_signal(s->pidfd, s->limits->kill_signal, 0);
    if (r < 0 && r != -ESRCH) pf_sync_set(&s->out->error, r);
  }
  for (int i = 0; i < s->npipes; i++) pf_sync_close(&s->pipes[i]);
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
  p->buf_len += (size_t)n;
  s->total += (double)n;
  if (s->limits->max_buffer > 0 && s->total > s->limits->max_buffer) {
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

int pf_sync_run(int pidfd, struct pf_sync_pipe *pipes, int npipes, const struct pf_sync_limits *limits,
                struct pf_sync_result *out) {
  struct pf_sync_state s = {pidfd, pipes, npipes, limits, out, 0, 0, 0};
  struct pollfd *fds = calloc((size_t)npipes + 1, sizeof *fds);
  long deadline = limits->timeout_ms > 0 ? pf_sync_now_ms() + limits->timeout_ms : 0;
  int result = 0;

  memset(out, 0, sizeof *out);
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
    if (s.exited && open == 0) break;

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
    }
    int wait = -1;
    if (deadline != 0 && !s.killed) {
      long left = deadline - pf_sync_now_ms();
      wait = left < 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
    }
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
  free(fds);
  return result;
}
