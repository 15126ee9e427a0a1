/*
 * seccomp-launcher: run a command with some system calls failing with a chosen errno, the way a
 * container's seccomp profile makes them fail (Docker's default profile answers ENOSYS for
 * clone3). The filter is inherited by every thread and across execve, and needs no privileges.
 *
 *   seccomp-launcher clone3=38 [close_range=38 ...] [clone:pidfd=38] -- node --test ...
 *
 * `clone:pidfd=ERRNO` fails only the clone calls whose flags hold CLONE_PIDFD (a Linux without
 * pidfds, where fork and the clone of posix_spawn still work); with clone3=38 and
 * pidfd_open=38 it leaves the library no pidfd backend (the seccomp-nopidfd pass).
 *
 * Test helper only; see docs/reliability.md (the seccomp-enosys pass).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp-launcher: add this architecture's AUDIT_ARCH"
#endif

static const struct {
  const char *name;
  int nr;
} known[] = {
    {"clone3", 435},      {"close_range", 436}, {"pidfd_open", 434},
    {"pidfd_getfd", 438}, {"clone", SYS_clone}, {"pidfd_send_signal", 424},
};

int main(int argc, char **argv) {
  struct sock_filter prog[64];
  int n = 0, i = 1;
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    char *eq = strchr(argv[i], '=');
    int nr = -1;
    if (eq == NULL || n > 54) goto usage;
    *eq = '\0';
    if (strcmp(argv[i], "clone:pidfd") == 0) {
      /* clone's flags are its first argument (the low 32 bits hold CLONE_PIDFD); the syscall
       * number is loaded again after, for the rules that follow. */
      int err = atoi(eq + 1);
      prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)SYS_clone, 0, 4);
      prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
      prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_PIDFD, 0, 1);
      prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA));
      prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
      continue;
    }
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
      if (strcmp(known[k].name, argv[i]) == 0) nr = known[k].nr;
    if (nr < 0) {
      fprintf(stderr, "seccomp-launcher: unknown system call %s\n", argv[i]);
      return 2;
    }
    int err = atoi(eq + 1);
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA));
  }
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  if (i >= argc - 1) goto usage;

  struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
    perror("seccomp-launcher: prctl");
    return 2;
  }
  execvp(argv[i + 1], argv + i + 1);
  perror("seccomp-launcher: execvp");
  return 127;

usage:
  fprintf(stderr, "usage: seccomp-launcher SYSCALL=ERRNO... -- COMMAND [ARG...]\n");
  return 2;
}
