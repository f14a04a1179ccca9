// SPDX-License-Identifier: MIT
/*
 * What every benchmark program needs besides endpoints: clocks, the
 * shuffled order of the cells, lists given as options, and the options
 * themselves, read from the environment and then the command line.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "bench.h"

double b_now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Each repetition runs the cells in a new order. In a fixed order the first
 * cell of a group that writes files always came after cells that wrote
 * none, and paid for it: up to 2x its CPU per GB, with identical code.
 */
void b_shuffle(unsigned int *order, unsigned int n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	unsigned int i, j, t;

	for (i = n; i > 1; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (unsigned int)(x % i);
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
}

bool b_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (!list || !*list)
		return true;
	for (p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static void opt_set(const struct b_opt *o, const char *v)
{
	switch (o->type) {
	case B_FLAG:
		*(bool *)o->to = v ? atoi(v) != 0 : true;
		break;
	case B_U64:
		*(uint64_t *)o->to = strtoull(v, NULL, 10);
		break;
	case B_UINT:
		*(unsigned int *)o->to = (unsigned int)atoi(v);
		break;
	case B_DOUBLE:
		*(double *)o->to = atof(v);
		break;
	case B_STR:
		*(const char **)o->to = v;
		break;
	}
}

static bool opts_parse(const struct b_opt *opts, size_t n, int argc, char **argv)
{
	const char *v;
	size_t k;
	int i;

	for (k = 0; k < n; k++)
		if (opts[k].env && (v = getenv(opts[k].env)) && *v)
			opt_set(&opts[k], v);
	for (i = 1; i < argc; i++) {
		for (k = 0; k < n && strcmp(argv[i], opts[k].name); k++)
			;
		if (k == n)
			return false;
		if (opts[k].type == B_FLAG) {
			opt_set(&opts[k], NULL);
			continue;
		}
		if (++i == argc)
			return false;
		opt_set(&opts[k], argv[i]);
	}
	return true;
}

bool b_parse(struct b_common *c, unsigned int full_reps, const struct b_opt *extra,
	     size_t n, int argc, char **argv)
{
	struct b_opt opts[6 + B_EXTRA_MAX] = {
		{ "--smoke", "ZC_BENCH_SMOKE", B_FLAG, &c->smoke },
		{ "--big", "ZC_BENCH_BIG_MIB", B_U64, &c->big_mib },
		{ "--reps", "ZC_BENCH_REPS", B_UINT, &c->reps },
		{ "--out", "ZC_BENCH_OUT", B_STR, &c->out },
		{ "--dir", "ZC_BENCH_DIR", B_STR, &c->dir },
		{ "--pairs", "ZC_BENCH_PAIRS", B_STR, &c->pairs },
	};
	const char *tmp = getenv("T_TMPDIR");

	if (n > B_EXTRA_MAX)
		return false;
	memcpy(&opts[6], extra, n * sizeof(*extra));
	memset(c, 0, sizeof(*c));
	c->out = ".";
	c->dir = tmp && *tmp ? tmp : "/tmp";
	if (!opts_parse(opts, 6 + n, argc, argv))
		return false;
	if (!c->big_mib)
		c->big_mib = c->smoke ? 64 : 1024;
	if (!c->reps)
		c->reps = c->smoke ? 3 : full_reps;
	if (c->reps > B_REPS_MAX)
		c->reps = B_REPS_MAX;
	return true;
}
