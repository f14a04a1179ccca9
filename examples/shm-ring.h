/* SPDX-License-Identifier: MIT */
/*
 * The layout shm-producer and shm-consumer share in a named region: a
 * robust mutex, two semaphores counting filled and free slots, and a ring.
 */
#ifndef SHM_RING_H
#define SHM_RING_H

#include <stdint.h>
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

#endif /* SHM_RING_H */
