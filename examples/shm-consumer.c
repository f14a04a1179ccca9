// SPDX-License-Identifier: MIT
/*
 * shm-consumer NAME: open the ring shm-producer made under NAME (waiting
 * for it to be published), take every message in order and check it.
 *
 * If the producer dies while holding the lock, the next lock attempt says
 * EOWNERDEAD: the slot being written may be torn, so the consumer skips
 * what the checksum rejects, marks the lock consistent and goes on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shm-ring.h"

static int open_ring(struct zc_region *r, const char *name)
{
	int tries;

	for (tries = 0; tries < 500; tries++) {
		if (zc_region_open(r, name, 0) == 0)
			return r->size >= sizeof(struct ring) ? 0 : (errno = EINVAL, -1);
		if (errno != ENOENT)
			break;
		usleep(10000);
	}
	perror("zc_region_open");
	return -1;
}

int main(int argc, char **argv)
{
	struct zc_region r;
	struct zc_mutex *m;
	struct zc_sem *filled, *free_slots;
	struct ring *g;
	struct ring_msg s;
	uint64_t got = 0, bad = 0, total;

	if (argc != 2) {
		fprintf(stderr, "usage: shm-consumer NAME\n");
		return 2;
	}
	if (open_ring(&r, argv[1]) < 0)
		return 1;
	g = r.addr;
	m = zc_region_mutex(&r, RING_LOCK_OFF, 0);
	filled = zc_region_sem(&r, RING_FILLED_OFF, 0, 0);
	free_slots = zc_region_sem(&r, RING_FREE_OFF, 0, 0);
	total = g->total;
	while (got < total) {
		/* A producer gone for 10 s without a word is treated as dead. */
		if (zc_sem_timedwait(filled, 10000000000ull) < 0 ||
		    ring_lock(m, "shm-consumer") < 0) {
			perror("shm-consumer");
			break;
		}
		s = g->slot[g->tail % RING_SLOTS];
		g->tail++;
		zc_mutex_unlock(m);
		zc_sem_post(free_slots);
		s.text[RING_TEXT - 1] = '\0';
		if (s.seq != got || s.sum != ring_sum(s.text))
			bad++;
		got++;
	}
	printf("shm-consumer: %llu messages, %llu bad\n", (unsigned long long)got,
	       (unsigned long long)bad);
	zc_region_close(&r);
	return got == total && bad == 0 ? 0 : 1;
}
