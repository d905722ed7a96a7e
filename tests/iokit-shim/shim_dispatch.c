/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * shim_dispatch.c - TEST DOUBLE of the libdispatch calls the IOKit backend
 * makes: a serial queue is a thread running work items in order.
 */
#include <stdlib.h>

#include "shim_int.h"

struct item {
	struct item *next;
	dispatch_function_t fn;
	void *ctx;
	bool stop;
	/* dispatch_sync_f: the caller waits for done */
	bool sync, done;
};

struct dispatch_queue_s {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* work queued, or a sync item done */
	struct item *head, *tail;
};

static void *queue_thread(void *arg)
{
	struct dispatch_queue_s *q = arg;

	for (;;) {
		struct item *it;

		pthread_mutex_lock(&q->lock);
		while (!q->head)
			pthread_cond_wait(&q->cond, &q->lock);
		it = q->head;
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);

		if (it->stop) {
			free(it);
			return NULL;
		}
		if (it->fn)
			it->fn(it->ctx);
		if (it->sync) {
			pthread_mutex_lock(&q->lock);
			it->done = true;
			pthread_cond_broadcast(&q->cond);
			pthread_mutex_unlock(&q->lock);
		} else {
			free(it);
		}
	}
}

static void enqueue(struct dispatch_queue_s *q, struct item *it)
{
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

dispatch_queue_t dispatch_queue_create(const char *label,
				       dispatch_queue_attr_t attr)
{
	struct dispatch_queue_s *q = calloc(1, sizeof(*q));

	(void)label;
	(void)attr;
	if (!q)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	if (pthread_create(&q->thread, NULL, queue_thread, q)) {
		free(q);
		return NULL;
	}
	return q;
}

void shim_queue_async(dispatch_queue_t q, void *ctx, dispatch_function_t fn)
{
	struct item *it = calloc(1, sizeof(*it));

	if (!it)
		abort();	/* a test double may give up on OOM */
	it->fn = fn;
	it->ctx = ctx;
	enqueue(q, it);
}

void dispatch_sync_f(dispatch_queue_t q, void *context,
		     dispatch_function_t work)
{
	struct item it = { .fn = work, .ctx = context, .sync = true };

	enqueue(q, &it);
	pthread_mutex_lock(&q->lock);
	while (!it.done)
		pthread_cond_wait(&q->cond, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

/* The last reference: what was queued still runs, then the thread ends. */
void dispatch_release(dispatch_object_t object)
{
	struct dispatch_queue_s *q = object._dq;
	struct item *it = calloc(1, sizeof(*it));

	if (!q || !it)
		abort();
	it->stop = true;
	enqueue(q, it);
	pthread_join(q->thread, NULL);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
}
