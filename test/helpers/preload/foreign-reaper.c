/*
 * foreign-reaper.so: an LD_PRELOAD library that starts, in the process it is loaded into, a
 * thread that reaps every child it can see: waitpid(-1, 0) in a loop, the way a native addon or
 * another library with its own wait loop would. (Not __WALL: like such a loop it sees children
 * whose exit signal is SIGCHLD, which is every child of the library once it has exec'd; the
 * library's probe children, which exit before execve with exit signal 0, stay the library's.) Each child it takes is appended to the file
 * named by $FOREIGN_REAPER_LOG as "pid status\n" (a raw wait status). With no child to wait for
 * (ECHILD) it naps a millisecond and tries again.
 *
 * Test helper only (test/kernels/features.test.js: CLONE_AUTOREAP's children are never taken).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *reap_forever(void *arg) {
  int log = (int)(long)arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid > 0) {
      char line[64];
      int n = snprintf(line, sizeof line, "%d %d\n", pid, status);
      if (log >= 0 && write(log, line, (size_t)n) < 0) {
      }
    } else if (errno == ECHILD) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
  return NULL;
}

__attribute__((constructor)) static void start_reaper(void) {
  const char *path = getenv("FOREIGN_REAPER_LOG");
  int log = path != NULL ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_create(&t, &attr, reap_forever, (void *)(long)log);
  pthread_attr_destroy(&attr);
}
