/*
 * config: the gateway's configuration file (libconfig syntax), parsed and
 * checked into plain values.
 *
 * Every problem is reported with the file and line libconfig gives for the
 * setting ("conf/cafeguard.conf:12: queue.count: must be 0..64"); all of
 * them are reported, then the load fails.  Unknown keys are errors: a
 * misspelt key silently ignored is a rule that silently does nothing.
 * Relative paths are resolved against the configuration file's directory,
 * so a rule set can be moved as a whole.
 *
 * Names that need the running system to check (nDPI application names,
 * list files on disk) are checked when the rules are built (rules.h), with
 * the file and line recorded here.
 */
#ifndef CAFEGUARD_CONFIG_H
#define CAFEGUARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/diag.h"
#include "cafeguard/listfile.h"

#define CG_IFNAME_MAX 16 /* IFNAMSIZ */
#define CG_QUEUE_MAX_COUNT 64

enum cg_fw_backend {
	CG_FW_AUTO = 0, /* whatever "iptables-restore" is on this system */
	CG_FW_NFT,      /* iptables-nft-restore */
	CG_FW_LEGACY,   /* iptables-legacy-restore */
};

/* A name used in the config, with where it was written. */
struct cg_config_ref {
	char *name;
	char *file; /* the file it was written in (an @include or the main) */
	unsigned line;
};

struct cg_config_list {
	char *name;
	char **files;     /* absolute or relative to the config's directory */
	size_t nfiles;
	enum cg_list_format format;
	char *file;       /* where the list was declared */
	unsigned line;
};

struct cg_config {
	char *path; /* the configuration file as given */
	char *dir;  /* its directory, for relative paths */

	/* gateway */
	char lan[CG_IFNAME_MAX];
	char wan[CG_IFNAME_MAX]; /* "" = any */
	bool fail_open;
	enum cg_fw_backend firewall;
	uint32_t mark_mask;      /* two bits owned by the gateway */
	uint32_t mark_allow, mark_block, mark_watch; /* derived */

	/* queue */
	uint16_t queue_first;
	uint16_t queue_count;    /* 0 in the file = one per core (resolved) */
	uint32_t queue_length;
	uint32_t copy_range;
	uint32_t batch;

	/* inspect (per worker) */
	uint32_t max_flows;
	uint32_t idle_timeout_s;
	uint32_t max_packets;
	uint32_t dpi_flows;
	uint32_t buffers;

	struct cg_config_list *lists;
	size_t nlists;

	struct cg_config_ref *block_lists;
	size_t nblock_lists;
	struct cg_config_ref *block_apps;
	size_t nblock_apps;

	char *events_file; /* JSON lines; NULL = events off */
};

/* Fills cfg with the defaults a config file may override. */
void cg_config_defaults(struct cg_config *cfg);

/*
 * Loads path into cfg (defaults first).  Returns 0, or -1 when any error
 * was reported to d (cfg then holds partial values; free it).
 * queue_count 0 is replaced by the number of online CPUs.
 */
int cg_config_load(const char *path, struct cg_config *cfg,
		   struct cg_diag *d);

/* Resolves a path from the config against its directory; returns a new
 * string (caller frees) or NULL on allocation failure. */
char *cg_config_path(const struct cg_config *cfg, const char *p);

void cg_config_free(struct cg_config *cfg);

#endif
