/*
 * /init of a tiny arm64 VM (test/arm64-vm/run.sh): runs native/clone.c's aarch64 clone3
 * trampoline and native/sys.h's raw aarch64 system call on a real arm64 kernel, which qemu-user
 * cannot do (it has no clone3). Prints one line per check and "CLONE3-ARM64 PASS" or "... FAIL",
 * then powers the VM off.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clone.h"

static volatile long seen_pid;
static volatile int written;

/* The child: in the parent's memory (CLONE_VM), on its own stack; raw system calls only. */
static int child(void *arg) {
  seen_pid = pf_syscall0(SYS_getpid);
  written = *(int *)arg;
  return 7; /* the trampoline's exit_group(7) */
}

static int failed;
static void check(int ok, const char *what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) failed = 1;
}

int main(void) {
  printf("arm64 VM: pf_clone3_arch_ok() = %d\n", pf_clone3_arch_ok());
  check(pf_syscall0(SYS_getpid) == getpid(), "raw svc getpid() matches libc's");
  check(pf_syscall1(SYS_close, -1) == -EBADF, "raw svc close(-1) is -EBADF");
  check(pf_syscall2(SYS_clone3, 0, 0) == -EINVAL, "clone3(NULL, 0) is EINVAL: the kernel has clone3");

  for (int round = 0; round < 100; round++) {
    size_t size = 64 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    int pidfd = -1, token = 1000 + round;
    struct pf_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = PF_CLONE_VM | PF_CLONE_VFORK | PF_CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = 0;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = size;
    seen_pid = 0;
    written = 0;
    long pid = pf_clone3_call(&args, child, &token);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int w = pidfd >= 0 ? waitid((idtype_t)PF_P_PIDFD, (id_t)pidfd, &si, WEXITED | PF_WALL) : -1;
    int ok = pid > 0 && pidfd >= 0 && w == 0 && si.si_pid == pid && si.si_code == CLD_EXITED &&
             si.si_status == 7 && seen_pid == pid && written == token;
    if (round == 0 || !ok) {
      printf("round %d: pid %ld pidfd %d waitid %d si_pid %d code %d status %d child saw pid %ld wrote %d\n", round,
             pid, pidfd, w, si.si_pid, si.si_code, si.si_status, seen_pid, written);
    }
    if (!ok) {
      check(0, "clone3(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) through the trampoline");
      break;
    }
    close(pidfd);
    munmap(stack, size);
    if (round == 99) check(1, "clone3(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) through the trampoline, 100 rounds: shared memory, exit status 7, pidfd");
  }
  printf("CLONE3-ARM64 %s\n", failed ? "FAIL" : "PASS");
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  return 0;
}
