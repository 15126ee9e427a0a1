/*
 * spawn-loop.c: a spawn/kill/wait loop over the addon's native core (spawn.c, child.c, clone.c),
 * without Node, for valgrind memcheck (npm run test:valgrind). See docs/reliability.md for why
 * this and not Node: valgrind 3.19 has no pidfd_open, pidfd_send_signal or clone3.
 *
 *   spawn-loop BACKEND N     BACKEND: clone3, clone or fork; N: iterations
 *
 * The plan's strings and arrays are on the heap, sized exactly, as the addon's are.
 * Each iteration: a sleeper with a pipe at stdout, killed through its pidfd (kill(2) when
 * pidfd_send_signal is refused) and reaped with waitid(P_PIDFD); /bin/echo writing into a pipe,
 * read to EOF; a missing program; a missing working directory. A failed spawn must come back as
 * an error (ENOENT) or, when the child's report cannot reach the parent (valgrind runs a CLONE_VM
 * child as a copy), as exit status 127. Exits 0 when every check held; prints what failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../../native/create.h"
#include "../../../native/pidfd.h"
#include "../../../native/spawn.h"

static int failures;
static int refused; /* fork backend spawns that pidfd_open refused with ENOSYS (valgrind 3.19) */

#define CHECK(cond, ...)                  \
  do {                                    \
    if (!(cond)) {                        \
      fprintf(stderr, "FAIL: " __VA_ARGS__); \
      fputc('\n', stderr);                \
      failures++;                         \
    }                                     \
  } while (0)

static char *const env_empty[] = {NULL};

/* Reaps the child behind pidfd; returns its wait status (as waitpid would give it). */
static int reap(int pidfd) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = pf_waitid_pidfd(pidfd, &si, WEXITED | PF_WALL, NULL);
  close(pidfd);
  if (r < 0) return -1;
  return si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : si.si_status & 0x7f;
}

/* A NULL-terminated copy of `list` on the heap, strings included, sized exactly: memcheck then
 * catches any read past an end, in the parent or in the child's copy (as js_api.c's buffers). */
static char **heap_strings(char *const *list) {
  size_t n = 0;
  while (list[n] != NULL) n++;
  char **copy = malloc((n + 1) * sizeof *copy);
  for (size_t i = 0; i < n; i++) copy[i] = strdup(list[i]);
  copy[n] = NULL;
  return copy;
}

static void free_strings(char **list) {
  for (size_t i = 0; list[i] != NULL; i++) free(list[i]);
  free(list);
}

/* Spawns argv[0] with stdout on a pipe; returns 0 or -errno, with *pidfd, *pid and *out set.
 * A pidfd_open refused with ENOSYS (valgrind 3.19 has no such syscall) is counted in `refused`
 * and returned as 1: the fork backend then killed and reaped the child on its cleanup path. */
static int spawn_piped(struct pf_stack *stack, int backend, char *const *paths, char *const *argv,
                       const char *cwd, int *pidfd, pid_t *pid, int *out) {
  struct pf_child_plan plan;
  struct pf_spawn_result res;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return -errno;
  struct pf_fd_action *fds = malloc(3 * sizeof *fds);
  fds[0] = (struct pf_fd_action){0, PF_SRC_DEVNULL};
  fds[1] = (struct pf_fd_action){1, pipefd[1]};
  fds[2] = (struct pf_fd_action){2, PF_SRC_DEVNULL};
  memset(&plan, 0, sizeof plan);
  char **heap_paths = heap_strings(paths), **heap_argv = heap_strings(argv);
  char **heap_env = heap_strings(env_empty);
  char *heap_cwd = cwd == NULL ? NULL : strdup(cwd);
  plan.paths = heap_paths;
  plan.argv = heap_argv;
  plan.envp = heap_env;
  plan.cwd = heap_cwd;
  plan.fds = fds;
  plan.nfds = 3;
  plan.max_target = 2;
  plan.pgid = -1;
  plan.use_close_range = 1;
  int r = pf_spawn(stack, backend, &plan, -1, &res);
  close(pipefd[1]);
  free_strings(heap_paths);
  free_strings(heap_argv);
  free_strings(heap_env);
  free(heap_cwd);
  free(fds);
  if (r < 0) {
    close(pipefd[0]);
    if (res.fail.err == ENOSYS && strcmp(res.fail.syscall, "pidfd_open") == 0) {
      refused++;
      return 1;
    }
    return -res.fail.err;
  }
  *pidfd = res.pidfd;
  *pid = res.pid;
  *out = pipefd[0];
  return 0;
}

static void sleeper_killed(struct pf_stack *stack, int backend) {
  char *const paths[] = {"/bin/sleep", NULL};
  char *const argv[] = {"sleep", "30", NULL};
  int pidfd, out;
  pid_t pid;
  int r = spawn_piped(stack, backend, paths, argv, NULL, &pidfd, &pid, &out);
  CHECK(r >= 0, "sleeper: spawn failed: %s", strerror(-r));
  if (r != 0) return;
  if (pf_pidfd_send_signal(pidfd, SIGKILL, 0) == -ENOSYS) kill(pid, SIGKILL);
  int status = reap(pidfd);
  CHECK(status == SIGKILL, "sleeper: status %#x, wanted SIGKILL", status);
  close(out);
}

static void echo_read(struct pf_stack *stack, int backend) {
  char *const paths[] = {"/usr/bin/nope", "/bin/echo", NULL};
  char *const argv[] = {"echo", "hello", NULL};
  char buf[64];
  int pidfd, out;
  pid_t pid;
  int r = spawn_piped(stack, backend, paths, argv, NULL, &pidfd, &pid, &out);
  CHECK(r >= 0, "echo: spawn failed: %s", strerror(-r));
  if (r != 0) return;
  size_t got = 0;
  ssize_t n;
  while ((n = read(out, buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)n;
  buf[got] = '\0';
  close(out);
  CHECK(strcmp(buf, "hello\n") == 0, "echo: read \"%s\"", buf);
  int status = reap(pidfd);
  CHECK(status == 0, "echo: status %#x", status);
}

/* A spawn that must fail with ENOENT, or exit 127 when the report cannot reach the parent. */
static void must_fail(struct pf_stack *stack, int backend, const char *what, const char *program,
                      const char *cwd) {
  char *const paths[] = {(char *)program, NULL};
  char *const argv[] = {(char *)program, NULL};
  int pidfd, out;
  pid_t pid;
  int r = spawn_piped(stack, backend, paths, argv, cwd, &pidfd, &pid, &out);
  if (r == 0) {
    close(out);
    int status = reap(pidfd);
    CHECK(status == 127 << 8, "%s: spawned, status %#x, wanted exit 127", what, status);
  } else if (r < 0) {
    CHECK(r == -ENOENT, "%s: %s, wanted ENOENT", what, strerror(-r));
  }
}

/* The number of open fds, and whether this process has any child left (running or zombie). */
static int count_fds(void) {
  int n = 0;
  for (int fd = 0; fd < 1024; fd++) n += fcntl(fd, F_GETFD) >= 0;
  return n;
}

static int has_children(void) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  return !(waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | PF_WALL) < 0 &&
           errno == ECHILD);
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "clone";
  int n = argc > 2 ? atoi(argv[2]) : 100;
  int backend = strcmp(name, "clone3") == 0  ? PF_BACKEND_CLONE3
                : strcmp(name, "clone") == 0 ? PF_BACKEND_CLONE
                : strcmp(name, "fork") == 0  ? PF_BACKEND_FORK
                                             : PF_BACKEND_NONE;
  if (backend == PF_BACKEND_NONE || n <= 0) {
    fprintf(stderr, "usage: spawn-loop clone3|clone|fork ITERATIONS\n");
    return 2;
  }
  struct pf_stack stack = {NULL, 0};
  int fds_before = count_fds();
  for (int i = 0; i < n && failures == 0; i++) {
    sleeper_killed(&stack, backend);
    echo_read(&stack, backend);
    must_fail(&stack, backend, "missing program", "/nonexistent/program", NULL);
    must_fail(&stack, backend, "missing cwd", "/bin/true", "/nonexistent/dir");
    CHECK(!has_children(), "iteration %d left a child behind", i);
    CHECK(count_fds() == fds_before, "iteration %d: %d fds open, %d before", i, count_fds(),
          fds_before);
  }
  pf_stack_release(&stack);
  printf("spawn-loop %s: %d iterations, %d spawns, %d refused (pidfd_open ENOSYS), %d failures\n",
         name, n, 4 * n, refused, failures);
  return failures == 0 ? 0 : 1;
}
