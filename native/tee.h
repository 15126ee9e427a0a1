/*
 * tee.h: one child output to several places at once, in the kernel (tee.c). Plain C, no
 * Node-API: the entry point in js_fds.c unwraps its arguments and calls pf_tee_start().
 */
#ifndef PIDFD_TEE_H
#define PIDFD_TEE_H

/* The most targets of one tee. */
#define PF_TEE_MAX 16

/* A failure record written to the status pipe: which target (its index in `targets`) failed
 * with which errno. The thread writes one per target that fails, then closes the pipe. */
struct pf_tee_record {
  int index;
  int error;
};

/*
 * Starts a thread that copies everything read from `source` (the read end of the child's pipe)
 * to each of `targets[0..n)` (pipes, files, terminals, sockets: any writable fd), in order, until
 * end of input. Every fd is duplicated here: the caller keeps, and closes, its own. The thread
 * ends, closing its copies, at end of input, when every target has failed, or when the read end
 * of `status` is closed (whoever waits for the tee has given up on it). Returns 0, or -errno
 * with nothing started and nothing left open.
 */
int pf_tee_start(int source, const int *targets, int n, int status);

#endif
