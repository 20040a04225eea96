/*
 * syslog: the operator's events sent to the café chain's own collector
 * as RFC 5424 syslog messages, one event per message, the event's JSON
 * (cg_event_to_json) as the MSG.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME cafeguardd PROCID MSGID - {"time":...}
 *
 * PRI is facility * 8 + severity: a block is notice (5), anything else
 * (start, stop) is info (6).  TIMESTAMP is the event's time in UTC with
 * milliseconds; MSGID is the event type ("block", "start", "stop");
 * there is no structured data.  The MSG is UTF-8 without a BOM, which
 * RFC 5424 6.4 allows (MSG-ANY): collectors that parse JSON want it bare.
 *
 * Transports:
 *  - UDP (RFC 5426): one datagram per event from a connect()ed,
 *    non-blocking socket.  A datagram the kernel will not take is dropped
 *    and counted.
 *  - TCP (RFC 6587 3.4.1 octet counting: "LEN SP MSG"): a non-blocking
 *    connection and a bounded buffer.  While the collector is slow or
 *    down, events wait in the buffer; once it is full they are dropped
 *    and counted.  A lost connection is retried after 1 s, doubling to
 *    60 s, and the buffer is delivered on the new connection (a message
 *    cut by the loss is dropped, never sent twice in part).
 *
 * Nothing here blocks: every socket call is non-blocking and the logger
 * thread only pays for formatting and one send per call.
 */
#ifndef CAFEGUARD_SYSLOG_H
#define CAFEGUARD_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cafeguard/config.h"
#include "cafeguard/diag.h"
#include "cafeguard/eventlog.h"

/* RFC 5424 6.2.1 */
#define CG_SYSLOG_FACILITY_MAX 23
#define CG_SYSLOG_SEV_NOTICE   5
#define CG_SYSLOG_SEV_INFO     6
/* RFC 5424 6.2.4: HOSTNAME is at most 255 characters. */
#define CG_SYSLOG_HOSTNAME_MAX 255

struct cg_syslog_opts {
	struct cg_config_addr addr; /* the collector; family 4 or 6 */
	uint16_t port;		    /* 0: 514 (UDP) or 601 (TCP) */
	bool tcp;
	uint8_t facility;     /* 0..23 */
	const char *hostname; /* NULL: gethostname() */
	int pid;	      /* PROCID; 0: getpid() */
	/* TCP only (0: the defaults; tests shorten them): */
	size_t buffer;		 /* bytes waiting; default 256 KiB */
	uint32_t backoff_min_ms; /* default 1000 */
	uint32_t backoff_max_ms; /* default 60000 */
};

/*
 * Counters, readable from any thread while the logger writes (each is
 * read on its own; they are not a consistent snapshot).
 *  sent:       messages handed whole to the kernel
 *  dropped:    events that will never be sent (buffer full, send
 *              refused, cut by a lost connection, too large to format)
 *  errors:     socket errors (refused, reset, failed connect)
 *  reconnects: connections established after the first one
 *  connected:  TCP: a connection is up now; UDP: always true
 */
struct cg_syslog_stats {
	uint64_t sent, dropped, errors, reconnects;
	bool connected;
};

/*
 * Opens a sink that sends every event to the collector and then passes
 * it to next (NULL: none), like cg_tee_sink_open(); the sink owns next
 * and closes it when it is closed, or at once if the open fails.
 * A collector that is down is not an error (TCP connects in the
 * background); a bad option or a socket that cannot be made is: NULL with
 * err set.  write() returns next's result (0 without next, whatever the
 * collector did: syslog failures are counted, not reported per event).
 */
struct cg_event_sink *cg_syslog_sink_open(const struct cg_syslog_opts *o,
					  struct cg_event_sink *next,
					  struct cg_error *err);

/* Fills st from a sink made by cg_syslog_sink_open(); zeroes it for any
 * other sink. */
void cg_syslog_stats(const struct cg_event_sink *s, struct cg_syslog_stats *st);

/*
 * Formats e as one RFC 5424 message (no framing, no newline) into out,
 * NUL-terminated.  hostname is sanitised (bytes outside PRINTUSASCII
 * become '_', at most 255 kept, "-" if empty or NULL); pid <= 0 gives
 * PROCID "-".  Returns the length, or 0 if out is too small or facility
 * is above 23.  Pure: for tests and the CLI.
 */
size_t cg_syslog_format(const struct cg_event *e, uint8_t facility,
			const char *hostname, int pid, char *out, size_t outsz);

#endif
