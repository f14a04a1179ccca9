/* SPDX-License-Identifier: MIT */
/*
 * The layout shm-producer and shm-consumer share in a named region: a
 * robust mutex, two semaphores counting filled and free slots, and a ring.
 */
#ifndef SHM_RING_H
#define SHM_RING_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <zcopy.h>

#define RING_SLOTS 16
#define RING_TEXT 48

struct ring_msg {
	uint64_t seq;
	uint64_t sum;		/* of text, so a torn slot shows */
	char text[RING_TEXT];
};

struct ring {
	char lock[ZC_MUTEX_SIZE];
	char filled[ZC_SEM_SIZE];
	char free[ZC_SEM_SIZE];
	uint64_t head;		/* next slot to fill */
	uint64_t tail;		/* next slot to take */
	uint64_t total;		/* messages the producer will send */
	struct ring_msg slot[RING_SLOTS];
};

#define RING_LOCK_OFF 0
#define RING_FILLED_OFF ZC_MUTEX_SIZE
#define RING_FREE_OFF (ZC_MUTEX_SIZE + ZC_SEM_SIZE)

static inline uint64_t ring_sum(const char *text)
{
	uint64_t h = 1469598103934665603ull;

	while (*text)
		h = (h ^ (unsigned char)*text++) * 1099511628211ull;
	return h;
}

/*
 * Take the ring's lock. If its last holder died holding it, the kernel
 * hands it over with EOWNERDEAD: the indexes are only ever changed as the
 * last step under the lock, so they are whole, and a slot torn mid-write
 * fails its checksum. That is all the repair needed: mark it consistent.
 */
static inline int ring_lock(struct zc_mutex *m, const char *who)
{
	if (zc_mutex_lock(m) == 0)
		return 0;
	if (errno != EOWNERDEAD)
		return -1;
	fprintf(stderr, "%s: a holder of the lock died; recovering\n", who);
	return zc_mutex_consistent(m);
}

#endif /* SHM_RING_H */
