/*
 * cgroup_signal.h: a signal to every process of a cgroup and of the cgroups below it, the way
 * every tree of the library is signalled (Cgroup.kill() in src/cgroup/cgroup.ts is the same rule
 * for run()): SIGKILL through cgroup.kill (Linux 5.14), all at once; another signal (or SIGKILL
 * without cgroup.kill) with the tree frozen (cgroup.freeze, 5.2), so that no member can fork a
 * new one between the listing and the signal: freeze, wait until the kernel says the tree is
 * frozen, signal each member listed in the cgroup.procs of the cgroup and of every cgroup below
 * it through a pidfd of its own, thaw, then SIGCONT to those members where the caller asks for
 * it (tree_signal.h's rule), so that a stopped member acts on the signal now.
 *
 * Used by the addon (sync.c: runSync's limits) and by the watchdog (watchdog.c), which is a
 * program of its own: no Node-API here, and nothing but libc and the raw pidfd calls.
 */
#ifndef PIDFD_CGROUP_SIGNAL_H
#define PIDFD_CGROUP_SIGNAL_H

/* How long a freeze may take before the members are signalled anyway: a member in
 * uninterruptible sleep (a slow disk, NFS) is not frozen until it wakes, and a blocking caller
 * must not wait for it for ever. */
#define PF_CGROUP_FREEZE_WAIT_MS 2000

/*
 * Sends `sig` to every process of the cgroup whose directory is `dirfd` (O_PATH is enough) and of
 * the cgroups below it, as above; with `cont`, SIGCONT follows to each member signalled, once
 * the tree is thawed (never after SIGKILL). A freeze that the kernel has not completed within
 * `freeze_wait_ms` does not stop the signal: the members listed then get it, thawed or not.
 * Without cgroup.freeze (before 5.2) the members are signalled without it. Returns the number of
 * members signalled (1 for a write to cgroup.kill), or -errno when the cgroup could not be read
 * (removed: -ENOENT or -ENODEV).
 */
int pf_cgroup_signal(int dirfd, int sig, int cont, int freeze_wait_ms);

/* Removes the cgroup directory at `path` and the cgroups below it, deepest first (rmdir takes an
 * empty cgroup only: one with a process left stays). 0 or -errno. */
int pf_cgroup_remove(const char *path);

/* The number after `key ` in a cgroup file's "key value" lines (cgroup.events, cpu.stat), or -1:
 * shared with exit.c's reading of cgroup.events. */
int pf_cgroup_value(const char *text, const char *key);

#endif
