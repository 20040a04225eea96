/*
 * The nDPI 4.2 wrapper.  Everything nDPI-specific stays in this file.
 */
#include "cafeguard/classify.h"

#include <ndpi_api.h>
#include <stdlib.h>
#include <string.h>

/* nDPI's flow struct is 688 bytes in 4.2; the pool holds them inline so a
 * new flow never allocates. */
struct cg_dpi_flow {
	struct ndpi_flow_struct nf;
	struct cg_dpi_flow *next_free;
	bool fed; /* nDPI may have allocated inside nf */
};

struct cg_classifier {
	struct ndpi_detection_module_struct *mod;
	struct cg_dpi_flow *pool;
	struct cg_dpi_flow *free_list;
	uint32_t pool_size;
};

_Static_assert(NDPI_NUM_BITS <= CG_APP_MAX, "nDPI has more ids than we map");
_Static_assert(NDPI_PROTOCOL_NUM_CATEGORIES <= CG_CATEGORY_MAX,
	       "nDPI has more categories than we map");
_Static_assert(sizeof(((struct ndpi_flow_struct *)0)->host_server_name) <=
		       CG_NAME_BUF,
	       "nDPI host name longer than ours");

struct cg_classifier *cg_classifier_new(uint32_t max_flows,
					struct cg_error *err)
{
	struct cg_classifier *c = calloc(1, sizeof(*c));
	if (!c) {
		cg_error_set(err, "classifier: out of memory");
		return NULL;
	}
	c->mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (!c->mod) {
		free(c);
		cg_error_set(err, "nDPI: cannot initialise a detection module");
		return NULL;
	}
	NDPI_PROTOCOL_BITMASK all;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(c->mod, &all);
	ndpi_finalize_initialization(c->mod);

	if (max_flows) {
		c->pool = calloc(max_flows, sizeof(*c->pool));
		if (!c->pool) {
			cg_classifier_free(c);
			cg_error_set(err, "classifier: cannot allocate %u flow "
					  "states (%zu bytes each)",
				     max_flows, sizeof(struct cg_dpi_flow));
			return NULL;
		}
		for (uint32_t i = 0; i < max_flows; i++)
			c->pool[i].next_free =
				i + 1 < max_flows ? &c->pool[i + 1] : NULL;
		c->free_list = &c->pool[0];
	}
	c->pool_size = max_flows;
	return c;
}

void cg_classifier_free(struct cg_classifier *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->pool_size; i++)
		if (c->pool[i].fed)
			ndpi_free_flow_data(&c->pool[i].nf);
	free(c->pool);
	if (c->mod)
		ndpi_exit_detection_module(c->mod);
	free(c);
}

size_t cg_classifier_flow_size(void)
{
	return sizeof(struct cg_dpi_flow);
}

struct cg_dpi_flow *cg_classifier_flow_get(struct cg_classifier *c)
{
	struct cg_dpi_flow *f = c->free_list;
	if (!f)
		return NULL;
	c->free_list = f->next_free;
	/* nDPI requires a zeroed flow struct before the first packet. */
	memset(&f->nf, 0, sizeof(f->nf));
	f->next_free = NULL;
	f->fed = false;
	return f;
}

void cg_classifier_flow_put(struct cg_classifier *c, struct cg_dpi_flow *f)
{
	if (!f)
		return;
	if (f->fed)
		ndpi_free_flow_data(&f->nf);
	f->fed = false;
	f->next_free = c->free_list;
	c->free_list = f;
}

static void fill_result(struct cg_classifier *c, struct cg_dpi_flow *f,
			ndpi_protocol p, struct cg_dpi_result *r)
{
	r->master = p.master_protocol;
	r->proto = p.app_protocol;
	if (r->proto == NDPI_PROTOCOL_UNKNOWN)
		r->proto = r->master;
	if (r->master == NDPI_PROTOCOL_UNKNOWN)
		r->master = r->proto;
	r->category = (uint16_t)p.category;
	if (r->category == NDPI_PROTOCOL_CATEGORY_UNSPECIFIED &&
	    r->proto != NDPI_PROTOCOL_UNKNOWN)
		r->category = (uint16_t)ndpi_get_proto_category(c->mod, p);
	r->detected = r->proto != NDPI_PROTOCOL_UNKNOWN;

	const char *h = f->nf.host_server_name;
	size_t hl = strnlen(h, sizeof(f->nf.host_server_name));
	r->host_len = 0;
	r->host[0] = '\0';
	if (hl && cg_name_canon(h, hl, r->host, &r->host_len) != CG_NAME_OK) {
		r->host_len = 0;
		r->host[0] = '\0';
	}
}

void cg_classifier_packet(struct cg_classifier *c, struct cg_dpi_flow *f,
			  const uint8_t *l3, size_t len, uint64_t now_ms,
			  struct cg_dpi_result *r)
{
	/* nDPI takes an unsigned short length; it only reads headers and
	 * the start of the payload, so a GSO packet is cut to fit. */
	unsigned short l = len > 0xffff ? 0xffff : (unsigned short)len;
	f->fed = true;
	ndpi_protocol p =
		ndpi_detection_process_packet(c->mod, &f->nf, l3, l, now_ms);
	fill_result(c, f, p, r);
}

void cg_classifier_giveup(struct cg_classifier *c, struct cg_dpi_flow *f,
			  struct cg_dpi_result *r)
{
	u_int8_t guessed = 0;
	ndpi_protocol p = ndpi_detection_giveup(c->mod, &f->nf, 1, &guessed);
	fill_result(c, f, p, r);
	r->detected = true;
}

int cg_classifier_app_id(const struct cg_classifier *c, const char *name)
{
	char buf[64];
	if (strlen(name) >= sizeof(buf))
		return -1;
	strcpy(buf, name);
	/* ndpi_get_protocol_id() is a case-insensitive name search that
	 * only reads the module; its prototype lacks the const. */
	int id = ndpi_get_protocol_id(c->mod, buf);
	return id >= 0 && id < CG_APP_MAX ? id : -1;
}

int cg_classifier_category_id(const struct cg_classifier *c, const char *name)
{
	char buf[64];
	if (strlen(name) >= sizeof(buf))
		return -1;
	strcpy(buf, name);
	int id = ndpi_get_category_id(c->mod, buf);
	return id >= 0 && id < CG_CATEGORY_MAX ? id : -1;
}

uint16_t cg_classifier_app_count(const struct cg_classifier *c)
{
	u_int n = ndpi_get_num_supported_protocols(c->mod);
	return (uint16_t)(n < CG_APP_MAX ? n : CG_APP_MAX);
}

uint16_t cg_classifier_app_category(const struct cg_classifier *c,
				    uint16_t id)
{
	ndpi_protocol p = {.master_protocol = id, .app_protocol = id};
	p.category = NDPI_PROTOCOL_CATEGORY_UNSPECIFIED;
	return (uint16_t)ndpi_get_proto_category(c->mod, p);
}

uint16_t cg_classifier_category_count(const struct cg_classifier *c)
{
	(void)c;
	return NDPI_PROTOCOL_NUM_CATEGORIES;
}

const char *cg_classifier_app_name(const struct cg_classifier *c, uint16_t id)
{
	if (id >= cg_classifier_app_count(c))
		return "Unknown";
	const char *n = ndpi_get_proto_name(c->mod, id);
	return n ? n : "Unknown";
}

const char *cg_classifier_category_name(const struct cg_classifier *c,
					uint16_t id)
{
	if (id >= NDPI_PROTOCOL_NUM_CATEGORIES)
		return "Unknown";
	const char *n =
		ndpi_category_get_name(c->mod, (ndpi_protocol_category_t)id);
	return n ? n : "Unknown";
}

void cg_classifier_label(const struct cg_classifier *c, uint16_t master,
			 uint16_t proto, char *out, size_t outsz)
{
	if (master == proto || master == NDPI_PROTOCOL_UNKNOWN)
		snprintf(out, outsz, "%s", cg_classifier_app_name(c, proto));
	else if (proto == NDPI_PROTOCOL_UNKNOWN)
		snprintf(out, outsz, "%s", cg_classifier_app_name(c, master));
	else
		snprintf(out, outsz, "%s.%s", cg_classifier_app_name(c, master),
			 cg_classifier_app_name(c, proto));
}
