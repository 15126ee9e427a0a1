/*
 * owned.c: file descriptors owned by JavaScript objects (see owned.h).
 */
#include "owned.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cgroup_signal.h"

void pf_owned_init(struct pf_owned_list *list) {
  list->head.fd = -1;
  list->head.prev = list->head.next = &list->head;
  list->head.linked = 1;
}

struct pf_owned *pf_owned_add(struct pf_owned_list *list, int fd) {
  struct pf_owned *o = malloc(sizeof *o);
  if (o == NULL) return NULL;
  o->fd = fd;
  o->prev = &list->head;
  o->next = list->head.next;
  list->head.next->prev = o;
  list->head.next = o;
  o->linked = 1;
  o->remove_dir = 0;
  return o;
}

static void pf_owned_unlink(struct pf_owned *o) {
  if (!o->linked) return;
  o->prev->next = o->next;
  o->next->prev = o->prev;
  o->prev = o->next = NULL;
  o->linked = 0;
}

int pf_owned_close(struct pf_owned *o) {
  pf_owned_unlink(o);
  if (o->fd < 0) return 0;
  int fd = o->fd;
  o->fd = -1;
  /* close() must not be retried on EINTR on Linux: the fd is gone either way. */
  return close(fd) == 0 || errno == EINTR ? 0 : -errno;
}

int pf_owned_has(const struct pf_owned_list *list, int fd) {
  for (const struct pf_owned *o = list->head.next; o != &list->head; o = o->next)
    if (o->fd == fd) return 1;
  return 0;
}

void pf_owned_close_all(struct pf_owned_list *list) {
  while (list->head.next != &list->head) {
    struct pf_owned *o = list->head.next;
    char link[64], path[4096];
    ssize_t n = -1;
    if (o->remove_dir && o->fd >= 0 && (size_t)snprintf(link, sizeof link, "/proc/self/fd/%d", o->fd) < sizeof link)
      n = readlink(link, path, sizeof path - 1);
    pf_owned_close(o);
    if (n > 0 && path[0] == '/') {
      path[n] = '\0';
      pf_cgroup_remove(path);
    }
  }
}
