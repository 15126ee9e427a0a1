/*
 * wait-status PROGRAM [ARGS...]: runs PROGRAM with fork and execvp, reaps it with a plain
 * waitpid(), and prints the status as the kernel reports it, as JSON on stdout:
 *   {"code":N,"signal":null,"coreDumped":false}  or  {"code":null,"signal":N,"coreDumped":B}
 * The oracle the ExitStatus tests compare the library with: whatever core_pattern and
 * RLIMIT_CORE do on this machine, WCOREDUMP says whether a core was dumped.
 *
 * Test helper only.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  pid_t pid = fork();
  if (pid < 0) return 3;
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) return 4;
  if (WIFEXITED(status)) {
    printf("{\"code\":%d,\"signal\":null,\"coreDumped\":false}\n", WEXITSTATUS(status));
  } else {
    printf("{\"code\":null,\"signal\":%d,\"coreDumped\":%s}\n", WTERMSIG(status),
           WCOREDUMP(status) ? "true" : "false");
  }
  return 0;
}
