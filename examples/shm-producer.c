// SPDX-License-Identifier: MIT
/*
 * shm-producer NAME COUNT [CONSUMER...]: make a named region holding a ring
 * guarded by a robust mutex, publish it only once its locks are ready, and
 * write COUNT messages into it. With CONSUMER, start that program with
 * NAME added to its arguments and exit with its status. NAME "-" picks
 * "shm-producer-PID", so runs side by side never meet.
 *
 * The region is created unpublished: a consumer that opens NAME can never
 * find locks that are not yet initialised.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm-ring.h"

extern char **environ;

static int setup(struct zc_region *r, const char *name, uint64_t total)
{
	struct ring *g;

	if (zc_region_create(r, name, sizeof(struct ring), 0600, ZC_REGION_UNPUBLISHED) < 0)
		return perror("zc_region_create"), -1;
	g = r->addr;
	g->total = total;
	if (!zc_region_mutex(r, RING_LOCK_OFF, ZC_LOCK_INIT) ||
	    !zc_region_sem(r, RING_FILLED_OFF, 0, ZC_LOCK_INIT) ||
	    !zc_region_sem(r, RING_FREE_OFF, RING_SLOTS, ZC_LOCK_INIT))
		return perror("lock setup"), -1;
	if (zc_region_publish(r) < 0)
		return perror("zc_region_publish"), -1;
	return 0;
}

static int produce(struct zc_region *r, uint64_t total)
{
	struct ring *g = r->addr;
	struct zc_mutex *m = zc_region_mutex(r, RING_LOCK_OFF, 0);
	struct zc_sem *filled = zc_region_sem(r, RING_FILLED_OFF, 0, 0);
	struct zc_sem *free_slots = zc_region_sem(r, RING_FREE_OFF, 0, 0);
	struct ring_msg *s;
	uint64_t i;

	for (i = 0; i < total; i++) {
		if (zc_sem_wait(free_slots) < 0 || ring_lock(m, "shm-producer") < 0)
			return perror("shm-producer"), -1;
		s = &g->slot[g->head % RING_SLOTS];
		s->seq = i;
		snprintf(s->text, sizeof(s->text), "message %llu", (unsigned long long)i);
		s->sum = ring_sum(s->text);
		g->head++;
		zc_mutex_unlock(m);
		zc_sem_post(filled);
	}
	return 0;
}

static int spawn_consumer(char **argv, int argc, const char *name, pid_t *pid)
{
	char **args = calloc((size_t)argc + 2, sizeof(char *));
	int e;

	if (!args)
		return -1;
	memcpy(args, argv, (size_t)argc * sizeof(char *));
	args[argc] = (char *)name;
	e = posix_spawn(pid, args[0], NULL, NULL, args, environ);
	free(args);
	if (e)
		fprintf(stderr, "shm-producer: %s: %s\n", argv[0], strerror(e));
	return e ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct zc_region r;
	char own[64];
	const char *name;
	uint64_t total;
	pid_t pid = -1;
	int status = 0, rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: shm-producer NAME COUNT [CONSUMER...]\n");
		return 2;
	}
	total = strtoull(argv[2], NULL, 10);
	snprintf(own, sizeof(own), "shm-producer-%d", (int)getpid());
	name = strcmp(argv[1], "-") == 0 ? own : argv[1];
	if (setup(&r, name, total) < 0)
		goto out;
	if (argc > 3 && spawn_consumer(argv + 3, argc - 3, name, &pid) < 0)
		goto out;
	if (produce(&r, total) < 0)
		goto out;
	rc = 0;
	if (pid > 0) {
		if (waitpid(pid, &status, 0) != pid)
			status = -1;
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		pid = -1;
	}
out:
	if (pid > 0)
		waitpid(pid, &status, 0);
	zc_region_remove(&r);
	zc_region_close(&r);
	return rc;
}
