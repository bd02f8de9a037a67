/*
 * Device oracle for `espmqtt probe` tests: a TLS client built on Debian's
 * libbearssl (upstream BearSSL 0.6, which the ESP8266 core's
 * bearssl-esp8266 forks), configured the way the core's
 * BearSSL::WiFiClientSecure configures it (docs/DEVICE.md, docs/PROBE.md):
 *
 *   - the core's 45 suites in order (or the 4 of a BASIC build), TLS 1.0-1.2,
 *     no renegotiation;
 *   - buffers (recv + 325, xmit + 85) so BearSSL itself computes the
 *     max_fragment_length it requests (setBufferSizes semantics);
 *   - per trust mode the same engine: br_x509_minimal with trust anchors and
 *     a fixed time (ca), br_x509_knownkey (pubkey), and for fingerprint /
 *     insecure a small engine that, like the core's, SHA-1-hashes the first
 *     certificate only and decodes it just to obtain the key.
 *
 * It completes the handshake and prints one line:
 *   connected suite=0xC02F version=0x0303
 *   error N          (br_ssl_engine_last_error: 256+alert = received alert)
 * With --mqtt ID it then sends the firmware's MQTT 3.1.1 CONNECT (clean
 * session, keepalive 15, will <prefix>/<ID>/status "offline" retained,
 * user and password) through BearSSL's own br_sslio layer, reads the first
 * packet back as PubSubClient's connect() does (a 4-byte packet's last byte
 * is the state; any other packet leaves the state alone) and appends
 * " connack=N", " connack=other", " connack=closed" or " connack=timeout".
 *
 * Usage: bearssl_client HOST PORT MODE [options]
 *   MODE: ca | pubkey | fingerprint | insecure
 *   --sni NAME          name passed to connect() (SNI + name check)
 *   --ta FILE           PEM trust anchors (ca)
 *   --fp HEX            leaf SHA-1, 40 hex digits (fingerprint; repeatable)
 *   --knownkey FILE     PEM certificate whose public key is pinned (pubkey)
 *   --mfln N|off        buffer size (default 512)
 *   --basic             BEARSSL_SSL_BASIC suite list
 *   --versions MIN-MAX  setSSLVersion range, e.g. 1.2 or 1.0-1.1 (default 1.0-1.2)
 *   --time EPOCH        clock for ca mode (default: now)
 *   --cert FILE --key FILE   client certificate (RSA or EC)
 *   --timeout SECS      overall timeout (default 10)
 *   --mqtt ID --user U --pass P --prefix P   MQTT CONNECT after the handshake
 *
 * Limits: upstream BearSSL lacks the fork's small additions (CertStore
 * lookup, getMFLNStatus), and the host build uses the fast i31/i62 big-int
 * code instead of the device's i15/m15 (same results, other timing).
 */
#include <bearssl.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const uint16_t suites_all[] = {
	0xCCA9, 0xCCA8, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xC0AC, 0xC0AD, 0xC0AE, 0xC0AF, 0xC023, 0xC027,
	0xC024, 0xC028, 0xC009, 0xC013, 0xC00A, 0xC014, 0xC02D, 0xC031, 0xC02E, 0xC032, 0xC025, 0xC029,
	0xC026, 0xC02A, 0xC004, 0xC00E, 0xC005, 0xC00F, 0x009C, 0x009D, 0xC09C, 0xC09D, 0xC0A0, 0xC0A1,
	0x003C, 0x003D, 0x002F, 0x0035, 0xC008, 0xC012, 0xC003, 0xC00D, 0x000A,
};
static const uint16_t suites_basic[] = { 0x003C, 0x003D, 0x002F, 0x0035 };

/* ---- reading PEM files ---- */

typedef struct { unsigned char *data; size_t len; } blob;
typedef struct { blob items[16]; char names[16][128]; int n; } pem_list;

static void blob_append(void *ctx, const void *buf, size_t len)
{
	blob *b = ctx;
	b->data = realloc(b->data, b->len + len);
	if (b->data == NULL) { fprintf(stderr, "oom\n"); exit(4); }
	memcpy(b->data + b->len, buf, len);
	b->len += len;
}

static int read_pem(const char *path, pem_list *out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) { perror(path); return -1; }
	static unsigned char text[1 << 20];
	size_t tlen = fread(text, 1, sizeof text, f);
	fclose(f);
	br_pem_decoder_context pc;
	br_pem_decoder_init(&pc);
	size_t off = 0;
	int inobj = 0;
	out->n = 0;
	while (off < tlen) {
		size_t k = br_pem_decoder_push(&pc, text + off, tlen - off);
		off += k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			if (out->n >= 16) return -1;
			inobj = 1;
			out->items[out->n].data = NULL;
			out->items[out->n].len = 0;
			snprintf(out->names[out->n], 128, "%s", br_pem_decoder_name(&pc));
			br_pem_decoder_setdest(&pc, blob_append, &out->items[out->n]);
			break;
		case BR_PEM_END_OBJ:
			if (inobj) out->n++;
			inobj = 0;
			break;
		case BR_PEM_ERROR:
			return -1;
		default:
			break;
		}
	}
	return out->n;
}

/* ---- certificates to trust anchors (what X509List does) ---- */

static int decode_cert(const blob *der, br_x509_decoder_context *dc, blob *dn)
{
	dn->data = NULL;
	dn->len = 0;
	br_x509_decoder_init(dc, blob_append, dn);
	br_x509_decoder_push(dc, der->data, der->len);
	return br_x509_decoder_get_pkey(dc) == NULL ? -1 : 0;
}

static void copy_pkey(br_x509_pkey *dst, const br_x509_pkey *src)
{
	*dst = *src;
	if (src->key_type == BR_KEYTYPE_RSA) {
		dst->key.rsa.n = malloc(src->key.rsa.nlen);
		dst->key.rsa.e = malloc(src->key.rsa.elen);
		memcpy(dst->key.rsa.n, src->key.rsa.n, src->key.rsa.nlen);
		memcpy(dst->key.rsa.e, src->key.rsa.e, src->key.rsa.elen);
	} else {
		dst->key.ec.q = malloc(src->key.ec.qlen);
		memcpy(dst->key.ec.q, src->key.ec.q, src->key.ec.qlen);
	}
}

/* ---- the core's permissive engine: SHA-1 of the first certificate ---- */

typedef struct {
	const br_x509_class *vtable;
	int mode_fingerprint;
	unsigned char fps[4][20];
	int nfp;
	int done_cert;
	br_sha1_context sha1;
	br_x509_decoder_context dc;
	br_x509_pkey pkey;
	int have_key;
} fp_context;

static void fp_start_chain(const br_x509_class **ctx, const char *server_name)
{
	fp_context *c = (fp_context *)ctx;
	(void)server_name;
	c->done_cert = 0;
	c->have_key = 0;
	br_sha1_init(&c->sha1);
	br_x509_decoder_init(&c->dc, NULL, NULL);
}
static void fp_start_cert(const br_x509_class **ctx, uint32_t length) { (void)ctx; (void)length; }
static void fp_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	fp_context *c = (fp_context *)ctx;
	if (!c->done_cert) {
		br_sha1_update(&c->sha1, buf, len);
		br_x509_decoder_push(&c->dc, buf, len);
	}
}
static void fp_end_cert(const br_x509_class **ctx)
{
	fp_context *c = (fp_context *)ctx;
	c->done_cert = 1;
}
static unsigned fp_end_chain(const br_x509_class **ctx)
{
	fp_context *c = (fp_context *)ctx;
	unsigned char h[20];
	br_sha1_out(&c->sha1, h);
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&c->dc);
	if (pk == NULL) return BR_ERR_X509_EMPTY_CHAIN;
	copy_pkey(&c->pkey, pk);
	c->have_key = 1;
	if (c->mode_fingerprint) {
		for (int i = 0; i < c->nfp; i++)
			if (memcmp(h, c->fps[i], 20) == 0) return 0;
		return BR_ERR_X509_NOT_TRUSTED;
	}
	return 0;
}
static const br_x509_pkey *fp_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const fp_context *c = (const fp_context *)ctx;
	if (usages != NULL) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return c->have_key ? &c->pkey : NULL;
}
static const br_x509_class fp_vtable = {
	sizeof(fp_context), fp_start_chain, fp_start_cert, fp_append, fp_end_cert, fp_end_chain, fp_get_pkey,
};

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

/* ---- MQTT CONNECT over br_sslio ---- */

static time_t io_deadline;

static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
	int fd = *(int *)ctx;
	struct pollfd pfd = { fd, POLLIN, 0 };
	int left = (int)(io_deadline - time(NULL));
	if (left <= 0 || poll(&pfd, 1, left * 1000) <= 0) return -1;
	ssize_t r = read(fd, buf, len);
	return r <= 0 ? -1 : (int)r;
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t w = write(*(int *)ctx, buf, len);
	return w <= 0 ? -1 : (int)w;
}

static size_t put_str(unsigned char *p, const char *s)
{
	size_t n = strlen(s);
	p[0] = (unsigned char)(n >> 8);
	p[1] = (unsigned char)n;
	memcpy(p + 2, s, n);
	return n + 2;
}

/* Returns the CONNACK code, -1 when the connection closed, -2 on timeout,
 * -3 when the first packet is not 4 bytes long (PubSubClient then returns
 * false and leaves its state as it was). */
static int mqtt_connect(br_ssl_engine_context *eng, int fd, const char *id, const char *user,
	const char *pass, const char *prefix)
{
	unsigned char body[2048], pkt[2100];
	char will[600];
	size_t n = 0, m = 0;
	unsigned char flags = 0x02 | 0x04 | 0x20;
	snprintf(will, sizeof will, "%s/%s/status", prefix, id);
	n += put_str(body + n, "MQTT");
	body[n++] = 4;
	if (user) flags |= 0x80;
	if (user && pass) flags |= 0x40;
	body[n++] = flags;
	body[n++] = 0;
	body[n++] = 15;
	n += put_str(body + n, id);
	n += put_str(body + n, will);
	n += put_str(body + n, "offline");
	if (user) n += put_str(body + n, user);
	if (user && pass) n += put_str(body + n, pass);
	pkt[m++] = 0x10;
	size_t rl = n;
	do {
		unsigned char b = rl % 128;
		rl /= 128;
		pkt[m++] = rl ? (b | 0x80) : b;
	} while (rl);
	memcpy(pkt + m, body, n);
	m += n;

	br_sslio_context ioc;
	br_sslio_init(&ioc, eng, sock_read, &fd, sock_write, &fd);
	if (br_sslio_write_all(&ioc, pkt, m) < 0 || br_sslio_flush(&ioc) < 0) return -1;
	/* PubSubClient's readPacket(): header byte, remaining length, body. */
	unsigned char b, last = 0;
	size_t len = 1, remaining = 0, shift = 0;
	if (br_sslio_read_all(&ioc, &b, 1) < 0) return time(NULL) >= io_deadline ? -2 : -1;
	do {
		if (br_sslio_read_all(&ioc, &b, 1) < 0) return time(NULL) >= io_deadline ? -2 : -1;
		len++;
		remaining |= (size_t)(b & 0x7f) << shift;
		shift += 7;
	} while ((b & 0x80) && shift < 28);
	for (size_t i = 0; i < remaining; i++) {
		if (br_sslio_read_all(&ioc, &last, 1) < 0) return time(NULL) >= io_deadline ? -2 : -1;
		len++;
	}
	return len == 4 ? last : -3;
}

/* ---- socket I/O ---- */

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints, *res, *p;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
	int fd = -1;
	for (p = res; p != NULL; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype, p->ai_protocol);
		if (fd < 0) continue;
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0) break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s HOST PORT MODE [options]\n", argv[0]);
		return 2;
	}
	const char *host = argv[1], *port = argv[2], *mode = argv[3];
	const char *sni = NULL, *ta_file = NULL, *kk_file = NULL, *cert_file = NULL, *key_file = NULL;
	const char *mqtt_id = NULL, *mqtt_user = NULL, *mqtt_pass = NULL, *mqtt_prefix = "espmqtt";
	int mfln = 512, basic = 0, timeout = 10;
	unsigned vmin = BR_TLS10, vmax = BR_TLS12;
	long long now = (long long)time(NULL);
	fp_context fpc;
	memset(&fpc, 0, sizeof fpc);
	for (int i = 4; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--basic")) { basic = 1; continue; }
		if (v == NULL) { fprintf(stderr, "%s needs a value\n", a); return 2; }
		i++;
		if (!strcmp(a, "--sni")) sni = v;
		else if (!strcmp(a, "--ta")) ta_file = v;
		else if (!strcmp(a, "--knownkey")) kk_file = v;
		else if (!strcmp(a, "--cert")) cert_file = v;
		else if (!strcmp(a, "--key")) key_file = v;
		else if (!strcmp(a, "--time")) now = atoll(v);
		else if (!strcmp(a, "--mqtt")) mqtt_id = v;
		else if (!strcmp(a, "--user")) mqtt_user = v;
		else if (!strcmp(a, "--pass")) mqtt_pass = v;
		else if (!strcmp(a, "--prefix")) mqtt_prefix = v;
		else if (!strcmp(a, "--timeout")) timeout = atoi(v);
		else if (!strcmp(a, "--mfln")) mfln = strcmp(v, "off") ? atoi(v) : 16384;
		else if (!strcmp(a, "--versions")) {
			/* "1.2" or "1.0-1.2": BR_TLS10 + minor. */
			const char *dash = strchr(v, '-');
			vmin = 0x0300 + (unsigned)(v[2] - '0') + 1;
			vmax = dash ? 0x0300 + (unsigned)(dash[3] - '0') + 1 : vmin;
		}
		else if (!strcmp(a, "--fp")) {
			if (fpc.nfp >= 4 || strlen(v) != 40) { fprintf(stderr, "bad --fp\n"); return 2; }
			for (int k = 0; k < 20; k++) {
				int hi = hexval(v[2 * k]), lo = hexval(v[2 * k + 1]);
				if (hi < 0 || lo < 0) { fprintf(stderr, "bad --fp\n"); return 2; }
				fpc.fps[fpc.nfp][k] = (unsigned char)(hi * 16 + lo);
			}
			fpc.nfp++;
		} else { fprintf(stderr, "unknown option %s\n", a); return 2; }
	}

	static br_ssl_client_context sc;
	static br_x509_minimal_context xc;
	static br_x509_knownkey_context kc;
	br_x509_trust_anchor tas[16];
	size_t ntas = 0;

	if (!strcmp(mode, "ca")) {
		pem_list pl;
		if (ta_file == NULL || read_pem(ta_file, &pl) < 0) { fprintf(stderr, "cannot read trust anchors\n"); return 2; }
		for (int i = 0; i < pl.n; i++) {
			br_x509_decoder_context dc;
			blob dn;
			if (decode_cert(&pl.items[i], &dc, &dn) < 0) continue;
			tas[ntas].dn.data = dn.data;
			tas[ntas].dn.len = dn.len;
			tas[ntas].flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
			copy_pkey(&tas[ntas].pkey, br_x509_decoder_get_pkey(&dc));
			ntas++;
		}
	}
	/* Like the core: br_ssl_client_base_init + the engines of ssl_client_full. */
	br_ssl_client_init_full(&sc, &xc, tas, ntas);
	br_ssl_engine_set_default_aes_ccm(&sc.eng);
	br_ssl_engine_set_versions(&sc.eng, vmin, vmax);
	br_ssl_engine_add_flags(&sc.eng, BR_OPT_NO_RENEGOTIATION);
	if (basic)
		br_ssl_engine_set_suites(&sc.eng, suites_basic, sizeof suites_basic / sizeof suites_basic[0]);
	else
		br_ssl_engine_set_suites(&sc.eng, suites_all, sizeof suites_all / sizeof suites_all[0]);

	if (!strcmp(mode, "ca")) {
		br_x509_minimal_set_time(&xc, (uint32_t)(now / 86400 + 719528), (uint32_t)(now % 86400));
	} else if (!strcmp(mode, "pubkey")) {
		pem_list pl;
		if (kk_file == NULL || read_pem(kk_file, &pl) < 1) { fprintf(stderr, "cannot read --knownkey\n"); return 2; }
		br_x509_decoder_context dc;
		blob dn;
		if (decode_cert(&pl.items[0], &dc, &dn) < 0) { fprintf(stderr, "bad --knownkey\n"); return 2; }
		static br_x509_pkey pk;
		copy_pkey(&pk, br_x509_decoder_get_pkey(&dc));
		if (pk.key_type == BR_KEYTYPE_RSA)
			br_x509_knownkey_init_rsa(&kc, &pk.key.rsa, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
		else
			br_x509_knownkey_init_ec(&kc, &pk.key.ec, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
		br_ssl_engine_set_x509(&sc.eng, &kc.vtable);
	} else if (!strcmp(mode, "fingerprint") || !strcmp(mode, "insecure")) {
		fpc.vtable = &fp_vtable;
		fpc.mode_fingerprint = !strcmp(mode, "fingerprint");
		br_ssl_engine_set_x509(&sc.eng, &fpc.vtable);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}

	static br_x509_certificate chain[8];
	size_t nchain = 0;
	static br_skey_decoder_context skc;
	if (cert_file != NULL && key_file != NULL) {
		pem_list cl, kl;
		if (read_pem(cert_file, &cl) < 1 || read_pem(key_file, &kl) < 1) { fprintf(stderr, "cannot read client cert/key\n"); return 2; }
		for (int i = 0; i < cl.n && i < 8; i++) {
			chain[i].data = cl.items[i].data;
			chain[i].data_len = cl.items[i].len;
			nchain++;
		}
		br_skey_decoder_init(&skc);
		br_skey_decoder_push(&skc, kl.items[0].data, kl.items[0].len);
		if (br_skey_decoder_key_type(&skc) == BR_KEYTYPE_RSA) {
			br_ssl_client_set_single_rsa(&sc, chain, nchain, br_skey_decoder_get_rsa(&skc),
				br_rsa_pkcs1_sign_get_default());
		} else if (br_skey_decoder_key_type(&skc) == BR_KEYTYPE_EC) {
			br_ssl_client_set_single_ec(&sc, chain, nchain, br_skey_decoder_get_ec(&skc),
				BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, BR_KEYTYPE_EC, br_ec_get_default(),
				br_ecdsa_sign_asn1_get_default());
		} else {
			fprintf(stderr, "client key does not decode (%d)\n", br_skey_decoder_last_error(&skc));
			return 2;
		}
	}

	/* setBufferSizes(mfln, mfln): recv + 325, xmit + 85. */
	size_t ilen = (size_t)mfln + 325, olen = (size_t)mfln + 85;
	unsigned char *ibuf = malloc(ilen), *obuf = malloc(olen);
	br_ssl_engine_set_buffers_bidi(&sc.eng, ibuf, ilen, obuf, olen);

	/* A server that aborts the handshake closes the socket: a write must
	 * then fail with EPIPE instead of killing the oracle. */
	signal(SIGPIPE, SIG_IGN);
	int fd = connect_to(host, port);
	if (fd < 0) { printf("error tcp\n"); return 3; }
	if (!br_ssl_client_reset(&sc, sni, 0)) {
		printf("error %d\n", br_ssl_engine_last_error(&sc.eng));
		return 1;
	}
	time_t deadline = time(NULL) + timeout;
	for (;;) {
		unsigned st = br_ssl_engine_current_state(&sc.eng);
		if (st & BR_SSL_CLOSED) {
			int err = br_ssl_engine_last_error(&sc.eng);
			printf("error %d\n", err == 0 ? 31 : err);
			return 1;
		}
		if (st & BR_SSL_SENDAPP) {
			br_ssl_session_parameters sp;
			br_ssl_engine_get_session_parameters(&sc.eng, &sp);
			printf("connected suite=0x%04X version=0x%04X", sp.cipher_suite, sp.version);
			if (mqtt_id != NULL) {
				io_deadline = deadline;
				int code = mqtt_connect(&sc.eng, fd, mqtt_id, mqtt_user, mqtt_pass, mqtt_prefix);
				if (code >= 0) printf(" connack=%d", code);
				else printf(" connack=%s", code == -3 ? "other" : code == -2 ? "timeout" : "closed");
				/* Our own wait running out is PubSubClient's timeout,
				 * not a TLS error of the device. */
				int err = br_ssl_engine_last_error(&sc.eng);
				if (err != 0 && code != -2) printf(" error=%d", err);
			}
			printf("\n");
			close(fd);
			return 0;
		}
		if (st & BR_SSL_SENDREC) {
			size_t len;
			unsigned char *buf = br_ssl_engine_sendrec_buf(&sc.eng, &len);
			ssize_t w = write(fd, buf, len);
			if (w <= 0) {
				/* The server gave up; its alert may already be waiting. */
				unsigned char *rb;
				size_t rlen;
				ssize_t r;
				while ((br_ssl_engine_current_state(&sc.eng) & BR_SSL_RECVREC)
					&& (rb = br_ssl_engine_recvrec_buf(&sc.eng, &rlen)) != NULL
					&& (r = read(fd, rb, rlen)) > 0)
				{
					br_ssl_engine_recvrec_ack(&sc.eng, (size_t)r);
				}
				int err = br_ssl_engine_last_error(&sc.eng);
				printf("error %d\n", err == 0 ? 31 : err);
				return 1;
			}
			br_ssl_engine_sendrec_ack(&sc.eng, (size_t)w);
			continue;
		}
		if (st & BR_SSL_RECVREC) {
			struct pollfd pfd = { fd, POLLIN, 0 };
			int left = (int)(deadline - time(NULL));
			if (left <= 0 || poll(&pfd, 1, left * 1000) <= 0) { printf("error timeout\n"); return 1; }
			size_t len;
			unsigned char *buf = br_ssl_engine_recvrec_buf(&sc.eng, &len);
			ssize_t r = read(fd, buf, len);
			if (r <= 0) {
				int err = br_ssl_engine_last_error(&sc.eng);
				printf("error %d\n", err == 0 ? 31 : err);
				return 1;
			}
			br_ssl_engine_recvrec_ack(&sc.eng, (size_t)r);
			continue;
		}
		printf("error stuck\n");
		return 1;
	}
}
