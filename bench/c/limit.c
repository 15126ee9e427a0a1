/*
 * limit.c: the C limit the benchmarks compare against. A long-lived server, driven one command
 * per line on stdin and answering one JSON line on stdout, so that the bench can alternate it
 * with the Node contenders in rounds without paying its start-up (or its memory) each time.
 *
 *   limit [--mem-gib G]        allocate and touch G GiB first (the memory sweep)
 *   seq <backend> <n>          n sequential spawn-and-wait of /bin/true
 *                              -> {"lat":[ns,...],"cpu_ns":<this process's CPU time for them>}
 *   par <backend> <n> <k>      n spawns of /bin/true, k in flight
 *                              -> {"ns":total,"cpu_ns":<this process's CPU time for them>,
 *                                  "children_cpu_ns":<the children's>}
 *   reap <k> <helper> <dir> <gap-us>
 *                              k children of the release helper, released together; child i
 *                              exits i * gap-us after the release (0: all at once)
 *                              -> {"release_ns", "end_ns", "last_exit_ns", "cpu_ns"}
 *
 * Backends, doing the work pidfd does for spawn('/bin/true', [], { stdio: 'ignore' }):
 *   posix_spawn  glibc posix_spawn (itself clone(CLONE_VM|CLONE_VFORK)), /dev/null on 0-2,
 *                every signal back to SIG_DFL (POSIX_SPAWN_SETSIGDEF), waitpid.
 *   clone3       raw clone3(CLONE_PIDFD|CLONE_VM|CLONE_VFORK) on a private stack; the child
 *                resets every disposition, opens /dev/null on 0-2, close_range(3, ~0), execve;
 *                the parent waits with waitid(P_PIDFD) (or epoll on pidfds for `par`/`reap`).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clone.h" /* native/: pf_clone3_call, struct pf_clone_args, SYS_clone3 */

#define L_CLONE_PIDFD 0x1000ULL
#define L_CLONE_VM 0x100ULL
#define L_CLONE_VFORK 0x4000ULL
#define L_P_PIDFD 3
#define STACK_SIZE (64 * 1024)

extern char **environ;

struct child_plan {
  char *const *argv;
};

static char *true_argv[] = {"/bin/true", NULL};
static char *stack_mem;

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rusage_ns(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return ((uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)) * 1000000000ull +
         ((uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec)) * 1000ull;
}

static uint64_t cpu_ns(void) { return rusage_ns(RUSAGE_SELF); }

/* The CPU time of the reaped children so far. */
static uint64_t children_cpu_ns(void) { return rusage_ns(RUSAGE_CHILDREN); }

/* ---- clone3 backend: the child runs on its own stack, raw syscalls only ---- */

static int clone3_child(void *arg) {
  struct child_plan *p = arg;
  unsigned long dfl[4] = {0, 0, 0, 0};
  for (int sig = 1; sig < 65; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, dfl, 0, 8);
  long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR, 0);
  for (int t = 0; t < 3; t++) syscall(SYS_dup3, fd, t, 0);
  syscall(SYS_close_range, 3, ~0U, 0);
  uint64_t empty = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8);
  syscall(SYS_execve, p->argv[0], p->argv, environ);
  syscall(SYS_exit_group, 127);
  return 127;
}

/* The library's own clone3 trampoline (native/clone.c, linked in by bench/lib/build.js); where
 * there is none (not x86-64), libc's clone() with the same flags. */
static long clone3_call(struct pf_clone_args *args, int (*fn)(void *), void *arg) {
  if (pf_clone3_arch_ok()) return pf_clone3_call(args, fn, arg);
  return pf_clone_call(args->flags | (args->exit_signal & 0xff), (char *)(uintptr_t)(args->stack + args->stack_size),
                       (int *)(uintptr_t)args->pidfd, fn, arg);
}

/* Spawns argv with clone3; returns the pid and sets *pidfd. SIGCHLD as exit signal, as execve
 * would set it anyway. */
static long spawn_clone3(char *const *argv, int *pidfd) {
  struct child_plan plan = {argv};
  struct pf_clone_args args;
  sigset_t all, old;
  memset(&args, 0, sizeof args);
  args.flags = L_CLONE_PIDFD | L_CLONE_VM | L_CLONE_VFORK;
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  args.exit_signal = SIGCHLD;
  args.stack = (uint64_t)(uintptr_t)stack_mem;
  args.stack_size = STACK_SIZE;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = clone3_call(&args, clone3_child, &plan);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return pid;
}

/* Reaps the ready children among `m` epoll events, closing their pidfds; returns how many. */
static int reap_ready(int ep, const struct epoll_event *evs, int m) {
  int reaped = 0;
  for (int i = 0; i < m; i++) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid((idtype_t)L_P_PIDFD, (id_t)evs[i].data.fd, &si, WEXITED | WNOHANG);
    if (si.si_pid == 0) continue;
    epoll_ctl(ep, EPOLL_CTL_DEL, evs[i].data.fd, NULL);
    close(evs[i].data.fd);
    reaped++;
  }
  return reaped;
}

static posix_spawn_file_actions_t null_actions;
static posix_spawnattr_t attr;

static void setup_posix_spawn(void) {
  sigset_t all, none;
  posix_spawn_file_actions_init(&null_actions);
  posix_spawn_file_actions_addopen(&null_actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&null_actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&null_actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_init(&attr);
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

/* Spawns argv with posix_spawn; returns the pid or -errno. */
static long spawn_posix(char *const *argv) {
  pid_t pid;
  int r = posix_spawn(&pid, argv[0], &null_actions, &attr, argv, environ);
  return r != 0 ? -r : pid;
}

static int is_clone3(const char *backend) { return strcmp(backend, "clone3") == 0; }

static void cmd_seq(const char *backend, long n) {
  int c3 = is_clone3(backend);
  uint64_t cpu0 = cpu_ns();
  printf("{\"lat\":[");
  for (long i = 0; i < n; i++) {
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    int pidfd = -1, status;
    long pid = c3 ? spawn_clone3(true_argv, &pidfd) : spawn_posix(true_argv);
    if (pid < 0) {
      fprintf(stderr, "limit: spawn: %s\n", strerror((int)-pid));
      exit(1);
    }
    if (c3) {
      siginfo_t si;
      while (waitid((idtype_t)L_P_PIDFD, (id_t)pidfd, &si, WEXITED) != 0 && errno == EINTR) {
      }
      close(pidfd);
    } else {
      while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    printf("%s%llu", i ? "," : "", (unsigned long long)(now_ns(CLOCK_MONOTONIC) - t0));
  }
  printf("],\"cpu_ns\":%llu}\n", (unsigned long long)(cpu_ns() - cpu0));
}

/* k in flight: posix_spawn children are collected with waitpid(-1); clone3 children through
 * their pidfds in one epoll set, as the library does. */
static void cmd_par(const char *backend, long n, long k) {
  int c3 = is_clone3(backend);
  int ep = c3 ? epoll_create1(EPOLL_CLOEXEC) : -1;
  long started = 0, done = 0, live = 0;
  uint64_t cpu0 = cpu_ns(), kids0 = children_cpu_ns(), t0 = now_ns(CLOCK_MONOTONIC);
  while (done < n) {
    while (live < k && started < n) {
      int pidfd = -1;
      long pid = c3 ? spawn_clone3(true_argv, &pidfd) : spawn_posix(true_argv);
      if (pid < 0) {
        fprintf(stderr, "limit: spawn: %s\n", strerror((int)-pid));
        exit(1);
      }
      if (c3) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = pidfd};
        epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev);
      }
      started++;
      live++;
    }
    if (c3) {
      struct epoll_event evs[64];
      int reaped = reap_ready(ep, evs, epoll_wait(ep, evs, 64, -1));
      live -= reaped;
      done += reaped;
    } else {
      int status;
      if (waitpid(-1, &status, 0) > 0) {
        live--;
        done++;
      }
    }
  }
  uint64_t t1 = now_ns(CLOCK_MONOTONIC), cpu1 = cpu_ns(), kids1 = children_cpu_ns();
  if (ep >= 0) close(ep);
  printf("{\"ns\":%llu,\"cpu_ns\":%llu,\"children_cpu_ns\":%llu}\n", (unsigned long long)(t1 - t0),
         (unsigned long long)(cpu1 - cpu0), (unsigned long long)(kids1 - kids0));
}

/* Reads exactly len bytes (blocking fd). */
static void read_full(int fd, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, (char *)buf + got, len - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      fprintf(stderr, "limit: short read\n");
      exit(1);
    }
    got += (size_t)r;
  }
}

/* K children of the release helper, held until all are ready, then released at once; the
 * parent reaps them through pidfds in one epoll set (the library's design, without Node). */
static void cmd_reap(long k, char *helper, const char *dir, long gap_us) {
  char release[4096], ready[4096], done[4096];
  snprintf(release, sizeof release, "%s/c-release", dir);
  snprintf(ready, sizeof ready, "%s/c-ready", dir);
  snprintf(done, sizeof done, "%s/c-done", dir);
  unlink(release), unlink(ready), unlink(done);
  if (mkfifo(release, 0600) || mkfifo(ready, 0600) || mkfifo(done, 0600)) {
    perror("limit: mkfifo");
    exit(1);
  }
  int rel = open(release, O_RDWR | O_CLOEXEC);
  int rdy = open(ready, O_RDWR | O_CLOEXEC);
  int dn = open(done, O_RDWR | O_CLOEXEC);
  fcntl(dn, F_SETPIPE_SZ, 1 << 20);
  char delay[32];
  char *argv[] = {helper, release, ready, done, gap_us > 0 ? delay : NULL, NULL};
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (long i = 0; i < k; i++) {
    int pidfd = -1;
    snprintf(delay, sizeof delay, "%ld", i * gap_us);
    long pid = spawn_clone3(argv, &pidfd);
    if (pid < 0) {
      fprintf(stderr, "limit: spawn: %s\n", strerror((int)-pid));
      exit(1);
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = pidfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, pidfd, &ev);
  }
  char *buf = malloc((size_t)k * 8);
  read_full(rdy, buf, (size_t)k);
  uint64_t cpu0 = cpu_ns(), t0 = now_ns(CLOCK_MONOTONIC);
  close(rel);
  long left = k;
  while (left > 0) {
    struct epoll_event evs[128];
    left -= reap_ready(ep, evs, epoll_wait(ep, evs, 128, -1));
  }
  uint64_t t1 = now_ns(CLOCK_MONOTONIC), cpu1 = cpu_ns();
  read_full(dn, buf, (size_t)k * 8);
  uint64_t last = 0;
  for (long i = 0; i < k; i++) {
    uint64_t v;
    memcpy(&v, buf + i * 8, 8);
    if (v > last) last = v;
  }
  free(buf);
  close(ep), close(rdy), close(dn);
  unlink(release), unlink(ready), unlink(done);
  printf("{\"release_ns\":%llu,\"end_ns\":%llu,\"last_exit_ns\":%llu,\"cpu_ns\":%llu}\n",
         (unsigned long long)t0, (unsigned long long)t1, (unsigned long long)last,
         (unsigned long long)(cpu1 - cpu0));
}

static void touch_memory(double gib) {
  size_t bytes = (size_t)(gib * 1024 * 1024 * 1024);
  if (bytes == 0) return;
  char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    perror("limit: mmap");
    exit(1);
  }
  for (size_t off = 0; off < bytes; off += 4096) m[off] = 1;
}

int main(int argc, char **argv) {
  double gib = 0;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--mem-gib") == 0 && i + 1 < argc) gib = atof(argv[++i]);
  touch_memory(gib);
  stack_mem = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                   -1, 0);
  setup_posix_spawn();
  setvbuf(stdout, NULL, _IOFBF, 1 << 20);
  printf("{\"ready\":true,\"pid\":%d}\n", getpid());
  fflush(stdout);

  char line[4096];
  while (fgets(line, sizeof line, stdin) != NULL) {
    char cmd[16], a[256], b[2048];
    long n = 0, k = 0;
    if (sscanf(line, "%15s", cmd) != 1) continue;
    if (strcmp(cmd, "seq") == 0 && sscanf(line, "%*s %255s %ld", a, &n) == 2) {
      cmd_seq(a, n);
    } else if (strcmp(cmd, "par") == 0 && sscanf(line, "%*s %255s %ld %ld", a, &n, &k) == 3) {
      cmd_par(a, n, k);
    } else if (strcmp(cmd, "reap") == 0 &&
               sscanf(line, "%*s %ld %255s %2047s %ld", &k, a, b, &n) == 4) {
      cmd_reap(k, a, b, n);
    } else if (strcmp(cmd, "quit") == 0) {
      break;
    } else {
      printf("{\"error\":\"bad command\"}\n");
    }
    fflush(stdout);
  }
  return 0;
}
