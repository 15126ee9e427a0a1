/*
 * fdops.c: the small system calls on descriptors and memory that the binding offers as they are
 * (see fdops.h).
 */
#include "fdops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int pf_fd_socketpair(int sv[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -errno;
  for (int i = 0; i < 2; i++) {
    if (sv[i] >= 3) continue;
    int moved = fcntl(sv[i], F_DUPFD_CLOEXEC, 3);
    int err = errno;
    close(sv[i]);
    sv[i] = moved;
    if (moved < 0) {
      if (sv[1 - i] >= 0) close(sv[1 - i]);
      return -err;
    }
  }
  return 0;
}

int pf_fd_pipe(int fds[2]) {
  return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno;
}

int pf_fd_close(int fd) {
  return close(fd) == 0 || errno == EINTR ? 0 : -errno;
}

int pf_fd_dup(int fd) {
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  return r < 0 ? -errno : r;
}

int pf_fd_inode(int fd, uint64_t *ino) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  *ino = (uint64_t)st.st_ino;
  return 0;
}

int pf_fd_open_directory(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int pf_fd_access(const char *path, int mode) {
  return access(path, mode) == 0 ? 0 : -errno;
}

int pf_fd_readable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int r;
  do r = poll(&p, 1, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  if (p.revents & POLLNVAL) return -EBADF;
  return (p.revents & (POLLIN | POLLHUP)) != 0;
}

int pf_fd_set_pipe_size(int fd, int bytes) {
  int now = fcntl(fd, F_GETPIPE_SZ);
  if (now < 0) return -errno;
  if (now >= bytes) return 0; /* as large already (a child may have grown it): never shrunk */
  int r = fcntl(fd, F_SETPIPE_SZ, bytes);
  return r < 0 ? -errno : r;
}

int pf_mem_advise_huge_pages(void *data, size_t reserved) {
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = ((uintptr_t)data + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)data + (uintptr_t)reserved) & ~(page - 1);
  if (end <= start) return 0;
  return madvise((void *)start, end - start, MADV_HUGEPAGE) == 0 ? 0 : -errno;
}

ssize_t pf_fd_send_with_fd(int sock, const void *data, size_t len, int fd) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}
