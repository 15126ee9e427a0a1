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
  double newlines; /* with max_lines: the newlines kept so far */
  int odd;         /* line_unit 2: the bytes so far are odd in number; odd_byte is the last */
  unsigned char odd_byte;
};

/* What a limit's kill reaches: the child alone (spawnSync), its process group, or its cgroup. */
enum pf_sync_tree { PF_SYNC_CHILD = 0, PF_SYNC_GROUP = 1, PF_SYNC_CGROUP = 2 };

struct pf_sync_limits {
  long timeout_ms;   /* <= 0: none */
  double max_buffer; /* output bytes over all pipes before the kill, <= 0: none; with per_pipe, of each, < 0: none */
  int kill_signal;
  /* The rest is run()'s (runSync); spawnSync leaves it zero. */
  int tree;            /* enum pf_sync_tree */
  int pid;             /* the child's pid (PF_SYNC_GROUP: its group's id) */
  int cgroup_fd;       /* PF_SYNC_CGROUP: the cgroup's directory (O_PATH is enough), the caller's */
  int continue_stopped; /* after kill_signal, stopped members get SIGCONT (treeSignalRule) */
  long force_kill_ms;  /* after the kill, SIGKILL to the tree if it has not ended by then; < 0: never */
  int per_pipe;        /* max_buffer (and max_lines) count each output pipe alone; what is kept stops there */
  double max_lines;    /* per_pipe: >= 0: the most lines of each output pipe (line_unit 2: utf16le newlines); < 0: none */
  int line_unit;
  int record_runs;     /* keep the order of the reads (out->runs), for `all` */
};

struct pf_sync_result {
  /* 0, or -errno: ETIMEDOUT, ENOBUFS, ENOMEM, or the failure to signal the child */
  int error;
  /* 0, or -errno of the first failed write or read (EPIPE: the child closed its input early) */
  int pipe_error;
  double rec[PF_EXIT_FIELDS]; /* the child's exit record */
  int exceeded_pipe;  /* with per_pipe: the pipe that went beyond the limit, else -1 */
  int exceeded_lines; /* ... in lines (1) or in bytes (0) */
  int killed;         /* a limit killed the tree */
  int exited_before;  /* the child had exited when it was killed */
  int forced;         /* force_kill_ms passed with the tree still there: it got SIGKILL */
  int *runs;          /* record_runs: (pipe, bytes) pairs in the order read, malloc'd, the caller frees */
  int nruns, runs_cap;
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
