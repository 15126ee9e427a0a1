/*
 * sync.h: the blocking half of a synchronous spawn (child_process.spawnSync and its family). The
 * child has been started by pf_start without the exit watcher; this loop feeds its input, reads
 * its output, enforces the time and output limits, and reaps it through its pidfd, on the calling
 * thread, with poll(2): no event loop, no fork, no SIGCHLD.
 */
#ifndef PIDFD_SYNC_H
#define PIDFD_SYNC_H

#include <stddef.h>

#include "exit.h"

/* One of the parent's ends of the child's pipes. */
struct pf_sync_pipe {
  int fd;    /* the parent's end; owned by the loop, closed by it, -1 once closed */
  int input; /* 1: the loop writes `data` and then ends the fd (pf_sync_end_input); 0: it reads into `buf` */
  int ended; /* an input socket shut for writing: still open (the child may write to it), no longer polled */
  const unsigned char *data;
  size_t len, done;
  unsigned char *buf; /* malloc'd output, buf_len bytes of it used; the caller frees it */
  size_t buf_len, buf_cap;
};

struct pf_sync_limits {
  long timeout_ms;   /* <= 0: none */
  double max_buffer; /* output bytes over all pipes before the child is killed; <= 0: none */
  int kill_signal;
};

struct pf_sync_result {
  /* 0, or -errno: ETIMEDOUT, ENOBUFS, ENOMEM, or the failure to signal the child */
  int error;
  /* 0, or -errno of the first failed write or read (EPIPE: the child closed its input early) */
  int pipe_error;
  double rec[PF_EXIT_FIELDS]; /* the child's exit record */
};

/*
 * Runs the child behind `pidfd` to its end: until it has exited and every output pipe has reached
 * end of file, or, once a limit was hit (the child then gets `kill_signal` and every pipe is
 * closed), until it has exited. Reaps the child and closes every pipe; the pidfd stays open.
 * Returns 0, or -errno when the pidfd itself could not be waited on (the record is then not set).
 */
int pf_sync_run(int pidfd, struct pf_sync_pipe *pipes, int npipes, const struct pf_sync_limits *limits,
                struct pf_sync_result *out);

#endif
