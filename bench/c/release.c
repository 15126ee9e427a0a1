/*
 * release.c: a child that waits to be released, so that many children exit together.
 *
 *   release <release-fifo> <ready-fifo> <done-fifo> [delay-us]
 *
 * Opens the three FIFOs (the parent holds each open read-write, so no open blocks), writes one
 * byte to ready, blocks reading release until the parent closes it (EOF for every child at
 * once), sleeps delay-us if given (so that children can be made to exit one by one), then writes
 * its CLOCK_MONOTONIC time in ns (8 bytes, native order) to done and exits.
 * The parent reads the ready bytes to know every child is waiting, and the done times to know
 * when the last one exited.
 *
 *   release --mkfifo <path>...     creates the FIFOs (Node has no mkfifo)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--mkfifo") == 0) {
    for (int i = 2; i < argc; i++) {
      if (mkfifo(argv[i], 0600) != 0) {
        perror(argv[i]);
        return 1;
      }
    }
    return 0;
  }
  if (argc != 4 && argc != 5) return 2;
  long delay_us = argc == 5 ? atol(argv[4]) : 0;
  int rel = open(argv[1], O_RDONLY);
  int rdy = open(argv[2], O_WRONLY);
  int done = open(argv[3], O_WRONLY);
  if (rel < 0 || rdy < 0 || done < 0) return 3;
  char c = 'r';
  if (write(rdy, &c, 1) != 1) return 4;
  char buf[16];
  while (read(rel, buf, sizeof buf) > 0) {
  }
  if (delay_us > 0) {
    struct timespec d = {delay_us / 1000000, (delay_us % 1000000) * 1000};
    while (nanosleep(&d, &d) != 0) {
    }
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  if (write(done, &ns, sizeof ns) != sizeof ns) return 5;
  return 0;
}
