/* SPDX-License-Identifier: MIT */
/*
 * What the network examples share: a listening socket on 127.0.0.1, a
 * clean stop on SIGINT or SIGTERM, and the count of bytes by path they
 * print when they stop.
 */
#ifndef EXAMPLES_LOOPBACK_H
#define EXAMPLES_LOOPBACK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <zcopy.h>

/*
 * Listen on 127.0.0.1:port, non-blocking; port 0 takes a free one. The
 * port is printed as "listening on 127.0.0.1:PORT" on standard output, so
 * whoever started the program can connect. Returns the fd, or -1 (reported).
 */
int listen_loopback(const char *prog, const char *port);

/* From now on SIGINT and SIGTERM interrupt poll() and make stop_requested true. */
void catch_stop_signals(void);
bool stop_requested(void);

int set_nonblock(int fd);

/* "8080" -> 8080; -1 unless s is a whole number from 0 to 65535. */
int parse_port(const char *s);

/* Bytes moved by each path, indexed by ZC_PATH_*. */
#define PATHS_MAX 8
void count_path(uint64_t bytes[PATHS_MAX], const struct zc_stats *st);
/* ", 123 bytes by sendfile" for each path that moved any, then a newline. */
void print_paths(const uint64_t bytes[PATHS_MAX]);

#endif
