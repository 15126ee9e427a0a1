/*
 * owned.h: file descriptors that JavaScript objects own (a PidFd's pidfd), closed when the object
 * is closed, when it is garbage-collected, or when its environment (a worker) goes away, whichever
 * comes first, and never twice.
 *
 * Each one is a node in its environment's list, and the native side of a napi external that the
 * object holds. Closing (from JavaScript, or at the environment's cleanup) closes the fd and
 * takes the node out of the list; the external's finalizer closes the fd if that has not happened
 * yet, and frees the node. After its environment's cleanup a node is out of the list, so a
 * finalizer that runs later (or never: Bun does not run them at exit) touches nothing else.
 */
#ifndef PIDFD_OWNED_H
#define PIDFD_OWNED_H

struct pf_owned {
  int fd;              /* -1 once closed */
  struct pf_owned *prev, *next;
  int linked;          /* in its environment's list */
  int remove_dir;      /* fd is a cgroup's directory, removed if still owned at the environment's end */
};

/* The list head, in struct pf_env. */
struct pf_owned_list {
  struct pf_owned head; /* a circular list; head.fd is unused */
};

void pf_owned_init(struct pf_owned_list *list);

/* Adds a node for fd. Returns it, or NULL (ENOMEM). */
struct pf_owned *pf_owned_add(struct pf_owned_list *list, int fd);

/* Closes the node's fd (once) and takes it out of the list. Returns 0 or -errno from close. */
int pf_owned_close(struct pf_owned *o);

/* Whether fd is owned by a node of the list. */
int pf_owned_has(const struct pf_owned_list *list, int fd);

/* The environment goes away: closes every fd of the list and empties it (nodes are freed by their
 * finalizers). A node with remove_dir still in the list is a cgroup whose owner never got to
 * release it: a runSync() whose worker was terminated while it blocked, which runs no
 * JavaScript after the call (not even a `finally`). Its directory is removed (with the cgroups
 * below it) where it is empty. */
void pf_owned_close_all(struct pf_owned_list *list);

#endif
