/*
 * tee.h: one child output to several places at once, in the kernel (tee.c). Plain C, no
 * Node-API: the entry points in js_fds.c unwrap their arguments and call pf_tee_start() and
 * pf_tee_stop().
 */
#ifndef PIDFD_TEE_H
#define PIDFD_TEE_H

#include <stdint.h>

/* The most targets of one tee. */
#define PF_TEE_MAX 16

/* The system call (or allocation) that failed, in a record or a failed start. Their names, in
 * this order, are pf_tee_call_names (the binding's constants.teeCall). */
enum pf_tee_call {
  PF_TEE_CALL_SPLICE,
  PF_TEE_CALL_WRITE,
  PF_TEE_CALL_SEND,
  PF_TEE_CALL_TEE,
  PF_TEE_CALL_POLL,
  PF_TEE_CALL_IOCTL,
  PF_TEE_CALL_READ,
  PF_TEE_CALL_MALLOC,
  PF_TEE_CALL_FCNTL,
  PF_TEE_CALL_FSTAT,
  PF_TEE_CALL_PIPE2,
  PF_TEE_CALL_EVENTFD,
  PF_TEE_CALL_PTHREAD_CREATE,
  PF_TEE_CALL_COUNT
};

extern const char *const pf_tee_call_names[PF_TEE_CALL_COUNT];

/* A record written to the status pipe: target `index` failed with `error` in `call`, or, with
 * index -1, the copying itself did (it then ended). error EAGAIN: the target was not ready to
 * take the rest when pf_tee_stop() came, and was given up. One record per target at most, and
 * one with index -1. */
struct pf_tee_record {
  int32_t index;
  int32_t error;
  int32_t call;
};

/*
 * Starts a thread that copies everything read from `source` (the read end of the child's pipe)
 * to each of `targets[0..n)` (pipes, files, terminals, sockets: any writable fd), in order, until
 * end of input. Every fd is duplicated here: the caller keeps, and closes, its own. The thread
 * ends, closing its copies, at end of input, when every target has failed, when the read end of
 * `status` is closed (whoever waits for the tee has given up on it), or soon after pf_tee_stop().
 * Returns 0 with the tee's id in *id (for pf_tee_stop()), or -errno with the call that failed in
 * *call, nothing started and nothing left open.
 */
int pf_tee_start(int source, const int *targets, int n, int status, double *id,
                 enum pf_tee_call *call);

/*
 * Asks tee `id` to stop waiting (its run was killed, timed out or canceled, and its tree is
 * gone): from then on, what is already in the source is copied to each target that takes it
 * without waiting, a target that would make it wait is given up (a record with EAGAIN), and the
 * thread ends once the source holds nothing more. Returns 1, or 0 if that tee has ended.
 */
int pf_tee_stop(double id);

/* Test hook: the next tee started fails its `nth` call of kind `call` with `error` (instead of
 * making it). error 0 clears it. */
void pf_tee_inject_fault(int call, int error, int nth);

#endif
