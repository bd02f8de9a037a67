/*
 * A BearSSL client context set up the way the ESP8266 Arduino core (3.1.x)
 * sets up BearSSL::WiFiClientSecure before connect(): the same engines per
 * cipher build, the same X.509 engine per trust mode, setBufferSizes()
 * semantics for the I/O buffers (and so the same max_fragment_length
 * request), setSSLVersion(), and the client certificate. docs/PROBE.md
 * describes every choice.
 *
 * The record-level API (sendrec/recvrec/sendapp/recvapp) is exported as is;
 * the transport is the caller's (Rust, over a socket with a deadline).
 *
 * Ownership: everything the engine points at (anchors, client chain, keys,
 * buffers) is copied into the context and freed by emq_free().
 */
#include <bearssl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Trust modes, as the Rust side numbers them. */
enum { EMQ_TRUST_CA = 0, EMQ_TRUST_KNOWNKEY = 1, EMQ_TRUST_FINGERPRINT = 2, EMQ_TRUST_INSECURE = 3 };

/* emq_start() results besides BearSSL's own reset result (1 = ok, 0 = fail). */
#define EMQ_START_OOM (-1000)   /* the core reports -1000: validator not installable */
#define EMQ_START_REFUSED (-1)  /* the core's connect() fails without an engine error */

/*
 * The core's "insecure" X.509 engine, used for setFingerprint() and
 * setInsecure(): it decodes the first certificate only (to get its key),
 * hashes that certificate's bytes with SHA-1 and, with a fingerprint set,
 * compares. Dates, names and the rest of the chain are not looked at, and
 * the key is handed over even when the decoder failed, as the core does.
 */
typedef struct {
	const br_x509_class *vtable;
	int done_cert;
	int check_fingerprint;
	unsigned char fingerprint[20];
	br_sha1_context sha1;
	br_x509_decoder_context decoder;
} leaf_sha1_engine;

static void leaf_start_chain(const br_x509_class **ctx, const char *server_name)
{
	leaf_sha1_engine *e = (leaf_sha1_engine *)(void *)ctx;
	(void)server_name;
	br_x509_decoder_init(&e->decoder, NULL, NULL);
	e->done_cert = 0;
	br_sha1_init(&e->sha1);
}

static void leaf_start_cert(const br_x509_class **ctx, uint32_t length)
{
	(void)ctx;
	(void)length;
}

static void leaf_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	leaf_sha1_engine *e = (leaf_sha1_engine *)(void *)ctx;
	if (!e->done_cert) {
		br_sha1_update(&e->sha1, buf, len);
		br_x509_decoder_push(&e->decoder, buf, len);
	}
}

static void leaf_end_cert(const br_x509_class **ctx)
{
	leaf_sha1_engine *e = (leaf_sha1_engine *)(void *)ctx;
	e->done_cert = 1;
}

static unsigned leaf_end_chain(const br_x509_class **ctx)
{
	leaf_sha1_engine *e = (leaf_sha1_engine *)(void *)ctx;
	unsigned char got[20];
	if (!e->done_cert) {
		return 1; /* no certificate at all: the core returns 1 */
	}
	br_sha1_out(&e->sha1, got);
	if (e->check_fingerprint && memcmp(got, e->fingerprint, sizeof got) != 0) {
		return BR_ERR_X509_NOT_TRUSTED;
	}
	return 0;
}

static const br_x509_pkey *leaf_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const leaf_sha1_engine *e = (const leaf_sha1_engine *)(const void *)ctx;
	if (usages != NULL) {
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	}
	return &e->decoder.pkey;
}

static const br_x509_class leaf_sha1_vtable = {
	sizeof(leaf_sha1_engine),
	leaf_start_chain,
	leaf_start_cert,
	leaf_append,
	leaf_end_cert,
	leaf_end_chain,
	leaf_get_pkey,
};

typedef struct {
	unsigned char *data;
	size_t len;
} emq_bytes;

typedef struct emq_tls {
	br_ssl_client_context sc;
	br_x509_minimal_context minimal;
	br_x509_knownkey_context knownkey;
	leaf_sha1_engine leaf;

	int trust;
	int basic;
	uint16_t suites[BR_MAX_CIPHER_SUITES];
	size_t suite_count;
	unsigned version_min, version_max;

	/* ca mode */
	br_x509_trust_anchor *anchors;
	size_t anchor_count;
	int have_time;
	uint32_t days, seconds;

	/* pubkey mode */
	int knownkey_type;
	br_rsa_public_key knownkey_rsa;
	br_ec_public_key knownkey_ec;
	emq_bytes knownkey_parts[2];

	/* client certificate */
	br_x509_certificate *chain;
	size_t chain_count;
	br_skey_decoder_context skey;
	int have_key;
	unsigned ec_usages, ec_issuer_key_type;

	unsigned char *ibuf, *obuf;
	size_t ilen, olen;
} emq_tls;

static unsigned char *dup_bytes(const unsigned char *p, size_t len)
{
	unsigned char *d = malloc(len ? len : 1);
	if (d != NULL && len) {
		memcpy(d, p, len);
	}
	return d;
}

emq_tls *emq_new(void)
{
	emq_tls *t = calloc(1, sizeof *t);
	if (t == NULL) {
		return NULL;
	}
	t->trust = EMQ_TRUST_INSECURE;
	t->version_min = BR_TLS10;
	t->version_max = BR_TLS12;
	t->ec_usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	t->ec_issuer_key_type = BR_KEYTYPE_EC;
	return t;
}

static void free_pkey(br_x509_pkey *k)
{
	if (k->key_type == BR_KEYTYPE_RSA) {
		free(k->key.rsa.n);
		free(k->key.rsa.e);
	} else if (k->key_type == BR_KEYTYPE_EC) {
		free(k->key.ec.q);
	}
}

void emq_free(emq_tls *t)
{
	size_t i;
	if (t == NULL) {
		return;
	}
	for (i = 0; i < t->anchor_count; i++) {
		free(t->anchors[i].dn.data);
		free_pkey(&t->anchors[i].pkey);
	}
	free(t->anchors);
	for (i = 0; i < t->chain_count; i++) {
		free(t->chain[i].data);
	}
	free(t->chain);
	free(t->knownkey_parts[0].data);
	free(t->knownkey_parts[1].data);
	free(t->ibuf);
	free(t->obuf);
	memset(&t->skey, 0, sizeof t->skey);
	free(t);
}

/* The four RSA-CBC suites of a BEARSSL_SSL_BASIC build come with fewer engines. */
int emq_set_suites(emq_tls *t, const uint16_t *suites, size_t count, int basic)
{
	if (count == 0 || count > BR_MAX_CIPHER_SUITES) {
		return 0;
	}
	memcpy(t->suites, suites, count * sizeof suites[0]);
	t->suite_count = count;
	t->basic = basic ? 1 : 0;
	return 1;
}

/* setSSLVersion(min, max): the core accepts TLS 1.0-1.2 with min <= max only. */
int emq_set_versions(emq_tls *t, unsigned min, unsigned max)
{
	if (min < BR_TLS10 || max > BR_TLS12 || min > max) {
		return 0;
	}
	t->version_min = min;
	t->version_max = max;
	return 1;
}

/* setBufferSizes(recv, xmit): clamp to [512, 16384], add BearSSL's overheads. */
int emq_set_buffers(emq_tls *t, size_t recv, size_t xmit)
{
	if (recv < 512) recv = 512;
	if (recv > 16384) recv = 16384;
	if (xmit < 512) xmit = 512;
	if (xmit > 16384) xmit = 16384;
	free(t->ibuf);
	free(t->obuf);
	t->ilen = recv + 325;
	t->olen = xmit + 85;
	t->ibuf = malloc(t->ilen);
	t->obuf = malloc(t->olen);
	return t->ibuf != NULL && t->obuf != NULL;
}

typedef struct {
	unsigned char *data;
	size_t len;
	int oom;
} dn_buffer;

static void dn_append(void *ctx, const void *buf, size_t len)
{
	dn_buffer *b = ctx;
	unsigned char *n;
	if (b->oom) {
		return;
	}
	n = realloc(b->data, b->len + len);
	if (n == NULL) {
		b->oom = 1;
		return;
	}
	memcpy(n + b->len, buf, len);
	b->data = n;
	b->len += len;
}

static int copy_pkey(br_x509_pkey *dst, const br_x509_pkey *src)
{
	memset(dst, 0, sizeof *dst);
	dst->key_type = src->key_type;
	if (src->key_type == BR_KEYTYPE_RSA) {
		dst->key.rsa.n = dup_bytes(src->key.rsa.n, src->key.rsa.nlen);
		dst->key.rsa.nlen = src->key.rsa.nlen;
		dst->key.rsa.e = dup_bytes(src->key.rsa.e, src->key.rsa.elen);
		dst->key.rsa.elen = src->key.rsa.elen;
		return dst->key.rsa.n != NULL && dst->key.rsa.e != NULL;
	}
	if (src->key_type == BR_KEYTYPE_EC) {
		dst->key.ec.curve = src->key.ec.curve;
		dst->key.ec.q = dup_bytes(src->key.ec.q, src->key.ec.qlen);
		dst->key.ec.qlen = src->key.ec.qlen;
		return dst->key.ec.q != NULL;
	}
	return 0;
}

static int push_anchor(emq_tls *t, const unsigned char *dn, size_t dnlen,
	const br_x509_pkey *pk, int ca);

/*
 * One certificate of setTrustAnchors()'s X509List: its subject DN, its key,
 * and the CA flag exactly when the decoder says it is a CA.
 * Returns 1, or 0 when the certificate does not decode (X509List::append
 * then fails and the anchor is missing on the device too).
 */
int emq_add_anchor(emq_tls *t, const unsigned char *der, size_t len)
{
	br_x509_decoder_context dc;
	dn_buffer dn = { NULL, 0, 0 };
	const br_x509_pkey *pk;
	int ok;

	br_x509_decoder_init(&dc, dn_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	ok = pk != NULL && !dn.oom && push_anchor(t, dn.data, dn.len, pk, br_x509_decoder_isCA(&dc));
	free(dn.data);
	return ok;
}

static int push_anchor(emq_tls *t, const unsigned char *dn, size_t dnlen,
	const br_x509_pkey *pk, int ca)
{
	br_x509_trust_anchor *grown;
	br_x509_trust_anchor *ta;
	grown = realloc(t->anchors, (t->anchor_count + 1) * sizeof *grown);
	if (grown == NULL) {
		return 0;
	}
	t->anchors = grown;
	ta = &t->anchors[t->anchor_count];
	memset(ta, 0, sizeof *ta);
	ta->dn.data = dup_bytes(dn, dnlen);
	ta->dn.len = dnlen;
	if (ta->dn.data == NULL || !copy_pkey(&ta->pkey, pk)) {
		free(ta->dn.data);
		free_pkey(&ta->pkey);
		return 0;
	}
	ta->flags = ca ? BR_X509_TA_CA : 0;
	t->anchor_count++;
	return 1;
}

/* An anchor given by DN and RSA key (no certificate). */
int emq_add_anchor_rsa(emq_tls *t, const unsigned char *dn, size_t dnlen,
	const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen, int ca)
{
	br_x509_pkey pk;
	memset(&pk, 0, sizeof pk);
	pk.key_type = BR_KEYTYPE_RSA;
	pk.key.rsa.n = (unsigned char *)n;
	pk.key.rsa.nlen = nlen;
	pk.key.rsa.e = (unsigned char *)e;
	pk.key.rsa.elen = elen;
	return push_anchor(t, dn, dnlen, &pk, ca);
}

/* An anchor given by DN and EC key (no certificate). */
int emq_add_anchor_ec(emq_tls *t, const unsigned char *dn, size_t dnlen,
	int curve, const unsigned char *q, size_t qlen, int ca)
{
	br_x509_pkey pk;
	memset(&pk, 0, sizeof pk);
	pk.key_type = BR_KEYTYPE_EC;
	pk.key.ec.curve = curve;
	pk.key.ec.q = (unsigned char *)q;
	pk.key.ec.qlen = qlen;
	return push_anchor(t, dn, dnlen, &pk, ca);
}

void emq_trust_ca(emq_tls *t, int have_time, uint32_t days, uint32_t seconds)
{
	t->trust = EMQ_TRUST_CA;
	t->have_time = have_time;
	t->days = days;
	t->seconds = seconds;
}

/* setKnownKey() with an RSA key: modulus and exponent, big-endian. */
int emq_trust_knownkey_rsa(emq_tls *t, const unsigned char *n, size_t nlen,
	const unsigned char *e, size_t elen)
{
	free(t->knownkey_parts[0].data);
	free(t->knownkey_parts[1].data);
	t->knownkey_parts[0].data = dup_bytes(n, nlen);
	t->knownkey_parts[0].len = nlen;
	t->knownkey_parts[1].data = dup_bytes(e, elen);
	t->knownkey_parts[1].len = elen;
	if (t->knownkey_parts[0].data == NULL || t->knownkey_parts[1].data == NULL) {
		return 0;
	}
	t->knownkey_rsa.n = t->knownkey_parts[0].data;
	t->knownkey_rsa.nlen = nlen;
	t->knownkey_rsa.e = t->knownkey_parts[1].data;
	t->knownkey_rsa.elen = elen;
	t->knownkey_type = BR_KEYTYPE_RSA;
	t->trust = EMQ_TRUST_KNOWNKEY;
	return 1;
}

/* setKnownKey() with an EC key: BearSSL curve id and the encoded point. */
int emq_trust_knownkey_ec(emq_tls *t, int curve, const unsigned char *q, size_t qlen)
{
	free(t->knownkey_parts[0].data);
	t->knownkey_parts[0].data = dup_bytes(q, qlen);
	t->knownkey_parts[0].len = qlen;
	if (t->knownkey_parts[0].data == NULL) {
		return 0;
	}
	t->knownkey_ec.curve = curve;
	t->knownkey_ec.q = t->knownkey_parts[0].data;
	t->knownkey_ec.qlen = qlen;
	t->knownkey_type = BR_KEYTYPE_EC;
	t->trust = EMQ_TRUST_KNOWNKEY;
	return 1;
}

void emq_trust_fingerprint(emq_tls *t, const unsigned char fingerprint[20])
{
	memcpy(t->leaf.fingerprint, fingerprint, 20);
	t->leaf.check_fingerprint = 1;
	t->trust = EMQ_TRUST_FINGERPRINT;
}

void emq_trust_insecure(emq_tls *t)
{
	t->leaf.check_fingerprint = 0;
	t->trust = EMQ_TRUST_INSECURE;
}

int emq_add_client_cert(emq_tls *t, const unsigned char *der, size_t len)
{
	br_x509_certificate *grown = realloc(t->chain, (t->chain_count + 1) * sizeof *grown);
	if (grown == NULL) {
		return 0;
	}
	t->chain = grown;
	t->chain[t->chain_count].data = dup_bytes(der, len);
	t->chain[t->chain_count].data_len = len;
	if (t->chain[t->chain_count].data == NULL) {
		return 0;
	}
	t->chain_count++;
	return 1;
}

/*
 * The client's private key (PrivateKey: PKCS#1 RSA, SEC1 EC or unencrypted
 * PKCS#8, as DER). Returns BR_KEYTYPE_RSA or BR_KEYTYPE_EC, or 0 when the
 * key does not decode. For EC keys, `usages` and `issuer_key_type` are
 * setClientECCert()'s third and fourth arguments.
 */
int emq_set_client_key(emq_tls *t, const unsigned char *der, size_t len,
	unsigned usages, unsigned issuer_key_type)
{
	int type;
	br_skey_decoder_init(&t->skey);
	br_skey_decoder_push(&t->skey, der, len);
	type = br_skey_decoder_key_type(&t->skey);
	if (br_skey_decoder_last_error(&t->skey) != 0 || type == 0) {
		t->have_key = 0;
		return 0;
	}
	t->have_key = 1;
	t->ec_usages = usages;
	t->ec_issuer_key_type = issuer_key_type;
	return type;
}

/* br_ssl_client_base_init() of the core: engines per cipher build. */
static void base_init(emq_tls *t)
{
	br_ssl_client_context *cc = &t->sc;
	br_ssl_engine_context *eng = &cc->eng;
	br_ssl_client_zero(cc);
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_versions(eng, BR_TLS10, BR_TLS12);
	br_ssl_engine_set_suites(eng, t->suites, t->suite_count);
	br_ssl_client_set_default_rsapub(cc);
	br_ssl_engine_set_default_rsavrfy(eng);
	if (!t->basic) {
		br_ssl_engine_set_default_ecdsa(eng);
	}
	br_ssl_engine_set_hash(eng, br_md5_ID, &br_md5_vtable);
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	br_ssl_engine_set_prf10(eng, &br_tls10_prf);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_cbc(eng);
	if (!t->basic) {
		br_ssl_engine_set_default_aes_gcm(eng);
		br_ssl_engine_set_default_aes_ccm(eng);
		br_ssl_engine_set_default_des_cbc(eng);
		br_ssl_engine_set_default_chapol(eng);
	}
}

/* _installClientX509Validator(): 1 ok, 0 not installable (the core's OOM path). */
static int install_validator(emq_tls *t)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	switch (t->trust) {
	case EMQ_TRUST_FINGERPRINT:
	case EMQ_TRUST_INSECURE:
		t->leaf.vtable = &leaf_sha1_vtable;
		br_ssl_engine_set_x509(eng, &t->leaf.vtable);
		return 1;
	case EMQ_TRUST_KNOWNKEY:
		if (t->knownkey_type == BR_KEYTYPE_RSA) {
			br_x509_knownkey_init_rsa(&t->knownkey, &t->knownkey_rsa,
				BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
		} else if (t->knownkey_type == BR_KEYTYPE_EC && !t->basic) {
			br_x509_knownkey_init_ec(&t->knownkey, &t->knownkey_ec,
				BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
		} else {
			return 0;
		}
		br_ssl_engine_set_x509(eng, &t->knownkey.vtable);
		return 1;
	default:
		br_x509_minimal_init(&t->minimal, &br_sha256_vtable, t->anchors, t->anchor_count);
		br_x509_minimal_set_rsa(&t->minimal, br_ssl_engine_get_rsavrfy(eng));
		if (!t->basic) {
			br_x509_minimal_set_ecdsa(&t->minimal, br_ssl_engine_get_ec(eng),
				br_ssl_engine_get_ecdsa(eng));
		}
		br_x509_minimal_set_hash(&t->minimal, br_md5_ID, &br_md5_vtable);
		br_x509_minimal_set_hash(&t->minimal, br_sha1_ID, &br_sha1_vtable);
		br_x509_minimal_set_hash(&t->minimal, br_sha224_ID, &br_sha224_vtable);
		br_x509_minimal_set_hash(&t->minimal, br_sha256_ID, &br_sha256_vtable);
		br_x509_minimal_set_hash(&t->minimal, br_sha384_ID, &br_sha384_vtable);
		br_x509_minimal_set_hash(&t->minimal, br_sha512_ID, &br_sha512_vtable);
		if (t->have_time) {
			br_x509_minimal_set_time(&t->minimal, t->days, t->seconds);
		}
		br_ssl_engine_set_x509(eng, &t->minimal.vtable);
		return 1;
	}
}

/*
 * _connectSSL(): base init, validator, buffers, versions, client
 * certificate, reset with the name given to connect() (NULL: connect by
 * IPAddress, no SNI and no name check).
 * Returns 1 when the handshake can start, 0 when br_ssl_client_reset()
 * failed (see emq_last_error), EMQ_START_OOM or EMQ_START_REFUSED when the
 * core itself gives up before any byte is sent.
 */
int emq_start(emq_tls *t, const char *server_name)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	if (t->ibuf == NULL || t->obuf == NULL || t->suite_count == 0) {
		return EMQ_START_REFUSED;
	}
	base_init(t);
	if (!install_validator(t)) {
		return EMQ_START_OOM;
	}
	br_ssl_engine_set_buffers_bidi(eng, t->ibuf, t->ilen, t->obuf, t->olen);
	br_ssl_engine_set_versions(eng, t->version_min, t->version_max);
	if (t->have_key) {
		int type = br_skey_decoder_key_type(&t->skey);
		if (type == BR_KEYTYPE_RSA) {
			br_ssl_client_set_single_rsa(&t->sc, t->chain, t->chain_count,
				br_skey_decoder_get_rsa(&t->skey), br_rsa_pkcs1_sign_get_default());
		} else if (type == BR_KEYTYPE_EC && !t->basic) {
			br_ssl_client_set_single_ec(&t->sc, t->chain, t->chain_count,
				br_skey_decoder_get_ec(&t->skey), t->ec_usages, t->ec_issuer_key_type,
				br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
		} else {
			return EMQ_START_REFUSED;
		}
	}
	return br_ssl_client_reset(&t->sc, server_name, 0);
}

unsigned emq_state(emq_tls *t)
{
	return br_ssl_engine_current_state(&t->sc.eng);
}

int emq_last_error(emq_tls *t)
{
	return br_ssl_engine_last_error(&t->sc.eng);
}

unsigned char *emq_sendrec_buf(emq_tls *t, size_t *len)
{
	return br_ssl_engine_sendrec_buf(&t->sc.eng, len);
}

void emq_sendrec_ack(emq_tls *t, size_t len)
{
	br_ssl_engine_sendrec_ack(&t->sc.eng, len);
}

unsigned char *emq_recvrec_buf(emq_tls *t, size_t *len)
{
	return br_ssl_engine_recvrec_buf(&t->sc.eng, len);
}

void emq_recvrec_ack(emq_tls *t, size_t len)
{
	br_ssl_engine_recvrec_ack(&t->sc.eng, len);
}

unsigned char *emq_sendapp_buf(emq_tls *t, size_t *len)
{
	return br_ssl_engine_sendapp_buf(&t->sc.eng, len);
}

void emq_sendapp_ack(emq_tls *t, size_t len)
{
	br_ssl_engine_sendapp_ack(&t->sc.eng, len);
}

unsigned char *emq_recvapp_buf(emq_tls *t, size_t *len)
{
	return br_ssl_engine_recvapp_buf(&t->sc.eng, len);
}

void emq_recvapp_ack(emq_tls *t, size_t len)
{
	br_ssl_engine_recvapp_ack(&t->sc.eng, len);
}

void emq_flush(emq_tls *t, int force)
{
	br_ssl_engine_flush(&t->sc.eng, force);
}

void emq_close(emq_tls *t)
{
	br_ssl_engine_close(&t->sc.eng);
}

/* Negotiated version and suite (0 before the ServerHello). */
void emq_session(emq_tls *t, uint16_t *version, uint16_t *suite)
{
	br_ssl_session_parameters sp;
	br_ssl_engine_get_session_parameters(&t->sc.eng, &sp);
	*version = sp.version;
	*suite = sp.cipher_suite;
}

/* Input and output buffer lengths in use (after the overheads). */
void emq_buffers(emq_tls *t, size_t *in_len, size_t *out_len)
{
	*in_len = t->ilen;
	*out_len = t->olen;
}
