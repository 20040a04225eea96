/*
 * Fuzzes hostinfo_quic, calling cg_quic_client_initial repeatedly with
 * one assembly, in two modes chosen by the first byte:
 *  even: raw datagrams, each prefixed by a 2-byte length (the rest of the
 *        input is the last datagram);
 *  odd:  the input's chunks become the frames of Initial packets sealed
 *        here with real keys (RFC 9001 5), so the frame walker and the
 *        CRYPTO reassembly are reached, which random bytes never would
 *        through the AEAD.
 *        [1] version index, [2] flags, [3] packet number, then chunks
 *        of [2-byte length][frames].
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cafeguard/hostinfo_quic.h"

struct ver {
	uint32_t v;
	uint8_t salt[20];
	const char *prefix;
	uint8_t itype;
};

#define SALT_V1                                                                \
	{                                                                      \
		0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,    \
		    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a \
	}
#define SALT_29                                                                \
	{                                                                      \
		0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,    \
		    0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 \
	}
#define SALT_23                                                                \
	{                                                                      \
		0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,    \
		    0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02 \
	}

static const struct ver versions[] = {
    {0x00000001, SALT_V1, "quic", 0},
    {0x6b3343cf,
     {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
     "quicv2",
     1},
    {0xff00001d, SALT_29, "quic", 0},
    {0xff00001b, SALT_23, "quic", 0},
    {0xff000022, SALT_V1, "quic", 0},
    {0x3a3a3a3a, SALT_V1, "quic", 0}, /* greased: hint path */
};
#define NVER (sizeof(versions) / sizeof(versions[0]))

static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
static const uint8_t other_cid[5] = {0x11, 0x22, 0x33, 0x44, 0x55};

struct keys {
	uint8_t key[16], iv[12], hp[16];
};

static struct cg_quic_ctx *ctx;
static EVP_CIPHER_CTX *gcm, *ecb;
static struct keys vkeys[NVER];

static void hkdf(int mode, const uint8_t *salt, const uint8_t *key, size_t kl,
		 const uint8_t *info, size_t il, uint8_t *out, size_t ol)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM ps[6], *p = ps;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)key, kl);
	if (salt)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)salt, 20);
	if (info)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
							 (void *)info, il);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(c, out, ol, ps) != 1)
		abort();
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
}

static void label(const uint8_t *secret, const char *pfx, const char *l,
		  uint8_t *out, size_t ol)
{
	uint8_t info[64];
	size_t n = 0, pl = strlen(pfx), ll = strlen(l);
	info[n++] = 0;
	info[n++] = (uint8_t)ol;
	info[n++] = (uint8_t)(6 + pl + ll);
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, pfx, pl);
	memcpy(info + n + 6 + pl, l, ll);
	n += 6 + pl + ll;
	info[n++] = 0;
	hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, secret, 32, info, n, out, ol);
}

static void init(void)
{
	ctx = cg_quic_ctx_new();
	gcm = EVP_CIPHER_CTX_new();
	ecb = EVP_CIPHER_CTX_new();
	if (!ctx || !gcm || !ecb)
		abort();
	for (size_t i = 0; i < NVER; i++) {
		uint8_t prk[32], client[32];
		hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, versions[i].salt, dcid,
		     sizeof(dcid), NULL, 0, prk, 32);
		label(prk, "", "client in", client, 32);
		label(client, versions[i].prefix, " key", vkeys[i].key, 16);
		label(client, versions[i].prefix, " iv", vkeys[i].iv, 12);
		label(client, versions[i].prefix, " hp", vkeys[i].hp, 16);
	}
}

/* Seals frames f[0..fl) as one Initial at o; returns its length. */
static size_t seal(uint8_t *o, size_t vi, const uint8_t *cid, size_t cl,
		   uint64_t pn, size_t pn_len, const uint8_t *f, size_t fl)
{
	const struct ver *v = &versions[vi];
	const struct keys *k = &vkeys[vi];
	size_t n = 0;
	o[n++] = (uint8_t)(0xc0 | (v->itype << 4) | (int)(pn_len - 1));
	for (int i = 0; i < 4; i++)
		o[n++] = (uint8_t)(v->v >> (24 - 8 * i));
	o[n++] = (uint8_t)cl;
	memcpy(o + n, cid, cl);
	n += cl;
	o[n++] = 0; /* SCID */
	o[n++] = 0; /* token */
	uint8_t plain[2048];
	memcpy(plain, f, fl);
	size_t pl = fl;
	while (pl < 4)
		plain[pl++] = 0;
	size_t len = pn_len + pl + 16;
	o[n++] = (uint8_t)(0x40 | (len >> 8));
	o[n++] = (uint8_t)len;
	size_t pn_off = n;
	for (size_t i = 0; i < pn_len; i++)
		o[n++] = (uint8_t)(pn >> (8 * (pn_len - 1 - i)));
	uint8_t nonce[12];
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	int ol = 0;
	if (!EVP_EncryptInit_ex(gcm, EVP_aes_128_gcm(), NULL, k->key, nonce) ||
	    !EVP_EncryptUpdate(gcm, NULL, &ol, o, (int)n) ||
	    !EVP_EncryptUpdate(gcm, o + n, &ol, plain, (int)pl) ||
	    !EVP_EncryptFinal_ex(gcm, o + n + ol, &ol) ||
	    !EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_GCM_GET_TAG, 16, o + n + pl))
		abort();
	n += pl + 16;
	uint8_t mask[32];
	if (!EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, k->hp, NULL) ||
	    !EVP_EncryptUpdate(ecb, mask, &ol, o + pn_off + 4, 16))
		abort();
	o[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < pn_len; i++)
		o[pn_off + i] ^= mask[1 + i];
	return n;
}

static uint8_t abuf[CG_QUIC_CRYPTO_MAX];

static void run(struct cg_quic_assembly *a, const uint8_t *d, size_t n)
{
	char sni[CG_NAME_BUF];
	size_t snilen = 99;
	/* an exact-size copy, so reads past the datagram show */
	uint8_t *c = malloc(n ? n : 1);
	if (!c)
		return;
	memcpy(c, d, n);
	cg_quic_looks_like_initial(c, n);
	enum cg_quic_status st =
	    cg_quic_client_initial(ctx, c, n, a, sni, &snilen);
	free(c);
	if (strlen(sni) != snilen)
		abort();
	if (st == CG_QUIC_SNI) {
		char canon[CG_NAME_BUF];
		size_t cl;
		if (!snilen ||
		    cg_name_canon(sni, snilen, canon, &cl) != CG_NAME_OK ||
		    strcmp(canon, sni))
			abort();
	} else if (st != CG_QUIC_UNSUPPORTED && snilen) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ctx)
		init();
	if (!size)
		return 0;
	struct cg_quic_assembly a;
	/* a small assembly sometimes, to reach the "longer than the
	 * buffer" path */
	cg_quic_assembly_reset(&a, abuf, (data[0] & 0x80) ? 300 : sizeof(abuf));
	size_t off = 1;
	if (!(data[0] & 1)) {
		while (off < size) {
			size_t n = size - off;
			if (n >= 2) {
				size_t l =
				    (size_t)(data[off] << 8 | data[off + 1]);
				if (l <= n - 2) {
					run(&a, data + off + 2, l);
					off += 2 + l;
					continue;
				}
			}
			run(&a, data + off, n);
			break;
		}
		return 0;
	}

	if (size < 4)
		return 0;
	size_t vi = data[1] % NVER;
	uint8_t flags = data[2];
	uint64_t pn = data[3];
	size_t pn_len = (size_t)(flags & 3) + 1;
	off = 4;
	static uint8_t dgram[32768];
	size_t dn = 0;
	unsigned pkts = 0;
	while (off + 2 <= size && pkts < 16) {
		size_t l = (size_t)(data[off] << 8 | data[off + 1]) % 1500;
		off += 2;
		if (l > size - off)
			l = size - off;
		/* later packets may carry the server's CID (flag 4) */
		bool other = pkts && (flags & 4);
		dn += seal(dgram + dn, vi, other ? other_cid : dcid,
			   other ? sizeof(other_cid) : sizeof(dcid), pn, pn_len,
			   data + off, l);
		off += l;
		pn += 1 + (flags >> 4);
		pkts++;
		/* flag 8: coalesce everything in one datagram */
		if (!(flags & 8)) {
			run(&a, dgram, dn);
			dn = 0;
		}
	}
	if (dn)
		run(&a, dgram, dn);
	return 0;
}
