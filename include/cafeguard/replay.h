/*
 * replay: the pcap packet source.  Runs a capture through the same worker
 * the daemon uses, with the kernel's part (connmark bypass) simulated, so
 * what replay prints is what the box would have done.
 */
#ifndef CAFEGUARD_REPLAY_H
#define CAFEGUARD_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cafeguard/classify.h"
#include "cafeguard/diag.h"
#include "cafeguard/rules.h"
#include "cafeguard/worker.h"

enum cg_replay_format {
	CG_REPLAY_TEXT = 0,
	CG_REPLAY_JSON,
};

struct cg_replay_opts {
	const struct cg_config *cfg;
	const struct cg_rules *rules;
	/* The local time the capture is judged at ("YYYY-MM-DD HH:MM"
	 * given to replay --at), as UTC seconds; 0: the capture's own
	 * timestamps. */
	int64_t at_utc;
	struct cg_classifier *cls;
	enum cg_replay_format format;
	FILE *out;
	bool summary;  /* print counters at the end */
};

struct cg_replay_stats {
	uint64_t frames;
	uint64_t bypassed;   /* packets the simulated kernel carried */
	uint64_t to_worker;  /* packets that reached the pipeline */
	uint64_t link_errors;
	double seconds;      /* wall time spent in the pipeline */
};

/* Replays path.  Returns 0, or -1 with err set when the file cannot be
 * read (a corrupt capture stops at the bad record with an error). */
int cg_replay_file(const char *path, const struct cg_replay_opts *o,
		   struct cg_replay_stats *st, struct cg_error *err);

#endif
