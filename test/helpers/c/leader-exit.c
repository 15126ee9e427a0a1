/*
 * leader-exit: the thread-group leader leaves early (SYS_exit, not exit_group) while two other
 * threads run on; the process ends only when the last of them exits (case A6, after the
 * kernel's pidfd_test.c test_pidfd_poll_leader_exit).
 *
 * Protocol: prints "ready" on stdout once both threads run, then the leader exits with status 7.
 * Each byte read from stdin lets one thread exit: the first with SYS_exit(10), the second with
 * SYS_exit(11), each printing "leaving <status>" just before. The kernel reports the status of the
 * thread that exited last, 11: an exit reported earlier could not have had it.
 *
 * Test helper only.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_barrier_t started;
static int leaving = 10;

static void say(const char *line) {
  if (write(1, line, strlen(line)) < 0) syscall(SYS_exit_group, 2);
}

static void *thread_main(void *arg) {
  char byte;
  (void)arg;
  pthread_barrier_wait(&started);
  while (read(0, &byte, 1) < 0) {
  }
  int status = __atomic_fetch_add(&leaving, 1, __ATOMIC_SEQ_CST);
  char line[32];
  snprintf(line, sizeof line, "leaving %d\n", status);
  say(line);
  /* Not pthread_exit: glibc's last thread would call exit(0), a group exit with status 0. */
  for (;;) syscall(SYS_exit, status);
  return NULL;
}

int main(void) {
  pthread_t t[2];
  pthread_barrier_init(&started, NULL, 3);
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, thread_main, NULL) != 0) return 2;
  pthread_barrier_wait(&started);
  say("ready\n");
  for (;;) syscall(SYS_exit, 7);
  return 0;
}
