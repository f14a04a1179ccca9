/* SPDX-License-Identifier: MIT */
/*
 * What the network examples share: a listening socket on 127.0.0.1 and a
 * clean stop on SIGINT or SIGTERM.
 */
#ifndef EXAMPLES_LOOPBACK_H
#define EXAMPLES_LOOPBACK_H

#include <signal.h>
#include <stdbool.h>

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

#endif
