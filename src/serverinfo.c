/* serverinfo.c - see serverinfo.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "cred.h"
#include "fetch.h"
#include "lock.h"
#include "log.h"
#include "pop3.h"
#include "serverinfo.h"
#include "tls_cert.h"
#include "util.h"

/* One printed certificate field (a subject, the list of names): display
 * text, cut with "..." when longer. */
#define SI_TEXT_MAX 1024
#define SI_WHY_MAX 512

struct si {
	const struct config *cfg;
	const struct account *a;
	FILE *out;
	struct conn *conn;  /* owned by pop once pop exists */
	struct pop3 *pop;
	int verified;       /* as a poll would verify: chain and name, or the pin */
	char why[SI_WHY_MAX];
	unsigned char md[TLS_CERT_FP_LEN]; /* the leaf's SHA-256 digest */
	char fp[TLS_CERT_FP_TEXT_MAX];     /* the same as text */
};

static const char *const tls_names[] = {
	[TLS_IMPLICIT] = "implicit", [TLS_STARTTLS] = "starttls", [TLS_NONE] = "none",
};

/* --- printing ----------------------------------------------------------- */

static void field(struct si *s, const char *label, const char *value)
{
	fprintf(s->out, "%-14s%s\n", label, value);
}

/* Server text, sanitised: several lines, each indented. */
static void lines(struct si *s, const char *label, const char *text)
{
	const char *nl;

	if (text[0] == '\0') {
		field(s, label, "(none)");
		return;
	}
	fprintf(s->out, "%s\n", label);
	for (;;) {
		nl = strchr(text, '\n');
		fprintf(s->out, "    %.*s\n", nl != NULL ? (int)(nl - text) : (int)strlen(text), text);
		if (nl == NULL)
			break;
		text = nl + 1;
	}
}

/* What a BIO collected, sanitised into out (SI_TEXT_MAX). */
static void bio_text(BIO *b, char out[SI_TEXT_MAX])
{
	char *data = NULL;
	long len = b != NULL ? BIO_get_mem_data(b, &data) : 0;

	if (len <= 0 || data == NULL) {
		memcpy(out, "(none)", sizeof "(none)");
		return;
	}
	log_sanitize(out, SI_TEXT_MAX, data, (size_t)len);
}

static void name_text(const X509_NAME *name, char out[SI_TEXT_MAX])
{
	BIO *b = BIO_new(BIO_s_mem());

	if (b != NULL && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0)
		(void)BIO_reset(b);
	bio_text(b, out);
	BIO_free(b);
}

static void time_text(const ASN1_TIME *t, char *out, size_t cap)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		(void)snprintf(out, cap, "(unreadable)");
}

/* One subjectAltName entry appended to b as "DNS:x", "IP:x" or "email:x". */
static void san_entry(BIO *b, const GENERAL_NAME *g)
{
	char ip[INET6_ADDRSTRLEN];
	const ASN1_STRING *str;
	int len;

	if (g->type == GEN_DNS || g->type == GEN_EMAIL) {
		str = g->type == GEN_DNS ? g->d.dNSName : g->d.rfc822Name;
		BIO_printf(b, "%s:%.*s", g->type == GEN_DNS ? "DNS" : "email", ASN1_STRING_length(str),
			   (const char *)ASN1_STRING_get0_data(str));
		return;
	}
	if (g->type != GEN_IPADD) {
		BIO_printf(b, "(other)");
		return;
	}
	len = ASN1_STRING_length(g->d.iPAddress);
	if ((len == 4 || len == 16) &&
	    inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), ip,
		      sizeof ip) != NULL)
		BIO_printf(b, "IP:%s", ip);
	else
		BIO_printf(b, "IP:(malformed)");
}

static void san_text(X509 *cert, char out[SI_TEXT_MAX])
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	BIO *b = BIO_new(BIO_s_mem());
	int i;

	for (i = 0; b != NULL && names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		if (i > 0)
			BIO_printf(b, ", ");
		san_entry(b, sk_GENERAL_NAME_value(names, i));
	}
	bio_text(b, out);
	BIO_free(b);
	GENERAL_NAMES_free(names);
}

static void print_cert(struct si *s, int depth, X509 *cert)
{
	char text[SI_TEXT_MAX], from[40], until[40];
	const char *state = "";

	name_text(X509_get_subject_name(cert), text);
	fprintf(s->out, "  %d subject:   %s\n", depth, text);
	name_text(X509_get_issuer_name(cert), text);
	fprintf(s->out, "    issuer:    %s\n", text);
	time_text(X509_get0_notBefore(cert), from, sizeof from);
	time_text(X509_get0_notAfter(cert), until, sizeof until);
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
		state = " (expired)";
	else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
		state = " (not yet valid)";
	fprintf(s->out, "    valid:     %s to %s%s\n", from, until, state);
	san_text(cert, text);
	fprintf(s->out, "    names:     %s\n", text);
}

/* --- verification ------------------------------------------------------- */

/* Why the chain or name check failed, in words that say what to fix. */
static void chain_why(const struct si *s, long vr, char *out, size_t cap)
{
	const struct account *a = s->a;

	if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
		(void)snprintf(out, cap, "its names (subjectAltName) do not include %s", a->host);
	else if (tls_cert_unknown_issuer(vr))
		(void)snprintf(out, cap, "%s: its issuer is not trusted by %s%s",
			       X509_verify_cert_error_string(vr),
			       a->tls_ca_file != NULL ? "tls_ca_file " : "the system store",
			       a->tls_ca_file != NULL ? a->tls_ca_file : "");
	else
		(void)snprintf(out, cap, "%s", X509_verify_cert_error_string(vr));
}

/* The pin check a poll makes (conn_tls.c): the leaf's digest is the
 * configured one.  No constant time needed: the digest is public. */
static int pinned(const struct si *s)
{
	unsigned char pin[TLS_CERT_FP_LEN];

	return tls_cert_fp_parse(s->a->tls_fingerprint, pin) == 0 &&
	       memcmp(pin, s->md, sizeof pin) == 0;
}

/* The verdict a poll would reach: the pin when tls_fingerprint is set,
 * else the chain and name. */
static void verdict(struct si *s, long vr)
{
	char chain[SI_WHY_MAX];

	chain_why(s, vr, chain, sizeof chain);
	if (s->a->tls_fingerprint != NULL) {
		s->verified = pinned(s);
		if (!s->verified)
			(void)snprintf(s->why, sizeof s->why,
				       "its fingerprint is not the account's tls_fingerprint %s",
				       s->a->tls_fingerprint);
		field(s, "chain:", vr == X509_V_OK ? "verifies too" : chain);
	} else {
		s->verified = vr == X509_V_OK;
		memcpy(s->why, chain, sizeof s->why);
	}
	if (s->verified)
		field(s, "verifies:", s->a->tls_fingerprint != NULL
					      ? "yes: the fingerprint is the account's tls_fingerprint"
					      : "yes: trusted chain, and the name matches the host");
	else
		fprintf(s->out, "%-14sNO: %s\n", "verifies:", s->why);
}

/* The TLS part of the report, right after the handshake. */
static void report_tls(struct si *s)
{
	long vr;
	struct stack_st_X509 *chain = conn_peer_chain(s->conn, &vr);
	int i;

	field(s, "TLS:", conn_tls_desc(s->conn));
	if (chain == NULL || sk_X509_num(chain) < 1) {
		(void)snprintf(s->why, sizeof s->why, "the server sent no certificate");
		fprintf(s->out, "%-14sNO: %s\n", "verifies:", s->why);
		return;
	}
	fprintf(s->out, "certificate chain, as the server sent it:\n");
	for (i = 0; i < sk_X509_num(chain); i++)
		print_cert(s, i, sk_X509_value(chain, i));
	if (tls_cert_digest(sk_X509_value(chain, 0), s->md) < 0) {
		(void)snprintf(s->why, sizeof s->why, "its fingerprint cannot be computed");
		return;
	}
	tls_cert_fp_format(s->md, s->fp);
	verdict(s, vr);
	field(s, "fingerprint:", s->fp);
	fprintf(s->out, "%-14stls_fingerprint = \"%s\"\n", "to pin it:", s->fp);
}

/* --- the session -------------------------------------------------------- */

/* A poll's settings, but the handshake completes whatever the
 * certificate: the pin is compared here, in verdict(). */
static void inspect_opts(const struct account *a, struct conn_tls_opts *o)
{
	fetch_tls_opts(a, o);
	o->fingerprint = NULL;
	o->insecure_inspect = 1;
}

/* The session opening a poll makes (pop3_open: TLS, greeting, CAPA, STLS
 * and CAPA again), then the report of what it saw, in that order, as far
 * as it got. */
static int greet(struct si *s, const struct conn_tls_opts *o, struct pf_error *err)
{
	int starttls = s->a->tls == TLS_STARTTLS, rc;

	s->pop = pop3_new(s->conn);
	pop3_set_peer(s->pop, s->a->host, s->a->port);
	rc = pop3_open(s->pop, s->a->tls, o, err);
	if (s->a->tls == TLS_IMPLICIT && conn_is_tls(s->conn))
		report_tls(s);
	if (pop3_greeting_text(s->pop)[0] != '\0')
		field(s, "greeting:", pop3_greeting_text(s->pop));
	if (!starttls) {
		if (rc == 0)
			lines(s, "capabilities (CAPA):", pop3_capa_text(s->pop));
		return rc;
	}
	if (pop3_greeting_text(s->pop)[0] != '\0')
		lines(s, "capabilities before STLS (CAPA):", pop3_capa_text_before_tls(s->pop));
	if (conn_is_tls(s->conn))
		report_tls(s);
	if (rc == 0)
		lines(s, "capabilities after STLS (CAPA):", pop3_capa_text(s->pop));
	return rc;
}

static int login_stat(struct si *s, struct pf_error *err)
{
	const struct account *a = s->a;
	struct pop3_msg *msgs = NULL;
	size_t n = 0;
	char *secret;
	int fd, rc;

	/* One session per maildrop (RFC 1939 section 8): not beside a poll. */
	if (pf_mkdirs(s->cfg->state_dir, 0700) < 0)
		return pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create state_dir %s",
				      s->cfg->state_dir);
	fd = lock_account(s->cfg->state_dir, a->name, err);
	if (fd < 0)
		return -1;
	secret = cred_get_secret(s->cfg, a, err);
	rc = secret != NULL ? pop3_login(s->pop, a->auth, a->user, secret, err) : -1;
	pf_free_secret(secret);
	if (rc == 0)
		rc = pop3_listing(s->pop, &msgs, &n, err);
	if (rc == 0) {
		fprintf(s->out, "%-14sok, as %s\n", "login:", a->user);
		fprintf(s->out, "%-14s%zu, %llu octets\n", "messages:", n,
			(unsigned long long)pop3_maildrop_octets(s->pop));
	}
	free(msgs);
	lock_release(fd);
	return rc;
}

static int session(struct si *s, int login, struct pf_error *err)
{
	const struct account *a = s->a;
	struct conn_tls_opts o;

	inspect_opts(a, &o);
	if (greet(s, &o, err) < 0)
		return -1;
	if (a->tls == TLS_NONE) {
		field(s, "TLS:", "none (tls = none): nothing is encrypted");
		s->verified = 1;
	}
	if (!s->verified)
		return pf_error_set(err, PF_ERR_TLS, "the certificate of %s does not verify: %s%s",
				    a->host, s->why, login ? " (not logging in)" : "");
	return login ? login_stat(s, err) : 0;
}

int serverinfo_run(const struct config *cfg, const struct account *acct, int login, FILE *out,
		   struct pf_error *err)
{
	struct si s = { .cfg = cfg, .a = acct, .out = out };
	struct pf_error e2 = { 0 };
	int rc;

	fprintf(out, "%-14s%s\n%-14s%s port %s, tls = %s\n", "account:", acct->name, "server:",
		acct->host, acct->port, tls_names[acct->tls]);
	s.conn = conn_open(acct->host, acct->port, acct->timeout, err);
	if (s.conn == NULL)
		return -1;
	rc = session(&s, login, err);
	if (s.pop != NULL) {
		/* Polite; the reply tells nothing, and a failure is no news. */
		if (rc == 0 && pop3_quit_nowait(s.pop, &e2) < 0)
			log_verbose("%s: QUIT: %s", acct->name, e2.msg);
		pop3_free(s.pop);
	} else {
		conn_close(s.conn);
	}
	fflush(out);
	return rc;
}
