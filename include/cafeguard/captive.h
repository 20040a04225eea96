/*
 * captive: which clients have accepted the splash page, and until when.
 *
 * A client that has not accepted within the period (today, by default)
 * is captive: its DNS works, its web requests are sent to the splash
 * page, everything else is refused.  The portal writes an acceptance
 * (rarely, one thread at a time); every worker reads the table on its
 * decisions without locks or system calls.  Acceptances are kept in the
 * state directory, so they survive a restart of the daemon.
 *
 * A client is known by its seat's name when it is a seat (a seat keeps
 * its acceptance when its address changes), else by its MAC address,
 * else by its IP address.
 */
#ifndef CAFEGUARD_CAPTIVE_H
#define CAFEGUARD_CAPTIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "cafeguard/clock.h"
#include "cafeguard/diag.h"

struct cg_captive;

/*
 * Opens the table with room for capacity clients, loading what
 * state_dir/captive holds (state_dir NULL: nothing kept).  A damaged
 * file is reported in err's message but not fatal: the clients in it
 * simply accept again.  NULL only without memory.
 */
struct cg_captive *cg_captive_open(const char *state_dir, uint32_t capacity,
				   struct cg_error *err);
void cg_captive_free(struct cg_captive *c);

/* The key of a client: seat (a name, or NULL), else mac (or NULL), else
 * the address (family 4 or 6).  Never 0. */
uint64_t cg_captive_key(const char *seat, const uint8_t *mac, uint8_t family,
			const uint8_t addr[16]);

/* True if the client accepted and its period has not ended at now_s. */
bool cg_captive_is_open(const struct cg_captive *c, uint64_t key,
			int64_t now_s);

/* When the client's acceptance ends (UTC seconds), 0 if none. */
int64_t cg_captive_until(const struct cg_captive *c, uint64_t key);

/*
 * Opens the client until until_s and writes the table to the state
 * directory (atomically: a crash leaves the old file or the new one).
 * label names the client in that file for people ("seat-05",
 * "52:54:00:00:00:01").  -1 with err if the table is full of clients
 * still open, or the file could not be written (the acceptance then
 * holds until the daemon stops).
 */
int cg_captive_accept(struct cg_captive *c, uint64_t key, const char *label,
		      int64_t until_s, int64_t now_s, struct cg_error *err);

/* Makes the client captive again. */
int cg_captive_revoke(struct cg_captive *c, uint64_t key, int64_t now_s,
		      struct cg_error *err);

/*
 * The end of an acceptance given at now_s: period_min minutes later, or
 * with 0 the next local midnight (lt: the caller's time-zone cache).
 */
int64_t cg_captive_period_end(const struct cg_localtime *lt, int64_t now_s,
			      uint32_t period_min);

#endif
