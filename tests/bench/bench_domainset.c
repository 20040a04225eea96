/*
 * bench_domainset [-n] [-d DIR] LISTFILE [LISTFILE...]
 *
 * Lists at scale, in one run, for plain-text lists (format auto;
 * decompress them first):
 *
 *  - text: parse+add and freeze times into an in-memory domain set, its
 *    bytes per domain and the process RSS growth;
 *  - image: compile time (parse, build, write, fsync) and the write alone;
 *    load time of the image (open, mmap, validate) with the file in the
 *    page cache (warm) and after posix_fadvise(DONTNEED) dropped it
 *    (cold), and through cg_listimage_load's cache (sources checked);
 *    resident bytes per domain of the mapping (/proc/self/smaps Rss) right
 *    after loading and after a sweep of every query below;
 *  - lookups of 5-label names that hit (existing entries with labels
 *    prefixed) and that miss, 2^20 of each, with hashing (hash + lookup
 *    from the canonical name) and with hashes given, on the in-memory set
 *    and on the mapped image;
 *  - dnsmasq (/usr/sbin/dnsmasq, unless -n) on the same list in its native
 *    blocking forms, a conf file of address=/name/ lines and an addn-hosts
 *    file of "0.0.0.0 name" lines: time from exec to the first answer, on
 *    127.0.0.1 at a high port, that shows the list's last name blocked,
 *    and dnsmasq's RSS then.
 *
 * Timed figures are the best of ROUNDS rounds with the median and the
 * worst beside it (the machine may be shared).  Baselines measured in the
 * same run let figures be quoted as ratios on any machine: the CPU's speed
 * (dependent multiplies), hashing the query alone, and random reads from
 * an array as large as the set (independent: the memory system's
 * throughput; dependent: one cache miss's latency).
 *
 * -d DIR: where images are written (default: a new folder under /tmp,
 * removed at the end).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cafeguard/domainset.h"
#include "cafeguard/listfile.h"
#include "cafeguard/listimage.h"

#define QUERIES (1u << 20)
#define ROUNDS	5

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Names as one arena of NUL-terminated strings. */
struct names {
	char *text;
	size_t len, cap;
	uint32_t *off;
	size_t n, ncap;
};

static int names_add(void *ctx, enum cg_digest kind, const char *s, size_t len)
{
	struct names *v = ctx;
	if (kind != CG_DIGEST_NONE)
		return 0;
	if (v->len + len + 1 > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1 << 20;
		char *t = realloc(v->text, cap);
		if (!t)
			return -1;
		v->text = t;
		v->cap = cap;
	}
	if (v->n == v->ncap) {
		size_t cap = v->ncap ? v->ncap * 2 : 1 << 16;
		uint32_t *o = realloc(v->off, cap * sizeof(*o));
		if (!o)
			return -1;
		v->off = o;
		v->ncap = cap;
	}
	v->off[v->n++] = (uint32_t)v->len;
	memcpy(v->text + v->len, s, len);
	v->text[v->len + len] = '\0';
	v->len += len + 1;
	return 0;
}

/* Every name of the files again, for building queries (not timed). */
static int collect_names(int nfiles, char **files, struct names *v)
{
	for (int i = 0; i < nfiles; i++) {
		FILE *f = fopen(files[i], "r");
		if (!f) {
			perror(files[i]);
			return -1;
		}
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		while ((n = getline(&line, &cap, f)) > 0) {
			size_t len = (size_t)n;
			if (line[len - 1] == '\n')
				len--;
			if (cg_listfile_parse_line(line, len, CG_LIST_AUTO,
						   names_add, v,
						   NULL) == CG_LINE_ABORTED) {
				free(line);
				fclose(f);
				return -1;
			}
		}
		free(line);
		fclose(f);
	}
	return 0;
}

static size_t random_label(uint64_t *r, char *out, size_t min)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t l = min + rnd(r) % 6;
	for (size_t k = 0; k < l; k++)
		out[k] = cs[rnd(r) % (sizeof(cs) - 1)];
	return l;
}

static unsigned labels(const char *s)
{
	unsigned n = 1;
	for (; *s; s++)
		n += *s == '.';
	return n;
}

/*
 * 5-label queries: hits are entries with random labels prefixed (at
 * least one, so the match is by suffix); misses are random labels under
 * the TLD of an entry.
 */
static int make_queries(const struct names *v, uint64_t *r, bool hit,
			struct names *q)
{
	char buf[CG_NAME_BUF + 64];
	while (q->n < QUERIES) {
		const char *e = v->text + v->off[rnd(r) % v->n];
		size_t o = 0;
		if (hit) {
			unsigned have = labels(e);
			unsigned pre = have < 5 ? 5 - have : 1;
			for (unsigned k = 0; k < pre; k++) {
				o += random_label(r, buf + o, 3);
				buf[o++] = '.';
			}
			size_t el = strlen(e);
			if (o + el > CG_NAME_MAX)
				continue;
			memcpy(buf + o, e, el);
			o += el;
		} else {
			const char *tld = strrchr(e, '.');
			tld = tld ? tld + 1 : e;
			/* 12+ random characters: never a listed name */
			for (unsigned k = 0; k < 4; k++) {
				o += random_label(r, buf + o, 12);
				buf[o++] = '.';
			}
			size_t tl = strlen(tld);
			memcpy(buf + o, tld, tl);
			o += tl;
		}
		if (names_add(q, CG_DIGEST_NONE, buf, o) < 0)
			return -1;
	}
	return 0;
}

static double run_hash(const struct names *q, const uint8_t *len,
		       uint64_t *sink)
{
	struct cg_name_hashes nh;
	double t = now_s();
	for (size_t i = 0; i < q->n; i++) {
		cg_domainset_hash_name(q->text + q->off[i], len[i], &nh);
		*sink ^= nh.h[nh.n - 1];
	}
	return (now_s() - t) * 1e9 / (double)q->n;
}

static double run_lookup(const struct cg_domainset *s, const struct names *q,
			 const uint8_t *len, size_t *found)
{
	struct cg_domain_match m;
	size_t f = 0;
	double t = now_s();
	for (size_t i = 0; i < q->n; i++)
		f += cg_domainset_lookup_name(s, q->text + q->off[i], len[i],
					      &m);
	double ns = (now_s() - t) * 1e9 / (double)q->n;
	*found = f;
	return ns;
}

/* Lookups alone: queries hashed in batches beforehand, only the probing
 * timed (as the policy does: one hash, then every list). */
#define BATCH 128

static double run_probe(const struct cg_domainset *s, const struct names *q,
			const uint8_t *len, struct cg_name_hashes *nh,
			size_t *found)
{
	struct cg_domain_match m;
	size_t f = 0;
	double t = 0;
	for (size_t i = 0; i < q->n; i += BATCH) {
		size_t e = q->n - i < BATCH ? q->n : i + BATCH;
		for (size_t k = i; k < e; k++)
			cg_domainset_hash_name(q->text + q->off[k], len[k],
					       &nh[k - i]);
		double t0 = now_s();
		for (size_t k = i; k < e; k++)
			f += cg_domainset_lookup(s, &nh[k - i], &m);
		t += now_s() - t0;
	}
	*found = f;
	return t * 1e9 / (double)q->n;
}

/* Independent random 8-byte reads: what the memory system delivers when
 * many misses overlap. */
static double run_memory(const uint64_t *arr, const uint32_t *idx, size_t nidx,
			 uint64_t *sink)
{
	uint64_t x = 0;
	double t = now_s();
	for (size_t i = 0; i < nidx; i++)
		x += arr[idx[i]];
	double ns = (now_s() - t) * 1e9 / (double)nidx;
	*sink ^= x;
	return ns;
}

/* Dependent random reads (each address comes from the previous read):
 * the latency one isolated cache miss costs in an array this large. */
static double run_latency(const uint64_t *chain, size_t n, uint64_t *sink)
{
	uint64_t p = 0;
	double t = now_s();
	for (size_t i = 0; i < n; i++)
		p = chain[p];
	double ns = (now_s() - t) * 1e9 / (double)n;
	*sink ^= p;
	return ns;
}

/* CPU speed in this run: a chain of dependent 64-bit multiplies (3
 * cycles each on current x86 cores), so other figures convert to cycles
 * when the machine is shared or throttled. */
static double run_mul(uint64_t *sink)
{
	uint64_t x = *sink | 1;
	const size_t n = 1u << 24;
	double t = now_s();
	for (size_t i = 0; i < n; i++)
		x *= 0x9e3779b97f4a7c15ULL;
	double ns = (now_s() - t) * 1e9 / (double)n;
	*sink ^= x;
	return ns;
}

/* ---- rounds --------------------------------------------------------- */

struct runs {
	double v[16];
	int n;
};

static void put(struct runs *r, double x)
{
	if (r->n < 16)
		r->v[r->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double best(const struct runs *r)
{
	double m = r->v[0];
	for (int i = 1; i < r->n; i++)
		m = r->v[i] < m ? r->v[i] : m;
	return m;
}

/* "best (median, worst)" */
static const char *spread(const struct runs *r, char *buf, size_t size)
{
	double v[16];
	memcpy(v, r->v, sizeof(v));
	qsort(v, (size_t)r->n, sizeof(*v), cmp_double);
	/* Three significant digits or so, whatever the magnitude. */
	int p = v[0] < 1 ? 3 : v[0] < 10 ? 2 : 1;
	snprintf(buf, size, "%7.*f (median %.*f, worst %.*f)", p, v[0], p,
		 v[r->n / 2], p, v[r->n - 1]);
	return buf;
}

/* ---- memory of a mapping -------------------------------------------- */

/* Rss of the mapping that holds addr, from /proc/self/smaps; its bounds
 * in *start, *len. */
static size_t mapping_rss(const void *addr, uintptr_t *start, size_t *len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return 0;
	char line[512];
	bool in = false;
	size_t rss = 0;
	uintptr_t a = (uintptr_t)addr;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		/* "lo-hi perms ..." starts a mapping; fields are "Name:" */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = a >= lo && a < hi;
			if (in) {
				*start = lo;
				*len = hi - lo;
			}
			continue;
		}
		unsigned long kb;
		if (in && sscanf(line, "Rss: %lu kB", &kb) == 1) {
			rss = kb * 1024;
			break;
		}
	}
	fclose(f);
	return rss;
}

/* Bytes of [start, start + len) in the page cache (mincore). */
static size_t in_cache(uintptr_t start, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE),
	       n = (len + page - 1) / page;
	unsigned char *vec = malloc(n ? n : 1);
	size_t res = 0;
	if (vec && mincore((void *)start, len, vec) == 0)
		for (size_t i = 0; i < n; i++)
			res += vec[i] & 1;
	free(vec);
	return res * page;
}

static int drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fdatasync(fd) == 0 &&
			 posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0
		     ? 0
		     : -1;
	close(fd);
	return rc;
}

/* ---- lookups -------------------------------------------------------- */

struct queries {
	struct names hits, misses;
	uint8_t *hlen, *mlen;
};

struct lookup_figures {
	struct runs lh, lm, ph, pm;
	size_t fh, fm, fph, fpm;
};

static void lookups(const struct cg_domainset *s, const struct queries *q,
		    struct cg_name_hashes *nh, struct lookup_figures *f, int k)
{
	(void)k;
	put(&f->lh, run_lookup(s, &q->hits, q->hlen, &f->fh));
	put(&f->lm, run_lookup(s, &q->misses, q->mlen, &f->fm));
	put(&f->ph, run_probe(s, &q->hits, q->hlen, nh, &f->fph));
	put(&f->pm, run_probe(s, &q->misses, q->mlen, nh, &f->fpm));
}

static void print_lookups(const char *what, const struct lookup_figures *f,
			  double lat, double hh, double hm)
{
	char b[96];
	printf("%s\n", what);
	printf("  hash+lookup hit  %s ns (%.2fx latency, %.1fx hash); "
	       "found %zu\n",
	       spread(&f->lh, b, sizeof(b)), best(&f->lh) / lat,
	       best(&f->lh) / hh, f->fh);
	printf("  hash+lookup miss %s ns (%.2fx latency, %.1fx hash); "
	       "found %zu\n",
	       spread(&f->lm, b, sizeof(b)), best(&f->lm) / lat,
	       best(&f->lm) / hm, f->fm);
	printf("  probe hit        %s ns, hashes given (%.2fx latency)\n",
	       spread(&f->ph, b, sizeof(b)), best(&f->ph) / lat);
	printf("  probe miss       %s ns, hashes given (%.2fx latency)\n",
	       spread(&f->pm, b, sizeof(b)), best(&f->pm) / lat);
}

/* What a digest lookup adds: one digest per label suffix, on the first
 * 2^16 hit queries. */
static double run_digest(struct cg_digest_scratch *ds, enum cg_digest kind,
			 const struct names *q, const uint8_t *len,
			 uint64_t *sink)
{
	struct cg_name_hashes nh;
	size_t n = q->n < 65536 ? q->n : 65536;
	double t = now_s();
	for (size_t i = 0; i < n; i++) {
		cg_domainset_digest_name(ds, kind, q->text + q->off[i], len[i],
					 &nh);
		*sink ^= nh.n ? nh.h[0] : 0;
	}
	return (now_s() - t) * 1e9 / (double)n;
}

/* ---- dnsmasq -------------------------------------------------------- */

#define DNSMASQ "/usr/sbin/dnsmasq"

/* A query for name, type A, id 0x4347. */
static size_t dns_query(const char *name, uint8_t *out, size_t cap)
{
	static const uint8_t hdr[] = {0x43, 0x47, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t o = sizeof(hdr);
	memcpy(out, hdr, o);
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (o + l + 8 > cap)
			return 0;
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p += l + (dot != NULL);
	}
	out[o++] = 0;
	out[o++] = 0;
	out[o++] = 1; /* A */
	out[o++] = 0;
	out[o++] = 1; /* IN */
	return o;
}

static size_t pid_rss(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	size_t kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %zu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

/*
 * Starts dnsmasq with extra (an option naming the list), and returns the
 * seconds from exec to the first answer to a query for name that shows it
 * blocked (NXDOMAIN for address=/name/, 0.0.0.0 for a hosts entry);
 * *rss is dnsmasq's RSS then.  -1 on failure.
 */
static double dnsmasq_run(const char *extra, const char *name, int port,
			  const char *log, size_t *rss)
{
	uint8_t q[300], a[600];
	size_t qlen = dns_query(name, q, sizeof(q));
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!qlen || s < 0)
		return -1;
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	char portopt[32];
	snprintf(portopt, sizeof(portopt), "--port=%d", port);
	double t0 = now_s();
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(DNSMASQ, DNSMASQ, "--no-daemon", "--no-resolv",
		      "--no-hosts", "--bind-interfaces",
		      "--listen-address=127.0.0.1", portopt, "--cache-size=0",
		      extra, (char *)NULL);
		_exit(127);
	}
	double t = -1;
	while (pid > 0 && now_s() - t0 < 120) {
		sendto(s, q, qlen, 0, (struct sockaddr *)&to, sizeof(to));
		struct pollfd pfd = {.fd = s, .events = POLLIN};
		if (poll(&pfd, 1, 2) == 1) {
			ssize_t n = recv(s, a, sizeof(a), 0);
			/* NXDOMAIN, or an answer (0.0.0.0) */
			if (n >= 12 && a[0] == 0x43 && a[1] == 0x47 &&
			    ((a[3] & 15) == 3 || (a[7] && (a[3] & 15) == 0))) {
				t = now_s() - t0;
				*rss = pid_rss(pid);
				break;
			}
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pid = -1; /* exited: bad option, port in use */
			break;
		}
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	close(s);
	return t;
}

static void dnsmasq_bench(const struct names *v, const char *dir)
{
	char conf[512], hosts[512], log[512], opt[600];
	snprintf(conf, sizeof(conf), "%s/dnsmasq-block.conf", dir);
	snprintf(hosts, sizeof(hosts), "%s/dnsmasq-block.hosts", dir);
	snprintf(log, sizeof(log), "%s/dnsmasq.log", dir);
	FILE *fc = fopen(conf, "w"), *fh = fopen(hosts, "w");
	if (!fc || !fh) {
		perror("dnsmasq files");
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		fprintf(fc, "address=/%s/\n", v->text + v->off[i]);
		fprintf(fh, "0.0.0.0 %s\n", v->text + v->off[i]);
	}
	fclose(fc);
	fclose(fh);
	const char *last = v->text + v->off[v->n - 1];
	struct {
		const char *what, *opt, *file;
	} forms[] = {
	    {"conf, address=/name/", "--conf-file=", conf},
	    {"addn-hosts, 0.0.0.0 name", "--addn-hosts=", hosts},
	};
	int port = 40000 + (int)(getpid() % 20000);
	for (size_t f = 0; f < 2; f++) {
		snprintf(opt, sizeof(opt), "%s%s", forms[f].opt, forms[f].file);
		struct runs r = {0};
		size_t rss = 0;
		for (int k = 0; k < 3; k++) {
			double t = -1;
			for (int tries = 0; t < 0 && tries < 5; tries++)
				t = dnsmasq_run(opt, last, port++, log, &rss);
			if (t < 0) {
				fprintf(stderr, "dnsmasq failed, see %s\n",
					log);
				return;
			}
			put(&r, t * 1e3);
		}
		char b[96];
		printf("dnsmasq %-24s %s ms exec to first answer; RSS "
		       "%.1f MB (%.1f B/domain)\n",
		       forms[f].what, spread(&r, b, sizeof(b)),
		       (double)rss / 1e6, (double)rss / (double)v->n);
	}
	unlink(conf);
	unlink(hosts);
	unlink(log);
}

/* ---- main ----------------------------------------------------------- */

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-n] [-d DIR] LISTFILE [LISTFILE...]\n",
		argv0);
	return 2;
}

int main(int argc, char **argv)
{
	bool with_dnsmasq = true;
	const char *dir = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "nd:")) != -1) {
		if (opt == 'n')
			with_dnsmasq = false;
		else if (opt == 'd')
			dir = optarg;
		else
			return usage(argv[0]);
	}
	int nfiles = argc - optind;
	char **files = argv + optind;
	if (nfiles < 1 || nfiles > (int)CG_DOMAINSET_SOURCES)
		return usage(argv[0]);
	char tmpdir[] = "/tmp/bench_domainset_XXXXXX";
	if (!dir && !(dir = mkdtemp(tmpdir))) {
		perror("mkdtemp");
		return 1;
	}

	/* Text into an in-memory set. */
	size_t rss0 = rss_bytes();
	struct cg_diag d = {0};
	struct cg_listfile_stats st, sum = {0};
	double t0 = now_s();
	struct cg_domainset_builder *b = cg_domainset_builder_new();
	if (!b)
		return 1;
	struct cg_domainset_builder *bs[CG_DIGEST__COUNT] = {b};
	for (int i = 0; i < nfiles; i++) {
		if (cg_listfile_load(files[i], CG_LIST_AUTO, bs, (uint16_t)i,
				     &d, &st) < 0) {
			cg_diag_print(&d, stderr);
			cg_domainset_builder_free(b);
			return 1;
		}
		sum.lines += st.lines;
		sum.entries += st.entries;
		sum.duplicates += st.duplicates;
		sum.skipped += st.skipped;
	}
	double t1 = now_s();
	struct cg_error err;
	struct cg_domainset *s = cg_domainset_build(b, &err);
	if (!s) {
		fprintf(stderr, "build: %s\n", err.msg);
		return 1;
	}
	double t2 = now_s();
	size_t rss1 = rss_bytes();
	/* What the allocator keeps of the builder's memory is not the set's:
	 * give it back and measure again. */
	malloc_trim(0);
	size_t rss2 = rss_bytes();
	cg_diag_clear(&d);

	size_t n = cg_domainset_count(s), bytes = cg_domainset_bytes(s);
	double per = (double)(n ? n : 1);
	printf("lines            %zu (%zu skipped, %zu duplicates)\n",
	       sum.lines, sum.skipped, sum.duplicates);
	printf("entries          %zu\n", n);
	printf("text: parse+add  %.1f ms (%.0f ns/line)\n", (t1 - t0) * 1e3,
	       (t1 - t0) * 1e9 / (double)(sum.lines ? sum.lines : 1));
	printf("text: freeze     %.1f ms\n", (t2 - t1) * 1e3);
	printf("text: load total %.1f ms\n", (t2 - t0) * 1e3);
	printf("set bytes        %zu (%.2f MB, %.2f bytes/domain)\n", bytes,
	       (double)bytes / 1e6, (double)bytes / per);
	printf("RSS growth       %.2f MB (%.2f bytes/domain); %.2f MB after "
	       "malloc_trim\n",
	       (double)(rss1 - rss0) / 1e6, (double)(rss1 - rss0) / per,
	       (double)(rss2 - rss0) / 1e6);

	/* Compiling: the whole, and the write alone. */
	char img[512], tmp[512];
	snprintf(img, sizeof(img), "%s/bench.img", dir);
	snprintf(tmp, sizeof(tmp), "%s/bench.set", dir);
	struct cg_listimage_info info;
	t0 = now_s();
	if (cg_listimage_compile((const char *const *)files, (size_t)nfiles,
				 CG_LIST_AUTO, img, &d, &info) < 0) {
		cg_diag_print(&d, stderr);
		return 1;
	}
	double tc = now_s() - t0;
	cg_diag_clear(&d);
	struct runs wr = {0};
	for (int k = 0; k < ROUNDS; k++) {
		int fd =
		    open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		t0 = now_s();
		if (fd < 0 || cg_domainset_write(s, fd, &err) < 0 ||
		    fsync(fd) < 0) {
			perror(tmp);
			return 1;
		}
		put(&wr, (now_s() - t0) * 1e3);
		close(fd);
	}
	unlink(tmp);
	char sb1[96], sb2[96];
	printf("compile          %.1f ms (parse, build, write, fsync); "
	       "image %zu bytes\n",
	       tc * 1e3, info.image_bytes);
	printf("  write+fsync    %s ms (the set's image alone)\n",
	       spread(&wr, sb1, sizeof(sb1)));

	/* Loading the image. */
	struct runs warm = {0}, cold = {0}, cached = {0};
	for (int k = 0; k < 2 * ROUNDS; k++) {
		t0 = now_s();
		struct cg_listimage *im = cg_listimage_open(img, &err);
		put(&warm, (now_s() - t0) * 1e3);
		if (!im) {
			fprintf(stderr, "%s: %s\n", img, err.msg);
			return 1;
		}
		cg_listimage_free(im);
	}
	bool cold_ok = true;
	for (int k = 0; k < ROUNDS && cold_ok; k++) {
		cold_ok = drop_cache(img) == 0;
		t0 = now_s();
		struct cg_listimage *im = cg_listimage_open(img, &err);
		put(&cold, (now_s() - t0) * 1e3);
		cg_listimage_free(im);
	}
	struct cg_listimage *im =
	    cg_listimage_load((const char *const *)files, (size_t)nfiles,
			      CG_LIST_AUTO, dir, &d, &info);
	for (int k = 0; k < 2 * ROUNDS && im; k++) {
		cg_listimage_free(im);
		cg_diag_clear(&d);
		im = cg_listimage_load((const char *const *)files,
				       (size_t)nfiles, CG_LIST_AUTO, dir, &d,
				       &info);
		put(&cached, info.load_ms);
	}
	if (!im || !info.from_cache) {
		cg_diag_print(&d, stderr);
		return 1;
	}
	cg_diag_clear(&d);
	printf("image load warm  %s ms (open, mmap, validate)\n",
	       spread(&warm, sb1, sizeof(sb1)));
	if (cold_ok)
		printf("image load cold  %s ms (page cache dropped first)\n",
		       spread(&cold, sb2, sizeof(sb2)));
	else
		printf("image load cold  (posix_fadvise failed)\n");
	printf("via cache        %s ms (cg_listimage_load: sources "
	       "checked, image mapped)\n",
	       spread(&cached, sb1, sizeof(sb1)));

	const struct cg_domainset *ms = cg_listimage_set(im, CG_DIGEST_NONE);
	uintptr_t mstart = 0;
	size_t mlen = 0;
	size_t rss_mapped = mapping_rss(cg_domainset_image(ms), &mstart, &mlen);
	size_t cached_bytes = in_cache(mstart, mlen);

	/* Queries. */
	struct names v = {0};
	struct queries q = {0};
	uint64_t r = 0x1234567;
	if (collect_names(nfiles, files, &v) < 0 || !v.n ||
	    make_queries(&v, &r, true, &q.hits) < 0 ||
	    make_queries(&v, &r, false, &q.misses) < 0) {
		fprintf(stderr, "cannot build queries\n");
		return 1;
	}
	q.hlen = malloc(QUERIES);
	q.mlen = malloc(QUERIES);
	size_t words = bytes / 8 ? bytes / 8 : 1;
	uint64_t *arr = calloc(words, sizeof(*arr));
	uint32_t *idx = malloc(QUERIES * sizeof(*idx));
	if (!q.hlen || !q.mlen || !arr || !idx)
		return 1;
	for (size_t i = 0; i < QUERIES; i++) {
		q.hlen[i] = (uint8_t)strlen(q.hits.text + q.hits.off[i]);
		q.mlen[i] = (uint8_t)strlen(q.misses.text + q.misses.off[i]);
		idx[i] = (uint32_t)(rnd(&r) % words);
	}
	/* arr as one random cycle through cache lines (8 words apart), for
	 * the latency chain; the independent reads only need its memory. */
	size_t lines = words / 8 ? words / 8 : 1;
	uint32_t *perm = malloc(lines * sizeof(*perm));
	if (!perm)
		return 1;
	for (size_t i = 0; i < lines; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = lines - 1; i > 0; i--) {
		size_t j = rnd(&r) % (i + 1);
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < lines; i++)
		arr[(size_t)perm[i] * 8] = (uint64_t)perm[(i + 1) % lines] * 8;
	free(perm);

	struct cg_name_hashes *nh = malloc(BATCH * sizeof(*nh));
	if (!nh)
		return 1;
	uint64_t sink = 0;
	struct runs hh = {0}, hm = {0}, mem = {0}, lat = {0}, mul = {0};
	struct lookup_figures fs = {0}, fi = {0};
	size_t rss_swept = 0;
	for (int k = 0; k < ROUNDS; k++) {
		put(&hh, run_hash(&q.hits, q.hlen, &sink));
		put(&hm, run_hash(&q.misses, q.mlen, &sink));
		lookups(s, &q, nh, &fs, k);
		lookups(ms, &q, nh, &fi, k);
		if (!k)
			rss_swept =
			    mapping_rss(cg_domainset_image(ms), &mstart, &mlen);
		put(&mem, run_memory(arr, idx, QUERIES, &sink));
		put(&lat, run_latency(arr, QUERIES / 4, &sink));
		put(&mul, run_mul(&sink));
	}
	free(nh);
	printf("image resident   %.2f MB (%.2f B/domain) mapped after load, "
	       "%.2f MB (%.2f B/domain) after a sweep of all queries; "
	       "%.2f MB of %.2f in the page cache\n",
	       (double)rss_mapped / 1e6, (double)rss_mapped / per,
	       (double)rss_swept / 1e6, (double)rss_swept / per,
	       (double)cached_bytes / 1e6, (double)mlen / 1e6);
	printf("queries          %u hits, %u misses (5 labels; %d rounds: "
	       "best (median, worst))\n",
	       QUERIES, QUERIES, ROUNDS);
	printf("baseline cpu     %s ns per dependent multiply\n",
	       spread(&mul, sb1, sizeof(sb1)));
	printf("baseline hash    %s ns/query (hits)\n",
	       spread(&hh, sb1, sizeof(sb1)));
	printf("baseline hash    %s ns/query (misses)\n",
	       spread(&hm, sb1, sizeof(sb1)));
	printf("baseline memory  %s ns per independent random read in "
	       "%.1f MB\n",
	       spread(&mem, sb1, sizeof(sb1)), (double)bytes / 1e6);
	printf("baseline latency %s ns per dependent random read\n",
	       spread(&lat, sb1, sizeof(sb1)));
	struct cg_digest_scratch *ds = cg_digest_scratch_new();
	for (int k = CG_DIGEST_MD5; ds && k < CG_DIGEST__COUNT; k++) {
		struct runs dr = {0};
		for (int i = 0; i < ROUNDS; i++)
			put(&dr, run_digest(ds, (enum cg_digest)k, &q.hits,
					    q.hlen, &sink));
		printf("digest %-9s %s ns/query (5-label hits: a digest "
		       "per suffix)\n",
		       cg_digest_name((enum cg_digest)k),
		       spread(&dr, sb1, sizeof(sb1)));
	}
	cg_digest_scratch_free(ds);
	print_lookups("in-memory set (built from text)", &fs, best(&lat),
		      best(&hh), best(&hm));
	print_lookups("mapped image (cg_listimage_load from the cache)", &fi,
		      best(&lat), best(&hh), best(&hm));
	printf("(sink %llu)\n", (unsigned long long)(sink & 1));

	if (with_dnsmasq)
		dnsmasq_bench(&v, dir);

	cg_listimage_free(im);
	free(q.hlen);
	free(q.mlen);
	free(arr);
	free(idx);
	free(v.text);
	free(v.off);
	free(q.hits.text);
	free(q.hits.off);
	free(q.misses.text);
	free(q.misses.off);
	cg_domainset_free(s);
	if (dir == tmpdir) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return 0;
}
