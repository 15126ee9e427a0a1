/*
 * fdops.h: the small system calls on descriptors and memory that the binding offers as they are
 * (fdops.c). Plain C: each returns what it says or -errno, and knows nothing of Node-API; the
 * entry points in js_fds.c unwrap their arguments, call these, and wrap the result.
 *
 * They are made here rather than through node:fs because Deno's node:fs refuses an fd that it
 * did not open itself (EBADF), and the library's fds are the addon's.
 */
#ifndef PIDFD_FDOPS_H
#define PIDFD_FDOPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Two connected AF_UNIX stream sockets, close-on-exec, both at fd 3 or above (with this
 * process's own stdio closed, 0-2 are kept for it): 0 or -errno (nothing left open). */
int pf_fd_socketpair(int sv[2]);

/* A new pipe, both ends close-on-exec and blocking, [read, write]: 0 or -errno. */
int pf_fd_pipe(int fds[2]);

/* close(): 0 or -errno. EINTR counts as closed: on Linux the fd is gone either way, and a retry
 * could close another thread's new fd. */
int pf_fd_close(int fd);

/* A close-on-exec copy of fd at 3 or above, or -errno. */
int pf_fd_dup(int fd);

/* fstat's st_ino (a pidfs inode is a process's stable identity): 0 or -errno. */
int pf_fd_inode(int fd, uint64_t *ino);

/* A close-on-exec, read-only fd on the directory, or -errno. */
int pf_fd_open_directory(const char *path);

/* access(path, mode) as the kernel decides it: 0 or -errno. */
int pf_fd_access(const char *path, int mode);

/* Whether fd is readable now (for a pidfd: its process has exited): 1, 0, or -errno (EBADF for
 * an fd that is not open). */
int pf_fd_readable(int fd);

/* madvise(MADV_HUGEPAGE) on the whole pages within [data, data + reserved): advice only, 0 or
 * -errno (0 when no whole page is inside). */
/* fcntl(F_SETPIPE_SZ) where the pipe holds less than `bytes`: its new capacity (the kernel rounds
 * up to a power of two of pages), 0 if it held as much already (it is never shrunk), or -errno
 * (EPERM past /proc/sys/fs/pipe-max-size or the user's pipe pages). */
int pf_fd_set_pipe_size(int fd, int bytes);
int pf_mem_advise_huge_pages(void *data, size_t reserved);

/* One sendmsg of `len` bytes carrying a copy of `fd` (SCM_RIGHTS; none for fd -1), with
 * MSG_NOSIGNAL (a peer that has gone is EPIPE, not SIGPIPE), retried on EINTR: the number of
 * bytes sent, or -errno. */
ssize_t pf_fd_send_with_fd(int sock, const void *data, size_t len, int fd);

#endif
