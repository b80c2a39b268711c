// SPDX-License-Identifier: GPL-2.0
/*
 * tpmworker.c: the TPM's thread (tpmworker.h).  Two lists under one mutex:
 * jobs (the loop appends, the worker takes from the head) and results (the
 * worker appends, the loop takes all).  A condition variable wakes the
 * worker; an eventfd wakes the loop.
 *
 * Owns: the attester while running, the lists.  Calls: attester, pthread,
 * eventfd, log.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "tpmworker.h"

struct job_node {
	struct katt_quote_job *job;
	struct job_node *next;
};

struct katt_tpmworker {
	struct katt_attester *a;
	pthread_t thread;
	int efd;
	uint8_t *buf;			/* the worker's answer buffer */
	pthread_mutex_t lock;
	/* protected by lock: the next 6 fields */
	pthread_cond_t wake;
	bool stop;
	struct job_node *jobs, **jobs_tail;
	unsigned int njobs;
	struct katt_quote_result *results, **results_tail;
};

static void answer(struct katt_tpmworker *w, struct katt_quote_job *job)
{
	struct katt_quote_result *r = calloc(1, sizeof(*r));
	enum katt_msg_type type = KATT_MSG_ERROR;
	long len;

	len = katt_attester_answer(w->a, &job->challenge, &job->binding,
				   w->buf, KATT_MSG_MAX, &type);
	if (!r) {
		katt_err("tpm worker: out of memory, answer to cookie %#" PRIx64 " lost",
			 job->cookie);
		return;
	}
	r->id = job->id;
	r->cookie = job->cookie;
	r->round = job->round;
	r->type = type;
	r->len = len;
	if (len > 0) {
		r->msg = malloc(len);
		if (r->msg)
			memcpy(r->msg, w->buf, len);
		else
			r->len = -ENOMEM;
	}

	pthread_mutex_lock(&w->lock);
	*w->results_tail = r;
	w->results_tail = &r->next;
	pthread_mutex_unlock(&w->lock);
	if (eventfd_write(w->efd, 1))
		katt_err("tpm worker: eventfd: %s", strerror(errno));
}

static void *run(void *arg)
{
	struct katt_tpmworker *w = arg;
	struct job_node *n;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (!w->stop && !w->jobs)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		n = w->jobs;
		w->jobs = n->next;
		if (!w->jobs)
			w->jobs_tail = &w->jobs;
		w->njobs--;
		pthread_mutex_unlock(&w->lock);

		answer(w, n->job);
		katt_quote_job_free(n->job);
		free(n);
	}
}

int katt_tpmworker_start(struct katt_attester *a, struct katt_tpmworker **out)
{
	struct katt_tpmworker *w;
	int ret;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->a = a;
	w->jobs_tail = &w->jobs;
	w->results_tail = &w->results;
	w->buf = malloc(KATT_MSG_MAX);
	if (!w->buf) {
		ret = -ENOMEM;
		goto out_free;
	}
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		ret = -errno;
		goto out_free;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	ret = -pthread_create(&w->thread, NULL, run, w);
	if (ret)
		goto out_close;
	*out = w;
	return 0;

out_close:
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	close(w->efd);
out_free:
	free(w->buf);
	free(w);
	return ret;
}

int katt_tpmworker_fd(const struct katt_tpmworker *w)
{
	return w->efd;
}

void katt_tpmworker_submit(struct katt_tpmworker *w,
			   struct katt_quote_job *job)
{
	struct job_node *n = calloc(1, sizeof(*n));

	if (!n) {
		/* answered as a TPM failure: the session fails closed */
		struct katt_quote_result *r = calloc(1, sizeof(*r));

		katt_err("tpm worker: out of memory for a job");
		if (r) {
			r->id = job->id;
			r->cookie = job->cookie;
			r->round = job->round;
			r->len = -ENOMEM;
			pthread_mutex_lock(&w->lock);
			*w->results_tail = r;
			w->results_tail = &r->next;
			pthread_mutex_unlock(&w->lock);
			eventfd_write(w->efd, 1);
		}
		katt_quote_job_free(job);
		return;
	}
	n->job = job;
	pthread_mutex_lock(&w->lock);
	*w->jobs_tail = n;
	w->jobs_tail = &n->next;
	w->njobs++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

struct katt_quote_result *katt_tpmworker_results(struct katt_tpmworker *w)
{
	struct katt_quote_result *r;
	eventfd_t v;

	eventfd_read(w->efd, &v);	/* EAGAIN when already read: fine */
	pthread_mutex_lock(&w->lock);
	r = w->results;
	w->results = NULL;
	w->results_tail = &w->results;
	pthread_mutex_unlock(&w->lock);
	return r;
}

void katt_quote_result_free(struct katt_quote_result *r)
{
	while (r) {
		struct katt_quote_result *next = r->next;

		free(r->msg);
		free(r);
		r = next;
	}
}

unsigned int katt_tpmworker_backlog(struct katt_tpmworker *w)
{
	unsigned int n;

	pthread_mutex_lock(&w->lock);
	n = w->njobs;
	pthread_mutex_unlock(&w->lock);
	return n;
}

struct katt_attester *katt_tpmworker_stop(struct katt_tpmworker *w)
{
	struct katt_attester *a;
	struct job_node *n;

	if (!w)
		return NULL;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);

	while ((n = w->jobs)) {
		w->jobs = n->next;
		katt_quote_job_free(n->job);
		free(n);
	}
	katt_quote_result_free(w->results);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	close(w->efd);
	free(w->buf);
	a = w->a;
	free(w);
	return a;
}
