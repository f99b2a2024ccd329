/* SPDX-License-Identifier: MIT */
/* CPU-bound work on several threads: each takes the next index until none is left. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "parallel.h"

struct pool {
	void (*fn)(void *arg, size_t i);
	void *arg;
	size_t n;
	atomic_size_t next;
};

static void *worker(void *p)
{
	struct pool *pool = p;

	for (;;) {
		size_t i = atomic_fetch_add(&pool->next, 1);

		if (i >= pool->n)
			return NULL;
		pool->fn(pool->arg, i);
	}
}

void pbx_parallel_for(size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	struct pool pool = { .fn = fn, .arg = arg, .n = n };
	pthread_t th[PBX_PARALLEL_MAX_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cpus > 0 ? (size_t)cpus : 1, started = 0;

	atomic_init(&pool.next, 0);
	if (want > PBX_PARALLEL_MAX_THREADS)
		want = PBX_PARALLEL_MAX_THREADS;
	if (want > n)
		want = n;
	for (size_t i = 1; i < want; i++)
		if (pthread_create(&th[started], NULL, worker, &pool) == 0)
			started++;
	worker(&pool);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}
