/*
 * tee.c: a child's output to several places at once (run()'s `stdout: ['pipe', { file }, ...]`),
 * without its bytes passing through user space where the kernel can move them.
 *
 * One thread per tee, of its own (detached, every signal blocked), blocks in poll(). Each round:
 *   1. tee(2) duplicates what the child's pipe holds (c bytes) into an empty pipe of our own,
 *      the scratch pipe, without consuming it;
 *   2. for each target but the last, the scratch pipe is moved to it with splice(2) (c bytes:
 *      splice consumes, so a partial move simply goes on where it stopped), which empties it,
 *      and the next target's copy is tee'd from the child's pipe again (the same c bytes: they
 *      are still at its head);
 *   3. the same c bytes are moved from the child's pipe to the last target with splice(2).
 * With one target left, only step 3. A target that splice cannot write (a terminal; a file
 * opened O_APPEND, which splice refuses with EINVAL) is written with read(2)/write(2) through
 * a buffer of this thread: the bytes then pass through user space, never through JavaScript.
 *
 * Every splice and tee is SPLICE_F_NONBLOCK, and every wait is a poll() that also watches the
 * status pipe's write end: when its reader goes (the run gave up on the output, or the
 * environment that started the tee is torn down, a worker's included), poll reports POLLERR and
 * the thread ends. The thread never touches Node-API or anything of an environment: it owns
 * copies of its fds and its memory, and frees both itself (the addon is pinned, addon.c, so its
 * code outlives a worker's unload).
 */
#include "tee.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define PF_TEE_PIPE_SIZE (1 << 20) /* asked for, best effort: fewer rounds per megabyte */
#define PF_TEE_COPY_SIZE (64 * 1024)

enum pf_tee_mode { PF_TEE_SPLICE, PF_TEE_COPY, PF_TEE_DEAD };

struct pf_tee {
  int source;
  int status;
  int scratch[2];
  int n;
  int fd[PF_TEE_MAX];
  enum pf_tee_mode mode[PF_TEE_MAX];
  char *buffer; /* for PF_TEE_COPY targets, made on first use */
};

static void pf_tee_close(int fd) {
  if (fd >= 0) (void)close(fd);
}

/* Closes everything; the status pipe last: its end of input tells the run that every place has
 * been written and that none of this thread's fds is open any more. */
static void pf_tee_free(struct pf_tee *t) {
  int status = t->status;
  pf_tee_close(t->source);
  pf_tee_close(t->scratch[0]);
  pf_tee_close(t->scratch[1]);
  for (int i = 0; i < t->n; i++) pf_tee_close(t->fd[i]);
  free(t->buffer);
  free(t);
  pf_tee_close(status);
}

/* Waits until fd is ready for `events`: 1, or 0 if the status pipe's reader is gone (stop). */
static int pf_tee_wait(struct pf_tee *t, int fd, short events) {
  for (;;) {
    struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = t->status, .events = 0}};
    int r = poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || p[1].revents != 0) return 0;
    if (p[0].revents != 0) return 1; /* ready, or an error that the next call reports */
  }
}

/* Target i failed with `error`: it is told through the status pipe, and dropped. */
static void pf_tee_fail(struct pf_tee *t, int i, int error) {
  struct pf_tee_record record = {.index = i, .error = error};
  /* 8 bytes, far below PIPE_BUF: one atomic write that cannot block on an empty pipe for long */
  (void)!write(t->status, &record, sizeof record);
  t->mode[i] = PF_TEE_DEAD;
  pf_tee_close(t->fd[i]);
  t->fd[i] = -1;
}

/* Reads `count` bytes of pipe `from` and drops them (a target that failed mid-way). */
static int pf_tee_discard(struct pf_tee *t, int from, size_t count) {
  char sink[4096];
  while (count > 0) {
    ssize_t r = read(from, sink, count < sizeof sink ? count : sizeof sink);
    if (r > 0) count -= (size_t)r;
    else if (r < 0 && errno == EINTR) continue;
    else if (r < 0 && errno == EAGAIN) { if (!pf_tee_wait(t, from, POLLIN)) return 0; }
    else return 0;
  }
  (void)t;
  return 1;
}

/* Writes all of buffer to target i (copy mode): 1, 0 to stop; a failed target is dropped. */
static int pf_tee_write_all(struct pf_tee *t, int i, const char *data, size_t size) {
  while (size > 0 && t->mode[i] != PF_TEE_DEAD) {
    ssize_t w = write(t->fd[i], data, size);
    if (w > 0) {
      data += w;
      size -= (size_t)w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && errno == EAGAIN) {
      if (!pf_tee_wait(t, t->fd[i], POLLOUT)) return 0;
    } else {
      pf_tee_fail(t, i, w < 0 ? errno : EIO);
    }
  }
  return 1;
}

/* Moves exactly `count` bytes from pipe `from` (which holds at least that many) to target i:
 * 1, or 0 to stop. A target that fails has the rest of the bytes dropped for it. */
static int pf_tee_move(struct pf_tee *t, int from, int i, size_t count) {
  while (count > 0) {
    if (t->mode[i] == PF_TEE_DEAD) return pf_tee_discard(t, from, count);
    if (t->mode[i] == PF_TEE_SPLICE) {
      ssize_t r = splice(from, NULL, t->fd[i], NULL, count, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (r > 0) {
        count -= (size_t)r;
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else if (r < 0 && errno == EAGAIN) {
        if (!pf_tee_wait(t, t->fd[i], POLLOUT)) return 0;
      } else if (r < 0 && errno == EINVAL) {
        t->mode[i] = PF_TEE_COPY; /* not splice's to write: a terminal, an O_APPEND file */
      } else {
        pf_tee_fail(t, i, r < 0 ? errno : EIO);
      }
      continue;
    }
    if (t->buffer == NULL && (t->buffer = malloc(PF_TEE_COPY_SIZE)) == NULL) {
      pf_tee_fail(t, i, ENOMEM);
      continue;
    }
    ssize_t r = read(from, t->buffer, count < PF_TEE_COPY_SIZE ? count : PF_TEE_COPY_SIZE);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) {
      if (!pf_tee_wait(t, from, POLLIN)) return 0;
      continue;
    }
    if (r <= 0) return 0; /* cannot be: the pipe holds the bytes */
    count -= (size_t)r;
    if (!pf_tee_write_all(t, i, t->buffer, (size_t)r)) return 0;
  }
  return 1;
}

static void *pf_tee_main(void *arg) {
  struct pf_tee *t = arg;
  (void)pthread_setname_np(pthread_self(), "pidfd-tee"); /* seen in /proc/<pid>/task/<tid>/comm */
  for (;;) {
    int last = -1, alive = 0;
    for (int i = 0; i < t->n; i++) {
      if (t->mode[i] != PF_TEE_DEAD) {
        last = i;
        alive++;
      }
    }
    if (alive == 0) break; /* the child then gets EPIPE, as with no reader */
    if (!pf_tee_wait(t, t->source, POLLIN)) break;
    ssize_t c;
    if (alive == 1) {
      /* One target: how much the pipe holds is what goes. */
      int held = 0;
      if (ioctl(t->source, FIONREAD, &held) != 0) break;
      if (held <= 0) break; /* readable with nothing held: every writer is gone */
      c = held;
    } else {
      c = tee(t->source, t->scratch[1], INT_MAX, SPLICE_F_NONBLOCK);
      if (c == 0) break; /* end of input: every writer is gone */
      if (c < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (c < 0) break;
      int filled = 1; /* the scratch pipe holds the round's c bytes */
      for (int i = 0; i < last; i++) {
        if (t->mode[i] == PF_TEE_DEAD) continue;
        if (!filled) {
          /* The same first c bytes of the source, again: they are still at its head. */
          ssize_t again;
          do again = tee(t->source, t->scratch[1], (size_t)c, SPLICE_F_NONBLOCK);
          while (again < 0 && errno == EINTR);
          if (again != c) {
            /* Cannot be (the scratch pipe is empty and as large as the source, which holds the
             * c bytes): a target cannot be given part of a round, so it is dropped, said. */
            if (again > 0 && !pf_tee_discard(t, t->scratch[0], (size_t)again)) goto out;
            pf_tee_fail(t, i, again < 0 ? errno : EIO);
            continue;
          }
        }
        if (!pf_tee_move(t, t->scratch[0], i, (size_t)c)) goto out;
        filled = 0;
      }
      if (filled && !pf_tee_discard(t, t->scratch[0], (size_t)c)) break;
    }
    if (!pf_tee_move(t, t->source, last, (size_t)c)) break;
  }
out:
  pf_tee_free(t);
  return NULL;
}

static int pf_tee_dup(int fd) {
  return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int pf_tee_start(int source, const int *targets, int n, int status) {
  if (n < 1 || n > PF_TEE_MAX) return -EINVAL;
  struct pf_tee *t = calloc(1, sizeof *t);
  if (t == NULL) return -ENOMEM;
  t->scratch[0] = t->scratch[1] = -1;
  t->source = pf_tee_dup(source);
  t->status = pf_tee_dup(status);
  for (int i = 0; i < n; i++) t->fd[i] = -1;
  t->n = n;
  int err = 0;
  if (t->source < 0 || t->status < 0) err = errno;
  for (int i = 0; i < n && err == 0; i++) {
    t->fd[i] = pf_tee_dup(targets[i]);
    if (t->fd[i] < 0) err = errno;
    t->mode[i] = PF_TEE_SPLICE;
  }
  if (err == 0 && pipe2(t->scratch, O_CLOEXEC) != 0) err = errno;
  if (err != 0) {
    pf_tee_free(t);
    return -err;
  }
  /* Bigger pipes, fewer rounds (each may fail under the per-user pipe limits: it then stays as
   * it is). The scratch pipe is never smaller than the source: a round's tee then fits whole. */
  (void)fcntl(t->source, F_SETPIPE_SZ, PF_TEE_PIPE_SIZE);
  int size = fcntl(t->source, F_GETPIPE_SZ);
  if (size > 0) (void)fcntl(t->scratch[1], F_SETPIPE_SZ, size);
  sigset_t all, old;
  sigfillset(&all);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pthread_create(&thread, &attr, pf_tee_main, t);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    pf_tee_free(t);
    return -r;
  }
  return 0;
}
