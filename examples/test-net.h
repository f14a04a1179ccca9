/* SPDX-License-Identifier: MIT */
/*
 * Driving the network examples from a test: start one, learn its port,
 * talk to it, stop it. Nothing here asserts, so threads may call it; each
 * call returns -1 (or false) on failure.
 */
#ifndef T_NET_H
#define T_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct t_server {
	pid_t pid;
	int out;	/* its stdout and stderr */
	int port;
};

/* Run argv with output to a pipe and read its "listening on" line. */
int t_server_start(struct t_server *s, char *const argv[]);
/* SIGTERM, wait, and collect what it printed after the port; its wait status. */
int t_server_stop(struct t_server *s, char *out, size_t size);

/* A blocking connection to 127.0.0.1:port, which gives up after 30 s of silence. */
int t_connect(int port);
bool t_send_all(int fd, const void *buf, size_t len);
/* Everything until EOF into a malloc'd *buf; delay_us between reads makes a slow reader. */
bool t_recv_all(int fd, unsigned char **buf, size_t *len, unsigned int delay_us);

#endif
