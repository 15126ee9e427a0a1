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
 * The thread never blocks anywhere but in poll(), so that it can always be stopped:
 *   - every splice and tee is SPLICE_F_NONBLOCK, which makes a pipe target (a FIFO, 'inherit'
 *     onto a pipe) non-blocking whatever its own flags;
 *   - a socket without O_NONBLOCK (splice would wait in the socket) is written with
 *     send(MSG_DONTWAIT) from the buffer instead; one with O_NONBLOCK is spliced;
 *   - a terminal without O_NONBLOCK is opened again through /proc/self/fd with O_NONBLOCK (a
 *     file description of our own, as libuv does for its ttys: the flag would change the
 *     terminal for everyone who shares the original); where that fails it stays blocking
 *     (docs/run.md says so);
 *   - a regular file or a block device is written as it is (its writes end).
 * Every wait is a poll() that also watches the status pipe's write end: when its reader goes
 * (the run gave up on the output, or the environment that started the tee is torn down, a
 * worker's included), poll reports POLLERR and the thread ends. It also watches an eventfd that
 * pf_tee_stop() writes (the run was killed and its tree is gone): from then on the thread waits
 * for nothing, gives up the targets that are not ready (a record each) and ends once what the
 * source held is copied.
 *
 * Every failure is a record on the status pipe (a target's, or the thread's own with index -1):
 * the thread allocates nothing after its start, and ends only at end of input, when every
 * target has failed, on a stop, or after a record. The thread never touches Node-API or anything
 * of an environment: it owns copies of its fds and its memory, and frees both itself (the addon
 * is pinned, addon.c, so its code outlives a worker's unload).
 */
#include "tee.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define PF_TEE_PIPE_SIZE (1 << 20) /* asked for, best effort: fewer rounds per megabyte */
#define PF_TEE_COPY_SIZE (64 * 1024)

const char *const pf_tee_call_names[PF_TEE_CALL_COUNT] = {
    [PF_TEE_CALL_SPLICE] = "splice",
    [PF_TEE_CALL_WRITE] = "write",
    [PF_TEE_CALL_SEND] = "send",
    [PF_TEE_CALL_TEE] = "tee",
    [PF_TEE_CALL_POLL] = "poll",
    [PF_TEE_CALL_IOCTL] = "ioctl",
    [PF_TEE_CALL_READ] = "read",
    [PF_TEE_CALL_MALLOC] = "malloc",
    [PF_TEE_CALL_FCNTL] = "fcntl",
    [PF_TEE_CALL_FSTAT] = "fstat",
    [PF_TEE_CALL_PIPE2] = "pipe2",
    [PF_TEE_CALL_EVENTFD] = "eventfd",
    [PF_TEE_CALL_PTHREAD_CREATE] = "pthread_create",
};

enum pf_tee_mode { PF_TEE_SPLICE, PF_TEE_COPY, PF_TEE_DEAD };

/* What a wait ended with. */
enum pf_tee_wait { PF_TEE_READY, PF_TEE_STOPPED, PF_TEE_END };

struct pf_tee_fault {
  int call;
  int error;
  int nth;
};

struct pf_tee {
  struct pf_tee *next; /* in pf_tee_running, under pf_tee_lock */
  double id;
  int wake;     /* eventfd that pf_tee_stop() writes */
  int stopping; /* the thread has seen the stop */
  size_t budget; /* once stopping: what the source may still give */
  int source;
  int status;
  int scratch[2];
  int n;
  int fd[PF_TEE_MAX];
  enum pf_tee_mode mode[PF_TEE_MAX];
  char socket[PF_TEE_MAX]; /* written with send(MSG_DONTWAIT) where not spliced */
  char *buffer;            /* PF_TEE_COPY_SIZE bytes, for the targets in PF_TEE_COPY */
  struct pf_tee_fault fault;
};

/* The tees whose thread runs, for pf_tee_stop(); the thread leaves it before closing its fds. */
static pthread_mutex_t pf_tee_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pf_tee *pf_tee_running;
static double pf_tee_last_id;
static struct pf_tee_fault pf_tee_next_fault; /* test hook: taken by the next start */

void pf_tee_inject_fault(int call, int error, int nth) {
  pthread_mutex_lock(&pf_tee_lock);
  pf_tee_next_fault = (struct pf_tee_fault){.call = call, .error = error, .nth = nth < 1 ? 1 : nth};
  pthread_mutex_unlock(&pf_tee_lock);
}

/* Test hook: whether this call is the one to fail (errno then set). */
static int pf_tee_faulted(struct pf_tee *t, enum pf_tee_call call) {
  if (t->fault.error == 0 || t->fault.call != (int)call || --t->fault.nth > 0) return 0;
  errno = t->fault.error;
  t->fault.error = 0;
  return 1;
}

static void pf_tee_close(int fd) {
  if (fd >= 0) (void)close(fd);
}

/* Leaves the registry, then closes everything; the status pipe last: its end of input tells the
 * run that every place has been written and that none of this thread's fds is open any more. */
static void pf_tee_free(struct pf_tee *t, int registered) {
  if (registered) {
    pthread_mutex_lock(&pf_tee_lock);
    for (struct pf_tee **p = &pf_tee_running; *p != NULL; p = &(*p)->next) {
      if (*p == t) {
        *p = t->next;
        break;
      }
    }
    pthread_mutex_unlock(&pf_tee_lock);
  }
  int status = t->status;
  pf_tee_close(t->wake);
  pf_tee_close(t->source);
  pf_tee_close(t->scratch[0]);
  pf_tee_close(t->scratch[1]);
  for (int i = 0; i < t->n; i++) pf_tee_close(t->fd[i]);
  free(t->buffer);
  free(t);
  pf_tee_close(status);
}

/* Says on the status pipe that target `index` (-1: the copying itself) failed. */
static void pf_tee_record(struct pf_tee *t, int index, int error, enum pf_tee_call call) {
  struct pf_tee_record record = {.index = index, .error = error, .call = (int32_t)call};
  /* 12 bytes, far below PIPE_BUF, at most PF_TEE_MAX + 1 of them on a pipe that is read: one
   * atomic write with room for it. If the reader has gone, nobody needs it. */
  (void)!write(t->status, &record, sizeof record);
}

/* Target i failed with `error` in `call`: it is told through the status pipe, and dropped. */
static void pf_tee_fail(struct pf_tee *t, int i, int error, enum pf_tee_call call) {
  pf_tee_record(t, i, error, call);
  t->mode[i] = PF_TEE_DEAD;
  pf_tee_close(t->fd[i]);
  t->fd[i] = -1;
}

/* The stop has come: from now on, at most what the source holds now is copied. */
static void pf_tee_begin_stop(struct pf_tee *t) {
  int held = 0;
  t->stopping = 1;
  t->budget = ioctl(t->source, FIONREAD, &held) == 0 && held > 0 ? (size_t)held : 0;
}

/* Waits until fd is ready for `events`. PF_TEE_END: the status pipe's reader is gone (or poll
 * failed, recorded); PF_TEE_STOPPED: stopping, and fd is not ready now (nothing is waited for
 * once stopping). */
static enum pf_tee_wait pf_tee_wait(struct pf_tee *t, int fd, short events) {
  for (;;) {
    struct pollfd p[3] = {
        {.fd = fd, .events = events},
        {.fd = t->status, .events = 0},
        {.fd = t->stopping ? -1 : t->wake, .events = POLLIN},
    };
    int r = pf_tee_faulted(t, PF_TEE_CALL_POLL) ? -1 : poll(p, 3, t->stopping ? 0 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      pf_tee_record(t, -1, errno, PF_TEE_CALL_POLL);
      return PF_TEE_END;
    }
    if (p[1].revents != 0) return PF_TEE_END;
    if (p[0].revents != 0) return PF_TEE_READY; /* ready, or an error that the next call reports */
    if (t->stopping) return PF_TEE_STOPPED;
    if (p[2].revents != 0) pf_tee_begin_stop(t); /* then looks once more, without waiting */
  }
}

/* Reads `count` bytes of pipe `from`, which holds them, and drops them (a target that failed
 * mid-way, or a tee that came out short): 1, or 0 to end (recorded). */
static int pf_tee_discard(struct pf_tee *t, int from, size_t count) {
  while (count > 0) {
    ssize_t r = read(from, t->buffer, count < PF_TEE_COPY_SIZE ? count : PF_TEE_COPY_SIZE);
    if (r > 0) {
      count -= (size_t)r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && errno == EAGAIN) {
      if (pf_tee_wait(t, from, POLLIN) != PF_TEE_READY) return 0;
    } else {
      pf_tee_record(t, -1, r < 0 ? errno : EIO, PF_TEE_CALL_READ); /* cannot be: it holds them */
      return 0;
    }
  }
  return 1;
}

/* Writes all of data to target i (copy mode): 1, or 0 to end. A target that fails, or is not
 * ready once stopping, is dropped (recorded). */
static int pf_tee_write_all(struct pf_tee *t, int i, const char *data, size_t size) {
  enum pf_tee_call call = t->socket[i] ? PF_TEE_CALL_SEND : PF_TEE_CALL_WRITE;
  while (size > 0 && t->mode[i] != PF_TEE_DEAD) {
    ssize_t w;
    if (pf_tee_faulted(t, call)) w = -1;
    else if (t->socket[i]) w = send(t->fd[i], data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    else w = write(t->fd[i], data, size);
    if (w > 0) {
      data += w;
      size -= (size_t)w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      enum pf_tee_wait r = pf_tee_wait(t, t->fd[i], POLLOUT);
      if (r == PF_TEE_END) return 0;
      if (r == PF_TEE_STOPPED) pf_tee_fail(t, i, EAGAIN, call);
    } else {
      pf_tee_fail(t, i, w < 0 ? errno : EIO, call);
    }
  }
  return 1;
}

/* Moves exactly `count` bytes from pipe `from` (which holds at least that many) to target i:
 * 1, or 0 to end. A target that fails has the rest of the bytes dropped for it. */
static int pf_tee_move(struct pf_tee *t, int from, int i, size_t count) {
  while (count > 0) {
    if (t->mode[i] == PF_TEE_DEAD) return pf_tee_discard(t, from, count);
    if (t->mode[i] == PF_TEE_SPLICE) {
      ssize_t r = -1;
      if (!pf_tee_faulted(t, PF_TEE_CALL_SPLICE))
        r = splice(from, NULL, t->fd[i], NULL, count, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (r > 0) {
        count -= (size_t)r;
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else if (r < 0 && errno == EAGAIN) {
        enum pf_tee_wait w = pf_tee_wait(t, t->fd[i], POLLOUT);
        if (w == PF_TEE_END) return 0;
        if (w == PF_TEE_STOPPED) pf_tee_fail(t, i, EAGAIN, PF_TEE_CALL_SPLICE);
      } else if (r < 0 && errno == EINVAL) {
        t->mode[i] = PF_TEE_COPY; /* not splice's to write: a terminal, an O_APPEND file */
      } else {
        pf_tee_fail(t, i, r < 0 ? errno : EIO, PF_TEE_CALL_SPLICE);
      }
      continue;
    }
    ssize_t r = pf_tee_faulted(t, PF_TEE_CALL_READ)
                    ? -1
                    : read(from, t->buffer, count < PF_TEE_COPY_SIZE ? count : PF_TEE_COPY_SIZE);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) {
      if (pf_tee_wait(t, from, POLLIN) != PF_TEE_READY) return 0;
      continue;
    }
    if (r <= 0) {
      pf_tee_record(t, -1, r < 0 ? errno : EIO, PF_TEE_CALL_READ); /* cannot be: it holds them */
      return 0;
    }
    count -= (size_t)r;
    if (!pf_tee_write_all(t, i, t->buffer, (size_t)r)) return 0;
  }
  return 1;
}

/* One round with several targets alive: c bytes of the source to each target before `last`
 * through the scratch pipe (step 1 and 2). c: what the first tee gave. 1, or 0 to end. */
static int pf_tee_fan_out(struct pf_tee *t, int last, size_t c) {
  int filled = 1; /* the scratch pipe holds the round's c bytes */
  for (int i = 0; i < last; i++) {
    if (t->mode[i] == PF_TEE_DEAD) continue;
    if (!filled) {
      /* The same first c bytes of the source, again: they are still at its head. */
      ssize_t again;
      do {
        again = -1;
        if (!pf_tee_faulted(t, PF_TEE_CALL_TEE))
          again = tee(t->source, t->scratch[1], c, SPLICE_F_NONBLOCK);
      } while (again < 0 && errno == EINTR);
      if (again != (ssize_t)c) {
        /* A tee that failed (ENOMEM), or came out short (cannot be: the scratch pipe is empty
         * and as large as the source, which holds the c bytes): a target cannot be given part
         * of a round, so it is dropped, said. */
        int error = again < 0 ? errno : EIO;
        if (again > 0 && !pf_tee_discard(t, t->scratch[0], (size_t)again)) return 0;
        pf_tee_fail(t, i, error, PF_TEE_CALL_TEE);
        continue;
      }
    }
    if (!pf_tee_move(t, t->scratch[0], i, c)) return 0;
    filled = 0;
  }
  return !filled || pf_tee_discard(t, t->scratch[0], c);
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
    /* Stopping, a source that holds nothing now is done with, whoever still holds it open. */
    if (pf_tee_wait(t, t->source, POLLIN) != PF_TEE_READY) break;
    size_t most = t->stopping ? t->budget : INT_MAX;
    if (most == 0) break;
    ssize_t c;
    if (alive == 1) {
      /* One target: how much the pipe holds is what goes. */
      int held = 0;
      if (pf_tee_faulted(t, PF_TEE_CALL_IOCTL) || ioctl(t->source, FIONREAD, &held) != 0) {
        pf_tee_record(t, -1, errno, PF_TEE_CALL_IOCTL);
        break;
      }
      if (held <= 0) break; /* readable with nothing held: every writer is gone */
      c = (size_t)held < most ? held : (ssize_t)most;
    } else {
      c = -1;
      if (!pf_tee_faulted(t, PF_TEE_CALL_TEE))
        c = tee(t->source, t->scratch[1], most, SPLICE_F_NONBLOCK);
      if (c == 0) break; /* end of input: every writer is gone */
      if (c < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (c < 0) {
        /* The kernel could not duplicate the round (ENOMEM): the targets before the last cannot
         * have it; each is given up, said, and the last one goes on with every byte. */
        int error = errno;
        for (int i = 0; i < last; i++)
          if (t->mode[i] != PF_TEE_DEAD) pf_tee_fail(t, i, error, PF_TEE_CALL_TEE);
        continue;
      }
      if (!pf_tee_fan_out(t, last, (size_t)c)) break;
    }
    if (!pf_tee_move(t, t->source, last, (size_t)c)) break;
    if (t->stopping) t->budget = t->budget > (size_t)c ? t->budget - (size_t)c : 0;
  }
  pf_tee_free(t, 1);
  return NULL;
}

static int pf_tee_dup(int fd) {
  return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* A terminal that would block: a file description of its own, non-blocking (the same terminal,
 * opened again); the one given where that cannot be (a terminal of another user's). */
static int pf_tee_nonblocking_tty(int fd) {
  char path[32];
  (void)snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int again = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (again < 0) return fd;
  if (again < 3) {
    int moved = pf_tee_dup(again);
    (void)close(again);
    if (moved < 0) return fd;
    again = moved;
  }
  (void)close(fd);
  return again;
}

/* Target i's copy, made non-blocking where it can be (see the top of this file): 0, or -errno
 * with *call. */
static int pf_tee_target(struct pf_tee *t, int i, int fd, enum pf_tee_call *call) {
  *call = PF_TEE_CALL_FCNTL;
  if (pf_tee_faulted(t, PF_TEE_CALL_FCNTL) || (t->fd[i] = pf_tee_dup(fd)) < 0) return -errno;
  t->mode[i] = PF_TEE_SPLICE;
  int flags = fcntl(t->fd[i], F_GETFL);
  if (flags < 0) return -errno;
  if (flags & O_NONBLOCK) return 0;
  struct stat st;
  *call = PF_TEE_CALL_FSTAT;
  if (fstat(t->fd[i], &st) != 0) return -errno;
  if (S_ISSOCK(st.st_mode)) {
    t->socket[i] = 1;
    t->mode[i] = PF_TEE_COPY;
  } else if (S_ISCHR(st.st_mode) && isatty(t->fd[i])) {
    t->fd[i] = pf_tee_nonblocking_tty(t->fd[i]);
  }
  return 0;
}

int pf_tee_start(int source, const int *targets, int n, int status, double *id,
                 enum pf_tee_call *call) {
  *call = PF_TEE_CALL_MALLOC;
  if (n < 1 || n > PF_TEE_MAX || targets == NULL) return -EINVAL;
  struct pf_tee *t = calloc(1, sizeof *t);
  if (t == NULL) return -ENOMEM;
  t->wake = t->scratch[0] = t->scratch[1] = -1;
  for (int i = 0; i < PF_TEE_MAX; i++) t->fd[i] = -1;
  t->n = n;
  pthread_mutex_lock(&pf_tee_lock);
  t->fault = pf_tee_next_fault;
  pf_tee_next_fault.error = 0;
  pthread_mutex_unlock(&pf_tee_lock);
  int err = 0;
  *call = PF_TEE_CALL_FCNTL;
  t->source = pf_tee_dup(source);
  t->status = pf_tee_dup(status);
  if (t->source < 0 || t->status < 0) err = -errno;
  for (int i = 0; i < n && err == 0; i++) err = pf_tee_target(t, i, targets[i], call);
  if (err == 0 && (pf_tee_faulted(t, PF_TEE_CALL_PIPE2) || pipe2(t->scratch, O_CLOEXEC) != 0)) {
    *call = PF_TEE_CALL_PIPE2;
    err = -errno;
  }
  if (err == 0 && (pf_tee_faulted(t, PF_TEE_CALL_EVENTFD) ||
                   (t->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)) {
    *call = PF_TEE_CALL_EVENTFD;
    err = -errno;
  }
  if (err == 0 && (t->buffer = malloc(PF_TEE_COPY_SIZE)) == NULL) {
    *call = PF_TEE_CALL_MALLOC;
    err = -ENOMEM;
  }
  if (err != 0) {
    pf_tee_free(t, 0);
    return err;
  }
  /* Bigger pipes, fewer rounds (each may fail under the per-user pipe limits: it then stays as
   * it is). The scratch pipe is never smaller than the source: a round's tee then fits whole. */
  (void)fcntl(t->source, F_SETPIPE_SZ, PF_TEE_PIPE_SIZE);
  int size = fcntl(t->source, F_GETPIPE_SZ);
  if (size > 0) (void)fcntl(t->scratch[1], F_SETPIPE_SZ, size);
  /* In the registry before the thread can end (and leave it). */
  pthread_mutex_lock(&pf_tee_lock);
  t->id = *id = ++pf_tee_last_id;
  t->next = pf_tee_running;
  pf_tee_running = t;
  pthread_mutex_unlock(&pf_tee_lock);
  sigset_t all, old;
  sigfillset(&all);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int r = pf_tee_faulted(t, PF_TEE_CALL_PTHREAD_CREATE)
              ? errno
              : pthread_create(&thread, &attr, pf_tee_main, t);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    *call = PF_TEE_CALL_PTHREAD_CREATE;
    pf_tee_free(t, 1);
    return -r;
  }
  return 0;
}

int pf_tee_stop(double id) {
  int found = 0;
  pthread_mutex_lock(&pf_tee_lock);
  for (struct pf_tee *t = pf_tee_running; t != NULL; t = t->next) {
    if (t->id == id) {
      uint64_t one = 1;
      (void)!write(t->wake, &one, sizeof one); /* non-blocking: a count that cannot overflow */
      found = 1;
      break;
    }
  }
  pthread_mutex_unlock(&pf_tee_lock);
  return found;
}
