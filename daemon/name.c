#include "cafeguard/name.h"

#include <string.h>

bool cg_name_is_ip_literal(const char *name, size_t len)
{
	if (memchr(name, ':', len))
		return true;
	/* Dotted quad: four runs of 1-3 digits.  "1.2.3.4.example" is a name. */
	unsigned parts = 0, digits = 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c >= '0' && c <= '9') {
			if (++digits > 3)
				return false;
		} else if (c == '.') {
			if (!digits)
				return false;
			parts++;
			digits = 0;
		} else {
			return false;
		}
	}
	if (digits)
		parts++;
	return parts == 4;
}

enum cg_name_status cg_name_canon(const char *in, size_t len, char *out,
				  size_t *outlen)
{
	if (len && in[len - 1] == '.')
		len--;
	if (!len)
		return CG_NAME_EMPTY;
	if (len > CG_NAME_MAX)
		return CG_NAME_TOO_LONG;
	if (cg_name_is_ip_literal(in, len))
		return CG_NAME_IP_LITERAL;

	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '.') {
			if (!label)
				return CG_NAME_EMPTY_LABEL;
			label = 0;
			out[i] = '.';
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			   c == '-' || c == '_'))
			return CG_NAME_BAD_CHAR;
		if (++label > 63)
			return CG_NAME_TOO_LONG;
		out[i] = (char)c;
	}
	/* "a.b.." keeps an empty last label after the one trailing dot
	 * went; no list could ever match it, so it is no name at all. */
	if (!label)
		return CG_NAME_EMPTY_LABEL;
	out[len] = '\0';
	*outlen = len;
	return CG_NAME_OK;
}

const char *cg_name_status_str(enum cg_name_status st)
{
	switch (st) {
	case CG_NAME_OK:
		return "valid host name";
	case CG_NAME_EMPTY:
		return "empty name";
	case CG_NAME_TOO_LONG:
		return "name or label too long (RFC 1035: 253 and 63 bytes)";
	case CG_NAME_BAD_CHAR:
		return "character not allowed in a host name";
	case CG_NAME_EMPTY_LABEL:
		return "empty label (two dots in a row, or a leading dot)";
	case CG_NAME_IP_LITERAL:
		return "an IP address, not a host name";
	}
	return "?";
}
