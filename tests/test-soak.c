// SPDX-License-Identifier: MIT
/*
 * Soak: many threads transfer between many kinds of fd pairs at once, each
 * with its own pooled pipe and bounce buffer, for a bounded time (3 s, or
 * T_SOAK_SECONDS). Every transfer must deliver every byte. Afterwards no fd
 * and no shared mapping may be left: thread exit frees what each thread
 * held. Heap leaks are for the valgrind and sanitizer runs of this test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "helpers.h"

#define WORKERS 8
#define MAX_SIZE (600u * 1024)
#define FLAG_BITS (ZC_NO_COPY_FILE_RANGE | ZC_NO_SPLICE | ZC_NO_SENDFILE | ZC_NO_MMAP | \
		   ZC_GROW_PIPES)

struct worker {
	pthread_t thread;
	uint32_t seed;
	double deadline;
	unsigned long transfers;
	unsigned long long bytes;
	char error[200];
};

static const unsigned char *pattern;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* One transfer; a worker thread may not use cmocka's asserts, so it says what failed. */
static bool one(struct worker *w)
{
	static const enum t_kind srcs[] = { T_FILE, T_MEMFD, T_PIPE, T_TCP, T_UNIX };
	enum t_kind sk = srcs[next(&w->seed) % 5], dk = (enum t_kind)(next(&w->seed) % T_KIND_MAX);
	size_t size = next(&w->seed) % MAX_SIZE, off = next(&w->seed) % 4096;
	unsigned int flags = next(&w->seed) & FLAG_BITS;
	struct t_end src, dst;
	ssize_t r;

	t_src_open(&src, sk, pattern + off, size);
	t_sink_open(&dst, dk);
	t_sink_roomy(&dst);
	r = zc_transfer(src.fd, dst.fd, ZC_ALL, flags);
	t_sink_finish(&dst);
	t_src_close(&src);
	if (r != (ssize_t)size)
		snprintf(w->error, sizeof(w->error), "%s->%s flags %#x size %zu: returned %zd, %s",
			 t_kind_name(sk), t_kind_name(dk), flags, size, r, strerror(errno));
	else if (dk != T_NULL && (dst.got_len != size || memcmp(dst.got, pattern + off, size)))
		snprintf(w->error, sizeof(w->error), "%s->%s flags %#x size %zu: bytes differ",
			 t_kind_name(sk), t_kind_name(dk), flags, size);
	free(dst.got);
	w->transfers++;
	w->bytes += size;
	return !w->error[0];
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (now() < w->deadline && one(w))
		;
	return NULL;
}

/* Mappings shared with a file: the mmap_write path's windows, and nothing else here. */
static int shared_mappings(void)
{
	char line[512], perms[8];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %7s", perms) == 1 && perms[3] == 's')
			n++;
	fclose(f);
	return n;
}

static void soak(double seconds, uint32_t seed)
{
	struct worker w[WORKERS];
	unsigned long transfers = 0;
	double deadline = now() + seconds;
	int i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < WORKERS; i++) {
		w[i].seed = seed + (uint32_t)i * 7919u;
		w[i].deadline = deadline;
		assert_int_equal(pthread_create(&w[i].thread, NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < WORKERS; i++)
		pthread_join(w[i].thread, NULL);
	for (i = 0; i < WORKERS; i++) {
		if (w[i].error[0])
			fail_msg("worker %d (seed %u): %s", i, seed + (uint32_t)i * 7919u, w[i].error);
		transfers += w[i].transfers;
	}
	assert_true(transfers >= WORKERS);
	print_message("%lu transfers by %d threads in %.1f s (seed %u)\n", transfers, WORKERS,
		      seconds, seed);
}

static void test_soak(void **state)
{
	const char *env = getenv("T_SOAK_SECONDS");
	double seconds = env && *env ? atof(env) : 3.0;
	int fds, maps;

	(void)state;
	fds = t_fd_count();
	maps = shared_mappings();
	soak(seconds, (uint32_t)time(NULL));
	assert_int_equal(t_fd_count(), fds);
	assert_int_equal(shared_mappings(), maps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak),
	};
	unsigned char *p = t_pattern(MAX_SIZE + 4096, 11);
	int r;

	pattern = p;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	free(p);
	return r;
}
