/*
 * capture.c: the C reference for capturing a command's stdout, driven like limit.c: one command
 * per line on stdin, one JSON line back on stdout.
 *
 *   cap <argv...>   posix_spawn argv with stdout on a pipe (stdin, stderr on /dev/null), read the
 *                   pipe into one growing buffer (realloc, doubling: what a capture must do without
 *                   knowing the size), wait for the exit
 *                   -> {"ns":<wall time of the whole>,"bytes":<bytes read>,"cpu_ns":<this
 *                   process's CPU time for it>}
 *
 * The buffer is freed after each command; the pipe is the kernel's default (64 KiB), as for
 * every contender.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int capture(char **argv) {
  uint64_t t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return -errno;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  if (r != 0) {
    close(p[0]);
    return -r;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len == cap) {
      cap *= 2;
      char *grown = realloc(buf, cap);
      if (grown == NULL) {
        free(buf);
        return -ENOMEM;
      }
      buf = grown;
    }
    ssize_t n = read(p[0], buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(p[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  /* Touch the result, as a consumer would, so that nothing is optimised away. */
  volatile char sink = len > 0 ? buf[len - 1] : 0;
  (void)sink;
  free(buf);
  printf("{\"ns\":%llu,\"bytes\":%zu,\"cpu_ns\":%llu}\n", (unsigned long long)(now_ns(CLOCK_MONOTONIC) - t0), len,
         (unsigned long long)(now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0));
  fflush(stdout);
  return 0;
}

int main(void) {
  printf("{\"ready\":true}\n");
  fflush(stdout);
  char line[4096];
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, "quit") == 0) break;
    char *argv[64];
    int argc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok != NULL && argc < 63; tok = strtok_r(NULL, " ", &save)) argv[argc++] = tok;
    argv[argc] = NULL;
    if (argc < 2 || strcmp(argv[0], "cap") != 0) {
      printf("{\"error\":\"unknown command\"}\n");
      fflush(stdout);
      continue;
    }
    int r = capture(argv + 1);
    if (r < 0) {
      printf("{\"error\":\"%s\"}\n", strerror(-r));
      fflush(stdout);
    }
  }
  return 0;
}
