/*
 * classify: the one module that talks to nDPI.
 *
 * Debian ships nDPI 4.2, whose API differs from nDPI's newest; keeping
 * every nDPI call here means a later upgrade touches one file.  The rest
 * of the gateway sees applications as numeric ids with names, and never
 * includes an nDPI header.
 *
 * One classifier per worker (nDPI's detection module is not thread-safe).
 * cg_classifier_new() must be called from one thread at a time: nDPI's
 * module initialisation must not run in parallel (ndpi_api.h).  Name
 * lookups only read the module and may be called from any thread.
 *
 * Domain block lists are never loaded into nDPI's own host automaton (it
 * costs ~1.25 KB per domain); they live in domainset.
 */
#ifndef CAFEGUARD_CLASSIFY_H
#define CAFEGUARD_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/name.h"

/* Application and category ids are below these bounds. */
#define CG_APP_MAX 512
#define CG_CATEGORY_MAX 128
#define CG_APP_UNKNOWN 0

struct cg_classifier;
struct cg_dpi_flow;

struct cg_dpi_result {
	uint16_t master;   /* e.g. TLS, DNS, HTTP; CG_APP_UNKNOWN if none */
	uint16_t proto;    /* e.g. Google, BitTorrent; may equal master */
	uint16_t category; /* nDPI category id */
	bool detected;     /* nDPI has an answer (final unless it refines) */
	/* A host name nDPI saw that our own parsers do not read (e.g. the
	 * STUN REALM attribute); canonical, empty if none. */
	char host[CG_NAME_BUF];
	size_t host_len;
};

/*
 * Creates a detection module with every protocol enabled and a pool of
 * max_flows flow states.  Returns NULL with err set on failure.
 */
struct cg_classifier *cg_classifier_new(uint32_t max_flows,
					struct cg_error *err);
void cg_classifier_free(struct cg_classifier *c);

/* A flow state from the pool, zeroed; NULL when the pool is empty. */
struct cg_dpi_flow *cg_classifier_flow_get(struct cg_classifier *c);
/* Returns a flow state to the pool, freeing what nDPI allocated in it. */
void cg_classifier_flow_put(struct cg_classifier *c, struct cg_dpi_flow *f);

/* Feeds one IP packet (l3[0..len)) of the flow. */
void cg_classifier_packet(struct cg_classifier *c, struct cg_dpi_flow *f,
			  const uint8_t *l3, size_t len, uint64_t now_ms,
			  struct cg_dpi_result *r);

/* Asks nDPI for its best answer when no more packets will be fed. */
void cg_classifier_giveup(struct cg_classifier *c, struct cg_dpi_flow *f,
			  struct cg_dpi_result *r);

/* Application id of an nDPI protocol name (case-insensitive), or -1. */
int cg_classifier_app_id(const struct cg_classifier *c, const char *name);
/* Category id of an nDPI category name (case-insensitive), or -1. */
int cg_classifier_category_id(const struct cg_classifier *c,
			      const char *name);

/* Name of an application id ("Unknown" for unknown ids). */
const char *cg_classifier_app_name(const struct cg_classifier *c,
				   uint16_t id);
const char *cg_classifier_category_name(const struct cg_classifier *c,
					uint16_t id);

/* "master.proto" as nDPI prints it ("TLS.Google", "DNS", "Unknown"). */
void cg_classifier_label(const struct cg_classifier *c, uint16_t master,
			 uint16_t proto, char *out, size_t outsz);

/* Number of application ids and the name of the id-th (for listings and
 * "did you mean" hints); names of unused ids are NULL. */
uint16_t cg_classifier_app_count(const struct cg_classifier *c);

/* The category nDPI files an application under (e.g. Game for
 * Fortnite). */
uint16_t cg_classifier_app_category(const struct cg_classifier *c,
				    uint16_t id);

/* Number of category ids (names via cg_classifier_category_name). */
uint16_t cg_classifier_category_count(const struct cg_classifier *c);

size_t cg_classifier_flow_size(void);

#endif
