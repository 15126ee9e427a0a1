/*
 * core-spawn: the addon's C core (native/spawn.c, child.c, clone.c, probe.c) linked into a plain
 * program, for what cannot be tested from Node (case I2, I4). Prints one JSON object.
 *
 *   core-spawn spawn    probe, then spawn `/bin/sh -c 'exit 3'` and a missing program with the
 *                       chosen backend. Run it under `seccomp-launcher clone3=1` (EPERM, which
 *                       makes Node itself abort at startup) to see the policy: clone is chosen.
 *   core-spawn signals N   N spawns of /bin/true while a thread sends SIGUSR1 to our process
 *                       group without pause (as a terminal's Ctrl-C reaches a whole group), and a
 *                       handler is installed. Each child leaves the group (setpgid) during its
 *                       setup. The handler notes when it runs in another process than this one:
 *                       with CLONE_VM that write lands in our memory, so a handler that ran in a
 *                       child before its dispositions were reset would be seen (case E5).
 *   core-spawn sigpipe N   runs the fork backend's probe N times with SIGPIPE blocked, and counts
 *                       the SIGPIPEs it raised: the probe child exits without waiting for the
 *                       parent's go-ahead byte, which may then be written to a closed socket.
 *   core-spawn demote   probe with clone3 working, then install a clone3→EPERM filter in this
 *                       process (a filter that arrives after the probe), and make the two calls
 *                       pf_spawn with clone3 (fails: EPERM, nothing left), then pf_start with
 *                       the current backend and a stdio pipe: it demotes to clone (for good)
 *                       and retries on its own.
 *
 * With LD_PRELOAD=bin/clone-novm.so (a clone() that ignores CLONE_VM), `spawn` shows what the
 * probe does when the kernel, or an emulator, does not really share memory.
 *
 * Each mode also compares /proc/self/fd before and after, and asks waitid(P_ALL, __WALL) whether
 * any child is left. Test helper only; built by test/helpers/build.js with the native sources.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "create.h"
#include "pidfd.h"
#include "probe.h"
#include "spawn.h"

/* ---- fds and children ---- */

#define MAX_FDS 256

struct fd_snapshot {
  int n;
  int fd[MAX_FDS];
  char target[MAX_FDS][128];
};

static void snapshot(struct fd_snapshot *s) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int self = dirfd(d);
  s->n = 0;
  while ((e = readdir(d)) != NULL && s->n < MAX_FDS) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == self) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(path, s->target[s->n], sizeof s->target[0] - 1);
    s->target[s->n][len < 0 ? 0 : len] = '\0';
    s->fd[s->n++] = fd;
  }
  closedir(d);
}

/* Prints the differences as a JSON string (empty when none). */
static void print_fd_diff(const struct fd_snapshot *a, const struct fd_snapshot *b) {
  printf("\"");
  for (int i = 0; i < b->n; i++) {
    int found = 0;
    for (int j = 0; j < a->n; j++)
      if (a->fd[j] == b->fd[i] && strcmp(a->target[j], b->target[i]) == 0) found = 1;
    if (!found) printf("new fd %d: %s; ", b->fd[i], b->target[i]);
  }
  for (int j = 0; j < a->n; j++) {
    int found = 0;
    for (int i = 0; i < b->n; i++)
      if (a->fd[j] == b->fd[i]) found = 1;
    if (!found) printf("closed fd %d: %s; ", a->fd[j], a->target[j]);
  }
  printf("\"");
}

static int has_children(void) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  return !(waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT | PF_WALL) <
               0 &&
           errno == ECHILD);
}

/* ---- reports ---- */

static const char *backend_name(int b) {
  return b >= 0 && b < PF_BACKEND_COUNT ? pf_backend_names[b] : "?";
}

static void print_feature(const char *name, const struct pf_feature *f) {
  printf("\"%s\":{\"ok\":%d,\"errno\":%d,\"probed\":%d},", name, f->ok, f->err, f->probed);
}

static void print_support(void) {
  const struct pf_support *s = pf_support_get();
  printf("\"support\":{");
  print_feature("clone3", &s->clone3);
  print_feature("clone3Spawn", &s->clone3_spawn);
  print_feature("cloneSpawn", &s->clone_spawn);
  print_feature("forkSpawn", &s->fork_spawn);
  print_feature("vmShared", &s->vm_shared);
  printf("\"backend\":\"%s\"},", backend_name(s->backend));
}

/* A plan that runs paths[0] with argv and envp, fds 0-2 inherited in place, pgid as given. */
static void plain_plan(struct pf_child_plan *plan, char **paths, char **argv, char **envp,
                       struct pf_fd_action fds[3], int pgid) {
  for (int fd = 0; fd < 3; fd++) fds[fd].target = fds[fd].source = fd;
  memset(plan, 0, sizeof *plan);
  plan->paths = paths;
  plan->argv = argv;
  plan->envp = envp;
  plan->fds = fds;
  plan->nfds = 3;
  plan->max_target = 2;
  plan->pgid = pgid;
  plan->use_close_range = pf_support_get()->close_range.ok;
}

/* One spawn of `path` (/bin/sh -c 'exit 3'); reaped here. Prints {"ok":..,"status":..} or the
 * failure. */
static void print_spawn(struct pf_stack *stack, int backend, char *path) {
  char *paths[] = {path, NULL};
  char *argv[] = {"sh", "-c", "exit 3", NULL};
  char *envp[] = {NULL};
  struct pf_fd_action fds[3];
  struct pf_child_plan plan;
  struct pf_spawn_result out;
  plain_plan(&plan, paths, argv, envp, fds, -1);
  int r = pf_spawn(stack, backend, &plan, -1, &out);
  printf("{\"backend\":\"%s\",", backend_name(backend));
  if (r < 0) {
    printf("\"ok\":0,\"errno\":%d,\"syscall\":\"%s\",\"step\":\"%s\",\"pidfd\":%d}",
           out.fail.err, out.fail.syscall, out.fail.step, out.pidfd);
    return;
  }
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int w = pf_waitid_pidfd(out.pidfd, &si, WEXITED | PF_WALL, NULL);
  close(out.pidfd);
  printf("\"ok\":1,\"reaped\":%d,\"samePid\":%d,\"exited\":%d,\"status\":%d}", w == 0,
         si.si_pid == out.pid, si.si_code == CLD_EXITED, si.si_status);
}

/* One pf_start of /bin/sh -c 'echo started' with stdout on a pipe and the default backend;
 * reads the pipe and reaps. Prints {"ok":..,"out":..,"status":..} or the failure. */
static int print_start(struct pf_stack *stack) {
  char *paths[] = {"/bin/sh", NULL};
  char *argv[] = {"sh", "-c", "echo started", NULL};
  char *envp[] = {NULL};
  struct pf_stdio stdio[] = {{0, PF_STDIO_DEVNULL, -1}, {1, PF_STDIO_PIPE_OUT, -1}, {2, PF_STDIO_FD, 2}};
  int parent_fds[3];
  struct pf_start_request req;
  struct pf_spawn_result out;
  memset(&req, 0, sizeof req);
  req.plan.paths = paths;
  req.plan.argv = argv;
  req.plan.envp = envp;
  req.plan.pgid = -1;
  req.stdio = stdio;
  req.nstdio = 3;
  req.cgroup_fd = -1;
  if (pf_start(stack, &req, parent_fds, &out) < 0) {
    printf("{\"ok\":0,\"errno\":%d,\"syscall\":\"%s\",\"step\":\"%s\"}", out.fail.err,
           out.fail.syscall, out.fail.step);
    return -1;
  }
  char buf[64];
  ssize_t n = read(parent_fds[1], buf, sizeof buf - 1);
  buf[n < 0 ? 0 : n] = '\0';
  if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = '\0';
  close(parent_fds[1]);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  pf_waitid_pidfd(out.pidfd, &si, WEXITED | PF_WALL, NULL);
  close(out.pidfd);
  printf("{\"ok\":1,\"backend\":\"%s\",\"out\":\"%s\",\"status\":%d}",
         backend_name(pf_backend_current()), buf, si.si_status);
  return 0;
}

/* ---- signals during spawns ---- */

static pid_t self_pid;
static volatile int foreign_runs; /* the handler ran in another process (a child sharing memory) */
static volatile int own_runs;
static volatile int stop_storm;
static long sent;

static void on_signal(int sig) {
  (void)sig;
  if (pf_syscall0(SYS_getpid) != self_pid) __atomic_add_fetch(&foreign_runs, 1, __ATOMIC_SEQ_CST);
  else __atomic_add_fetch(&own_runs, 1, __ATOMIC_SEQ_CST);
}

static void *storm(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&stop_storm, __ATOMIC_SEQ_CST)) {
    kill(0, SIGUSR1);
    sent++;
  }
  return NULL;
}

static void print_signals(struct pf_stack *stack, int count) {
  char *paths[] = {"/bin/true", NULL};
  char *argv[] = {"true", NULL};
  char *envp[] = {NULL};
  struct pf_fd_action fds[3];
  struct sigaction sa;
  pthread_t thread;
  int exited = 0, killed = 0, problems = 0, backend = pf_backend_current();
  char first_problem[160] = "";

  self_pid = getpid();
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: the parent's calls see EINTR too */
  sigaction(SIGUSR1, &sa, NULL);
  setpgid(0, 0);
  pthread_create(&thread, NULL, storm, NULL);
  for (int i = 0; i < count; i++) {
    struct pf_child_plan plan;
    struct pf_spawn_result out;
    plain_plan(&plan, paths, argv, envp, fds, 0); /* pgid 0: leave our group, and the storm */
    if (pf_spawn(stack, backend, &plan, -1, &out) < 0) {
      if (problems++ == 0)
        snprintf(first_problem, sizeof first_problem, "spawn %d: errno %d from %s", i,
                 out.fail.err, out.fail.syscall);
      continue;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int w = pf_waitid_pidfd(out.pidfd, &si, WEXITED | PF_WALL, NULL);
    close(out.pidfd);
    if (w == 0 && si.si_code == CLD_EXITED && si.si_status == 0) exited++;
    else if (w == 0 && si.si_code == CLD_KILLED && si.si_status == SIGUSR1) killed++;
    else if (problems++ == 0)
      snprintf(first_problem, sizeof first_problem, "spawn %d: waitid %d, si_code %d, si_status %d",
               i, w, si.si_code, si.si_status);
  }
  __atomic_store_n(&stop_storm, 1, __ATOMIC_SEQ_CST);
  pthread_join(thread, NULL);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGUSR1, &sa, NULL);
  printf("\"backend\":\"%s\",\"spawns\":%d,\"exited\":%d,\"killedBeforeExec\":%d,\"problems\":%d,"
         "\"firstProblem\":\"%s\",\"sent\":%ld,\"handledHere\":%d,\"handledElsewhere\":%d",
         backend_name(backend), count, exited, killed, problems, first_problem, sent, own_runs,
         foreign_runs);
}

/* ---- SIGPIPE from the fork probe ---- */

static void print_sigpipe(int count) {
  sigset_t pipe_set, pending;
  int raised = 0, failed = 0;
  signal(SIGPIPE, SIG_DFL);
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_set, NULL);
  for (int i = 0; i < count; i++) {
    int vm, exit_info;
    if (pf_spawn_probe(PF_BACKEND_FORK, &vm, &exit_info) < 0) failed++;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
      struct timespec zero = {0, 0};
      raised++;
      sigtimedwait(&pipe_set, NULL, &zero);
    }
  }
  printf("\"probes\":%d,\"failed\":%d,\"sigpipes\":%d", count, failed, raised);
}

/* A filter that makes clone3 fail with EPERM from now on (as older Docker profiles did). */
static int refuse_clone3_eperm(void) {
  struct sock_filter prog[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog fprog = {.len = sizeof prog / sizeof prog[0], .filter = prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) return -errno;
  return 0;
}

int main(int argc, char **argv) {
  struct fd_snapshot before, after;
  struct pf_stack stack = {NULL, 0};
  const char *mode = argc > 1 ? argv[1] : "";

  if (strcmp(mode, "spawn") != 0 && strcmp(mode, "demote") != 0 && strcmp(mode, "signals") != 0 &&
      strcmp(mode, "sigpipe") != 0) {
    fprintf(stderr, "usage: core-spawn spawn|demote|signals N|sigpipe N\n");
    return 2;
  }
  /* Node ignores SIGPIPE, and the addon runs there: so does this host, but in
   * the sigpipe mode, which checks that the core does not depend on it. */
  signal(SIGPIPE, SIG_IGN);
  snapshot(&before);
  printf("{\"mode\":\"%s\",", mode);
  if (strcmp(mode, "signals") != 0 && strcmp(mode, "sigpipe") != 0) print_support();
  if (strcmp(mode, "signals") == 0) {
    print_signals(&stack, argc > 2 ? atoi(argv[2]) : 1000);
  } else if (strcmp(mode, "sigpipe") == 0) {
    print_sigpipe(argc > 2 ? atoi(argv[2]) : 100);
  } else if (strcmp(mode, "demote") == 0) {
    printf("\"probedBackend\":\"%s\",", backend_name(pf_backend_current()));
    printf("\"filter\":%d,", refuse_clone3_eperm());
    printf("\"first\":");
    print_spawn(&stack, PF_BACKEND_CLONE3, "/bin/sh");
    printf(",\"start\":");
    print_start(&stack);
    printf(",\"current\":\"%s\"", backend_name(pf_backend_current()));
  } else {
    printf("\"spawned\":");
    print_spawn(&stack, pf_backend_current(), "/bin/sh");
    printf(",\"missing\":");
    print_spawn(&stack, pf_backend_current(), "/nonexistent/program");
  }
  pf_stack_release(&stack);
  snapshot(&after);
  printf(",\"children\":%d,\"fdsLeft\":", has_children());
  print_fd_diff(&before, &after);
  printf("}\n");
  return 0;
}
