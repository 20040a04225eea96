/*
 * The worker's readers of client requests, one kind of stream each: every
 * DNS query, every HTTP request, the ClientHello of TLS and QUIC.  The
 * pipeline around them is worker.c.
 */
#include <string.h>

#include "worker_internal.h"

/* ---- TCP client stream, in order ---- */

/*
 * The bytes of p that continue the client stream.  Retransmitted bytes
 * are skipped; a segment beyond a gap is reported so the caller drops it
 * and the client resends in order (an inline box may normalise order; the
 * alternative, buffering out-of-order data, costs memory per flow).
 */
enum take cg_w_stream_take(struct cg_flow *f, const struct cg_packet *p,
			   const uint8_t **data, size_t *len)
{
	*data = p->payload;
	*len = 0;
	if (!f->seq_known) {
		f->next_seq = p->seq;
		f->seq_known = true;
	}
	uint32_t ahead = p->seq - f->next_seq;
	if (ahead && ahead < 0x80000000u)
		return TAKE_GAP;
	uint32_t behind = f->next_seq - p->seq;
	if (behind >= p->payload_wire)
		return TAKE_OK; /* all retransmitted */
	if (behind > p->payload_len)
		return TAKE_LOST;
	*data = p->payload + behind;
	*len = p->payload_len - behind;
	f->next_seq = p->seq + (uint32_t)p->payload_wire;
	/* A capture cut short (copy range) leaves a hole we cannot fill. */
	return p->payload_len < p->payload_wire ? TAKE_LOST : TAKE_OK;
}

static bool cg_w_stream_append(struct cg_flow *f, const uint8_t *d, size_t n)
{
	if (!f->slot || f->stream_len + n > sizeof(f->slot->buf))
		return false;
	memcpy(f->slot->buf + f->stream_len, d, n);
	f->stream_len += (uint32_t)n;
	return true;
}

void cg_w_set_host(struct cg_flow *f, const char *h, size_t len,
		   enum cg_host_src src)
{
	if (len >= sizeof(f->host))
		return;
	memcpy(f->host, h, len);
	f->host[len] = '\0';
	f->host_len = (uint8_t)len;
	f->host_src = (uint8_t)src;
}

/* ---- DNS ---- */

/*
 * Sends the answer the gateway built for a query (n bytes in w->answer)
 * in the server's place.  A blocked query (d a block) is logged with
 * resp.  Over UDP the query is dropped; over TCP the answer closed the
 * connection, which leaves the table.
 */
static enum cg_action dns_answered(struct cg_worker *w, struct cg_flow *f,
				   const struct cg_packet *p, size_t n,
				   bool tcp, const struct cg_decision *d,
				   enum cg_event_action resp,
				   const char *host)
{
	int rc = -1;
	if (n)
		rc = tcp ? cg_act_tcp_reply(w->inj, p, w->answer, n)
			 : cg_act_udp_reply(w->inj, p, w->answer, n);
	if (rc < 0)
		w->st.inject_errors++;
	bool block = d && d->outcome == CG_BLOCK;
	if (block)
		cg_w_emit_block_event(w, f, d, resp, host);
	if (tcp) {
		if (d)
			cg_w_emit_report(w, f, d, CG_MARK_BLOCK, resp, host);
		w->st.blocked += block;
		cg_w_flow_release_resources(w, f);
		cg_flow_remove(w->flows, f);
		return CG_MARK_BLOCK;
	}
	if (d)
		cg_w_emit_report(w, f, d, CG_DROP, resp, host);
	return CG_DROP;
}

/* Decides one DNS query.  Returns CG_PASS / CG_DROP for the packet, or a
 * connection-wide action when the application itself is blocked. */
enum cg_action cg_w_dns_query(struct cg_worker *w, struct cg_flow *f,
			      const struct cg_packet *p, const uint8_t *msg,
			      size_t len, bool tcp, bool *decided)
{
	struct cg_dns_query q;
	*decided = false;
	if (cg_dns_parse(msg, len, &q) != CG_DNS_QUERY)
		return CG_PASS;
	w->st.dns_queries++;
	f->requests++;
	if (q.name_ok && (!f->host_len || f->host_src == CG_HOST_NDPI))
		cg_w_set_host(f, q.qname, q.qname_len, CG_HOST_DNS);

	const struct cg_respond *rs = &w->rt->rules->respond;
	if (q.name_ok && cg_respond_is_canary(q.qname, q.qname_len)) {
		/* Firefox turns DoH off, Apple devices Private Relay, when
		 * their canary has no such name: a device that honours it
		 * keeps to the café's DNS, where every name is judged. */
		size_t n = cg_dns_build_response(msg, &q, CG_DNS_RCODE_NXDOMAIN,
						 w->answer, sizeof(w->answer));
		w->st.dns_canaries++;
		*decided = true;
		return dns_answered(w, f, p, n, tcp, NULL, CG_ACT_NXDOMAIN,
				    q.qname);
	}

	struct cg_facts fa;
	cg_w_facts_of(f, q.qname, q.name_ok ? q.qname_len : 0, false, &fa);
	fa.host_pending = false;
	if (!q.name_ok) {
		/* Nothing a list could name; the app alone decides. */
		fa.app_known = true;
	}
	struct cg_decision d;
	cg_w_decide(w, f, &fa, true, &d);
	const char *host = q.name_ok ? q.qname : NULL;

	/* A name refused (a list, a budget, a schedule) is answered with
	 * the portal's address (its block page) or "no such name", query
	 * by query: the socket stays open for the next lookup.  Only an
	 * application rule cuts the whole flow. */
	if (d.outcome == CG_BLOCK && d.reason != CG_REASON_APP &&
	    d.reason != CG_REASON_APP_CATEGORY) {
		size_t n = cg_respond_dns_block(rs, msg, &q, w->answer,
						sizeof(w->answer));
		bool sink = rs->dns == CG_DNS_ANSWER_SINKHOLE && rs->nportal;
		w->st.dns_blocked++;
		*decided = true;
		return dns_answered(w, f, p, n, tcp, &d,
				    sink ? CG_ACT_SINKHOLE : CG_ACT_NXDOMAIN,
				    host);
	}
	/* SafeSearch: the engine's names answered with its safe name, as
	 * the operators document it (a CNAME and its addresses). */
	const struct cg_rules *r = w->rt->rules;
	int eng = q.name_ok && d.outcome != CG_BLOCK &&
			  f->profile < r->nprofiles &&
			  r->profiles[f->profile].safesearch
		      ? cg_respond_engine_of(q.qname, q.qname_len)
		      : -1;
	if (eng >= 0 && rs->engines[eng].set) {
		size_t n = cg_respond_dns_forced(rs, (enum cg_engine)eng, msg,
						 &q, w->answer,
						 sizeof(w->answer));
		w->st.dns_forced++;
		*decided = true;
		return dns_answered(w, f, p, n, tcp, &d, CG_ACT_NONE, host);
	}
	if (d.outcome == CG_BLOCK) {
		*decided = true;
		return cg_w_block_flow(w, f, p, &d, host);
	}
	if (d.outcome == CG_ALLOW) {
		*decided = true;
		if (f->stage == CG_STAGE_WATCH) {
			cg_w_emit_report(w, f, &d, CG_PASS, CG_ACT_NONE, host);
			return CG_PASS;
		}
		return cg_w_allow_flow(w, f, &d, host);
	}
	return CG_PASS;
}

enum cg_action cg_w_dns_tcp_stream(struct cg_worker *w, struct cg_flow *f,
				   const struct cg_packet *p,
				   const uint8_t *data, size_t len,
				   bool *decided)
{
	enum cg_action act = CG_PASS;
	*decided = false;
	if (!cg_w_slot_get(w, f) || !cg_w_stream_append(f, data, len)) {
		f->stream_lost = true;
		return CG_PASS;
	}
	size_t off = 0;
	for (;;) {
		const uint8_t *msg;
		size_t consumed;
		size_t mlen = cg_dns_tcp_next(
		    f->slot->buf + off, f->stream_len - off, &msg, &consumed);
		off += consumed;
		if (!mlen) {
			if (consumed)
				continue; /* an empty message: nothing to judge
					   */
			break;
		}
		bool dec;
		enum cg_action a =
		    cg_w_dns_query(w, f, p, msg, mlen, true, &dec);
		*decided |= dec;
		if (a == CG_MARK_BLOCK)
			return a; /* flow is gone */
		if (a != CG_PASS)
			act = a;
	}
	memmove(f->slot->buf, f->slot->buf + off, f->stream_len - off);
	f->stream_len -= (uint32_t)off;
	if (f->stage == CG_STAGE_WATCH && !f->stream_len)
		cg_w_slot_put(w, f);
	return act;
}

/* ---- HTTP ---- */

enum cg_action cg_w_http_stream(struct cg_worker *w, struct cg_flow *f,
				const struct cg_packet *p, const uint8_t *data,
				size_t len, bool *decided)
{
	enum cg_action act = CG_PASS;
	*decided = false;
	while (len > 0) {
		struct cg_http_request req;
		size_t used = 0;
		enum cg_http_status st =
		    cg_http_feed(&f->http, data, len, &req, &used);
		if (st == CG_HTTP_NEED_BUFFER) {
			struct cg_slot *s = cg_w_slot_get(w, f);
			if (!s) {
				f->stream_lost = true;
				break;
			}
			f->http.hbuf = s->buf;
			continue;
		}
		if (st == CG_HTTP_ERROR) {
			f->stream_lost = true;
			f->host_pending = false;
			break;
		}
		if (st == CG_HTTP_NEED_MORE) {
			f->host_pending = f->http.requests == 0;
			break;
		}
		data += used;
		len -= used;
		w->st.http_requests++;
		f->requests++;
		f->host_pending = false;
		if (req.host_len && !f->host_len)
			cg_w_set_host(f, req.host, req.host_len, CG_HOST_HTTP);

		struct cg_facts fa;
		cg_w_facts_of(f, req.host, req.host_len, false, &fa);
		struct cg_decision d;
		cg_w_decide(w, f, &fa, true, &d);
		const char *host = req.host_len ? req.host : NULL;
		if (d.outcome == CG_BLOCK) {
			*decided = true;
			w->st.http_blocked++;
			/* A child who typed the address sees why, not a
			 * broken page; an application rule is about the
			 * connection, not the page, and cuts it. */
			if (d.reason == CG_REASON_APP ||
			    d.reason == CG_REASON_APP_CATEGORY)
				return cg_w_block_flow(w, f, p, &d, host);
			return cg_w_redirect_flow(w, f, p, &d, host,
						  req.path);
		}
		if (d.outcome == CG_ALLOW) {
			*decided = true;
			/* The connection is counted as serving this host
			 * from now on (its minutes are charged by it). */
			if (d.charge && req.host_len)
				cg_w_set_host(f, req.host, req.host_len,
					      CG_HOST_HTTP);
			if (f->stage == CG_STAGE_WATCH)
				cg_w_emit_report(w, f, &d, CG_PASS, CG_ACT_NONE,
						 host);
			else
				act = cg_w_allow_flow(w, f, &d, host);
		}
		/* Pending (the app is still unknown): the flow-level
		 * decision after this packet will settle it. */
		if (!len)
			break;
	}
	if (!cg_http_parser_holds_buffer(&f->http) &&
	    f->stage == CG_STAGE_WATCH)
		cg_w_slot_put(w, f);
	return act;
}

/* ---- first client payload: what kind of stream is this? ---- */

/* DNS over TCP on any port: a 2-byte length, then a query of the shape
 * real resolvers send (RFC 7766 8). */
static bool looks_like_dns_tcp(const uint8_t *d, size_t n)
{
	const uint8_t *msg;
	size_t used;
	size_t len = cg_dns_tcp_next(d, n, &msg, &used);
	return len && cg_dns_looks_like_query(msg, len);
}

void cg_w_classify_kind(struct cg_worker *w, struct cg_flow *f,
			const struct cg_packet *p)
{
	const uint8_t *d = p->payload;
	size_t n = p->payload_len;
	if (p->proto == CG_PROTO_UDP) {
		struct cg_dns_query q;
		bool port53 = p->dport == 53 || p->sport == 53;
		if ((port53 && cg_dns_parse(d, n, &q) == CG_DNS_QUERY) ||
		    cg_dns_looks_like_query(d, n)) {
			f->kind = CG_KIND_DNS;
		} else if (cg_quic_looks_like_initial(d, n)) {
			f->kind = CG_KIND_QUIC;
			struct cg_slot *s = cg_w_slot_get(w, f);
			if (s)
				cg_quic_assembly_reset(&s->qa, s->buf,
						       sizeof(s->buf));
			f->host_pending = s != NULL;
		} else {
			f->kind = CG_KIND_OTHER;
		}
		return;
	}
	if (cg_tls_looks_like_handshake(d, n)) {
		f->kind = CG_KIND_TLS;
		f->host_pending = cg_w_slot_get(w, f) != NULL;
	} else if (cg_http_looks_like_request(d, n)) {
		f->kind = CG_KIND_HTTP;
		cg_http_parser_init(&f->http);
		f->host_pending = true;
	} else if (p->dport == 53 || p->sport == 53 ||
		   looks_like_dns_tcp(d, n)) {
		f->kind = CG_KIND_DNS_TCP;
	} else {
		f->kind = CG_KIND_OTHER;
	}
}

void cg_w_tls_stream(struct cg_worker *w, struct cg_flow *f,
		     const uint8_t *data, size_t len)
{
	if (!f->host_pending)
		return;
	if (!cg_w_stream_append(f, data, len)) {
		f->host_pending = false;
		cg_w_slot_put(w, f);
		return;
	}
	char sni[CG_NAME_BUF];
	size_t sl = 0;
	enum cg_tls_status st =
	    cg_tls_record_sni(f->slot->buf, f->stream_len, w->scratch,
			      sizeof(w->scratch), sni, &sl);
	if (st == CG_TLS_NEED_MORE)
		return;
	if (st == CG_TLS_SNI)
		cg_w_set_host(f, sni, sl, CG_HOST_TLS_SNI);
	f->host_pending = false;
	cg_w_slot_put(w, f);
}

void cg_w_quic_packet(struct cg_worker *w, struct cg_flow *f,
		      const struct cg_packet *p)
{
	if (!f->host_pending || !f->slot)
		return;
	char sni[CG_NAME_BUF];
	size_t sl = 0;
	enum cg_quic_status st = cg_quic_client_initial(
	    w->quic, p->payload, p->payload_len, &f->slot->qa, sni, &sl);
	if (st == CG_QUIC_NEED_MORE)
		return;
	/* A client datagram that is not an Initial (0-RTT, short header)
	 * before the name was complete: nothing more will come. */
	if (st == CG_QUIC_SNI)
		cg_w_set_host(f, sni, sl, CG_HOST_QUIC_SNI);
	f->host_pending = false;
	cg_w_slot_put(w, f);
}
