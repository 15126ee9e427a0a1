/*
 * exec-from-thread: a thread that is not the leader calls execve(argv[1], argv + 1). The kernel
 * then ends every other thread, the leader included, and the exec'ing thread takes over the
 * process's pid: the process has not exited (case A7, after the kernel's pidfd_test.c
 * test_pidfd_poll_exec).
 *
 *   exec-from-thread /bin/sh -c 'echo exec-done; read line; exit 4'
 *
 * Test helper only.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

extern char **environ;

static void *thread_main(void *arg) {
  char **argv = arg;
  execve(argv[0], argv, environ);
  perror("exec-from-thread: execve");
  _exit(127);
}

int main(int argc, char **argv) {
  pthread_t t;
  if (argc < 2) {
    fprintf(stderr, "usage: exec-from-thread PROGRAM [ARG...]\n");
    return 2;
  }
  if (pthread_create(&t, NULL, thread_main, argv + 1) != 0) return 2;
  for (;;) pause(); /* the leader waits; execve in the thread ends it */
}
