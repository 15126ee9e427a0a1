/*
 * probe.h: what this kernel and this process can do, probed once and kept with the reason.
 */
#ifndef PIDFD_PROBE_H
#define PIDFD_PROBE_H

/* ok: the feature works. err: the errno the probe saw when it does not (0 when not probed). */
struct pf_feature {
  int ok;
  int err;
  int probed;
};

struct pf_support {
  char kernel[65];
  struct pf_feature pidfd_open;      /* 5.3 */
  struct pf_feature waitid_pidfd;    /* 5.4 */
  struct pf_feature clone3;          /* 5.3, and an architecture with a trampoline */
  struct pf_feature clone3_spawn;    /* a real clone3(CLONE_PIDFD|CLONE_VM|CLONE_VFORK) child */
  struct pf_feature clone_spawn;     /* a real clone(CLONE_PIDFD|CLONE_VM|CLONE_VFORK) child */
  struct pf_feature fork_spawn;      /* a real copy + pidfd_open child */
  struct pf_feature vm_shared;       /* CLONE_VM really shares memory (not under some emulators) */
  struct pf_feature close_range;     /* 5.9 */
  struct pf_feature pidfd_thread;    /* 6.9 */
  struct pf_feature pidfs;           /* 6.9: pidfds live on pidfs, with a stable inode */
  struct pf_feature pidfd_info;      /* 6.13 */
  struct pf_feature pidfd_info_exit; /* 6.15 */
  struct pf_feature autoreap;        /* 7.1: CLONE_AUTOREAP with the clone3 spawn's flags */
  struct pf_feature pidfd_autokill;  /* 7.1: CLONE_PIDFD_AUTOKILL (EPERM: needs CAP_SYS_ADMIN or CLONE_NNP) */
  struct pf_feature clone_nnp;       /* 7.1: CLONE_NNP */
  int backend;                       /* enum pf_backend; PF_BACKEND_NONE: cannot spawn */
  int forced;                        /* PIDFD_BACKEND named the backend */
  char forced_name[32];              /* what PIDFD_BACKEND said, as given */
};

/* Probes on first call (thread-safe), then returns the same answers. */
const struct pf_support *pf_support_get(void);

/* The backend to use now: the probed one, unless clone3 was demoted since. */
int pf_backend_current(void);

/* clone3 failed at run time with ENOSYS or EPERM (a seccomp filter installed after the probe):
 * unless the backend was forced, use clone from now on. Returns the backend to retry with, or
 * PF_BACKEND_NONE. */
int pf_backend_demote(int err);

#endif
