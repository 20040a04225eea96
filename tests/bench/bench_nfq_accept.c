/*
 * The baseline for forwarding benchmarks: every packet through the same
 * queue code the daemon uses (batched verdicts, GSO, big buffers), and
 * every packet accepted without a look.  The difference between this and
 * plain forwarding is the price of the queue itself; the difference
 * between this and cafeguardd is the price of inspection (which the
 * daemon mostly avoids by handing decided connections to the kernel).
 *
 *   bench_nfq_accept FIRST_QUEUE COUNT     (runs until SIGTERM/SIGINT)
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/nfqueue.h"

struct ctx {
	struct cg_nfq *q;
	const atomic_bool *stop;
	uint64_t bytes;
	struct cg_error err;
	int failed;
};

static enum cg_action accept_all(void *arg, const uint8_t *l3, size_t caplen,
				 size_t wirelen, const struct cg_pkt_meta *meta)
{
	struct ctx *c = arg;
	(void)l3;
	(void)caplen;
	(void)meta;
	c->bytes += wirelen;
	return CG_PASS;
}

static void *run(void *arg)
{
	struct ctx *c = arg;
	if (cg_nfq_run(c->q, accept_all, NULL, c, c->stop, &c->err) < 0)
		c->failed = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_nfq_accept FIRST_QUEUE COUNT\n");
		return 2;
	}
	int first = atoi(argv[1]), n = atoi(argv[2]);
	if (first < 0 || first > 65535 || n < 1 || n > 64) {
		fprintf(stderr, "bench_nfq_accept: bad queue numbers\n");
		return 2;
	}
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	atomic_bool stop;
	atomic_init(&stop, false);
	struct ctx c[64];
	pthread_t th[64];
	memset(c, 0, sizeof(c));
	for (int i = 0; i < n; i++) {
		struct cg_nfq_opts o = {
			.queue = (uint16_t)(first + i),
			.maxlen = 4096,
			.copy_range = 65535,
			.batch = 32,
			.fail_open = true,
		};
		c[i].stop = &stop;
		c[i].q = cg_nfq_open(&o, &c[i].err);
		if (!c[i].q) {
			fprintf(stderr, "bench_nfq_accept: %s\n", c[i].err.msg);
			return 1;
		}
	}
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, run, &c[i]);
	printf("ready\n");
	fflush(stdout);
	int sig;
	sigwait(&sigs, &sig);
	atomic_store(&stop, true);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		struct cg_nfq_stats st;
		cg_nfq_stats(c[i].q, &st);
		uint64_t qd = 0, ud = 0;
		cg_nfq_kernel_drops((uint16_t)(first + i), &qd, &ud);
		printf("queue %d: %llu packets in %llu batches, %llu bytes, "
		       "kernel dropped %llu (queue full) %llu (socket full)\n",
		       first + i, (unsigned long long)st.packets,
		       (unsigned long long)st.batches,
		       (unsigned long long)c[i].bytes,
		       (unsigned long long)qd, (unsigned long long)ud);
		if (c[i].failed) {
			fprintf(stderr, "queue %d: %s\n", first + i,
				c[i].err.msg);
			rc = 1;
		}
		cg_nfq_close(c[i].q);
	}
	return rc;
}
