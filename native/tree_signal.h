/*
 * tree_signal.h: the one rule for a signal sent to a whole process tree, on the C side. Whether
 * the tree's stopped members get SIGCONT right after it, so that they act on it now (as
 * timeout(1) does): after a signal that would end a process, SIGKILL aside (it needs no
 * SIGCONT); not after one whose default action stops, continues or is nothing (SIGSTOP stops the
 * tree, SIGCONT continues it, SIGWINCH changes nothing).
 *
 * treeSignalRule() in src/signals.ts is the same rule for TypeScript; the addon exports this one
 * as constants.treeSignalContinues, and test/signals.test.js checks that the two agree on every
 * signal. The watchdog (watchdog.c) applies it to what it sends.
 */
#ifndef PIDFD_TREE_SIGNAL_H
#define PIDFD_TREE_SIGNAL_H

#include <signal.h>

/* The highest signal number Linux has (SIGRTMAX). */
#define PF_MAX_SIGNAL 64

static inline int pf_tree_signal_continues(int sig) {
  switch (sig) {
    case SIGKILL:
    case SIGCHLD:
    case SIGCONT:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGWINCH:
    case SIGURG:
      return 0;
    default:
      return sig > 0 && sig <= PF_MAX_SIGNAL;
  }
}

#endif
