/*
 * echo-self REPORT [ARGS...]: writes what this process sees of itself to the file REPORT, for the
 * spawn() fuzz test: its open fds (listed before it opens anything), ids, process group, session,
 * parent-death signal, working directory, argv and environment. Numbers go on text lines; the
 * strings follow their count line, each ended by a NUL (they cannot contain one).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

extern char **environ;

static void put_strings(FILE *out, const char *name, char *const *list, int n) {
  fprintf(out, "%s %d\n", name, n);
  for (int i = 0; i < n; i++) fprintf(out, "%s%c", list[i], '\0');
}

int main(int argc, char **argv) {
  static int fds[65536];
  static gid_t groups[65536];
  int nfds = 0;
  if (argc < 2) return 2;

  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) return 3;
  for (struct dirent *e; (e = readdir(dir)) != NULL;) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int fd = atoi(e->d_name);
    if (fd != dirfd(dir) && nfds < 65536) fds[nfds++] = fd;
  }
  closedir(dir);

  char cwd[8192];
  if (getcwd(cwd, sizeof cwd) == NULL) return 4;
  int pdeathsig = 0;
  prctl(PR_GET_PDEATHSIG, &pdeathsig);
  int ngroups = getgroups(65536, groups);

  FILE *out = fopen(argv[1], "w");
  if (out == NULL) return 5;
  fprintf(out, "pid %d\npgid %d\nsid %d\nuid %u\ngid %u\npdeathsig %d\n", (int)getpid(),
          (int)getpgid(0), (int)getsid(0), (unsigned)getuid(), (unsigned)getgid(), pdeathsig);
  fprintf(out, "groups %d", ngroups);
  for (int i = 0; i < ngroups; i++) fprintf(out, " %u", (unsigned)groups[i]);
  fprintf(out, "\nfds %d", nfds);
  for (int i = 0; i < nfds; i++) fprintf(out, " %d", fds[i]);
  fputc('\n', out);
  char *cwds[] = {cwd};
  put_strings(out, "cwd", cwds, 1);
  put_strings(out, "argv", argv, argc);
  int nenv = 0;
  while (environ[nenv] != NULL) nenv++;
  put_strings(out, "env", environ, nenv);
  return fclose(out) == 0 ? 0 : 6;
}
