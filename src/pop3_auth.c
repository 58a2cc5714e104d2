/* pop3_auth.c - logging in: USER/PASS, APOP (RFC 1939) and SASL
 * (RFC 5034), with the mechanism's messages built by sasl.c.  Split from
 * pop3.c, whose session state it shares through pop3_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pop3_int.h"
#include "sasl.h"
#include "util.h"

/* -ERR after credentials: RFC 3206 codes tell a refused login apart from a
 * server that is busy or broken, which must not count as a wrong password. */
static enum pf_errclass login_error_class(const struct pop3 *p)
{
	switch (p->last_code) {
	case POP3_CODE_IN_USE:
	case POP3_CODE_LOGIN_DELAY:
	case POP3_CODE_SYS_TEMP:
	case POP3_CODE_SYS_PERM:
		return PF_ERR_SERVER;
	default:
		return PF_ERR_AUTH;
	}
}

/* Checks a -ERR after USER/PASS or APOP and fixes up the error class. */
static int login_cmd(struct pop3 *p, const char *cmd, int sensitive, struct pf_error *err)
{
	int rc = pop3i_simple_cmd(p, cmd, sensitive, PF_ERR_AUTH, NULL, err);

	if (rc < 0 && err->cls == PF_ERR_AUTH)
		err->cls = login_error_class(p);
	return rc;
}

/* The reply to a PASS that went out without waiting for USER's. */
static int pass_reply(struct pop3 *p, struct pf_error *err)
{
	const char *text;
	int st = pop3i_read_status(p, &text, err);

	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		pop3i_server_error(PF_ERR_AUTH, "PASS", text, err);
		err->cls = login_error_class(p);
		return -1;
	}
	return 0;
}

/* USER and PASS in one go (RFC 2449 PIPELINING).  Nothing follows PASS
 * before its reply: Courier's and qmail's login programs hand the
 * connection to a new process once the password checks out, and whatever
 * arrived behind PASS is lost with the old process's buffer. */
static int login_user_pipelined(struct pop3 *p, const char *user, const char *pass_cmd,
				struct pf_error *err)
{
	char cmd[PF_LINE_MAX];
	const char *text;
	int n = snprintf(cmd, sizeof cmd, "USER %s", user), st;

	if (n < 0 || (size_t)n >= sizeof cmd)
		return pf_error_set(err, PF_ERR_CONFIG, "user name too long");
	if (pop3i_send_line(p, cmd, 0, err) < 0 || pop3i_send_line(p, pass_cmd, 1, err) < 0)
		return -1;
	st = pop3i_read_status(p, &text, err);
	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		/* PASS still has its reply coming. */
		pop3i_server_error(PF_ERR_AUTH, "USER", text, err);
		return pop3i_broken(p);
	}
	return pass_reply(p, err);
}

/* USER, then PASS after USER's reply. */
static int login_user_lockstep(struct pop3 *p, const char *user, const char *pass_cmd,
			       struct pf_error *err)
{
	char cmd[PF_LINE_MAX];
	int n = snprintf(cmd, sizeof cmd, "USER %s", user);

	if (n < 0 || (size_t)n >= sizeof cmd)
		return pf_error_set(err, PF_ERR_CONFIG, "user name too long");
	if (pop3i_simple_cmd(p, cmd, 0, PF_ERR_AUTH, NULL, err) < 0)
		return -1;
	return login_cmd(p, pass_cmd, 1, err);
}

static int login_user(struct pop3 *p, const char *user, const char *secret, struct pf_error *err)
{
	char pass[PF_LINE_MAX];
	int n = snprintf(pass, sizeof pass, "PASS %s", secret), rc;

	if (n < 0 || (size_t)n >= sizeof pass)
		rc = pf_error_set(err, PF_ERR_CONFIG, "password too long for USER/PASS");
	else if (p->listing_next && p->caps.pipelining)
		rc = login_user_pipelined(p, user, pass, err);
	else
		rc = login_user_lockstep(p, user, pass, err);
	pf_wipe(pass, sizeof pass);
	return rc;
}

/* RFC 1939 section 7: the password never crosses the wire, but MD5 of it
 * does, so APOP is used only when asked for. */
static int login_apop(struct pop3 *p, const char *user, const char *secret, struct pf_error *err)
{
	char hex[SASL_MD5_HEX_SIZE], cmd[PF_LINE_MAX];
	int n, rc;

	if (p->apop_ts[0] == '\0')
		return pf_error_set(err, PF_ERR_CONFIG, "auth = apop, but the server's greeting "
				    "has no APOP timestamp: the server does not offer APOP");
	if (sasl_apop_digest(p->apop_ts, secret, hex) < 0)
		return pf_error_set(err, PF_ERR_INTERNAL, "OpenSSL could not compute MD5 for APOP");
	n = snprintf(cmd, sizeof cmd, "APOP %s %s", user, hex);
	pf_wipe(hex, sizeof hex);
	if (n < 0 || (size_t)n >= sizeof cmd)
		return pf_error_set(err, PF_ERR_CONFIG, "user name too long");
	rc = login_cmd(p, cmd, 2, err);
	pf_wipe(cmd, sizeof cmd);
	return rc;
}

/* --- SASL (RFC 5034) ---------------------------------------------------- */

/* RFC 2449 section 4: a command is at most 255 octets with its CRLF;
 * RFC 5034 section 4: an initial response that would make AUTH longer is
 * sent after the first "+ " instead (OAuth2 tokens are long). */
#define AUTH_LINE_MAX 255

/* One SASL exchange.  Holds secrets: wiped before it is freed. */
struct auth {
	struct pop3 *p;
	enum auth_mech mech;
	const char *name;                   /* "PLAIN", ... */
	struct pf_error *err;
	unsigned char raw[PF_SASL_RAW_MAX]; /* the next client message */
	size_t rawlen;
	char b64[PF_SASL_B64_MAX + 2];      /* ... in base64, room for CRLF */
	size_t b64len;
	unsigned char chal[PF_LINE_MAX];    /* the last challenge, decoded */
	size_t chal_len;
	int chal_bad;                       /* it was not valid base64 */
	char oauth_error[PF_ERRMSG_MAX / 4];/* an OAuth2 error challenge, sanitised */
};

static int auth_too_long(struct auth *a)
{
	return pf_error_set(a->err, PF_ERR_CONFIG, "user name or secret too long for AUTH %s, "
			    "or it holds a control character", a->name);
}

static int auth_encode(struct auth *a)
{
	if (sasl_b64_encode(a->raw, a->rawlen, a->b64, sizeof a->b64 - 2, &a->b64len) < 0)
		return auth_too_long(a);
	return 0;
}

/* Sends a->raw as a line of base64 (a continuation); the trace shows only
 * "****".  Not send_line: a token may be longer than a status line. */
static int auth_send(struct auth *a)
{
	if (auth_encode(a) < 0)
		return -1;
	log_trace("C: ****");
	memcpy(a->b64 + a->b64len, "\r\n", 2);
	a->p->commands++;
	if (conn_write(a->p->conn, a->b64, a->b64len + 2, a->err) < 0)
		return pop3i_broken(a->p);
	return 0;
}

/* Reads the answer to an AUTH step: POP3_OK, or POP3_CONT with the
 * challenge decoded into a->chal, or -1 (a -ERR is a refused login). */
static int auth_reply(struct auth *a)
{
	char clean[PF_ERRMSG_MAX / 4];
	const char *text;
	int st = pop3i_read_status(a->p, &text, a->err);

	if (st == POP3_ERR) {
		log_sanitize(clean, sizeof clean, text, strlen(text));
		return pf_error_set(a->err, login_error_class(a->p), "server refused AUTH %s: %s%s%s",
				    a->name, clean[0] ? clean : "(no reason given)",
				    a->oauth_error[0] ? "; OAuth2 error: " : "", a->oauth_error);
	}
	if (st == POP3_CONT)
		a->chal_bad = sasl_b64_decode(text, strlen(text), a->chal, sizeof a->chal,
					      &a->chal_len) < 0;
	return st;
}

/* "AUTH mech" alone: the server must answer with a challenge. */
static int auth_command(struct auth *a)
{
	char cmd[64];
	int n, st;

	n = snprintf(cmd, sizeof cmd, "AUTH %s", a->name);
	if (n < 0 || (size_t)n >= sizeof cmd)
		return pf_error_set(a->err, PF_ERR_INTERNAL, "command too long");
	if (pop3i_send_line(a->p, cmd, 0, a->err) < 0)
		return -1;
	st = auth_reply(a);
	if (st == POP3_OK) {
		pf_error_set(a->err, PF_ERR_PROTO, "server accepted AUTH %s without credentials",
			     a->name);
		return pop3i_broken(a->p);
	}
	return st < 0 ? -1 : 0;
}

/* Sends a->raw as the initial response: on the AUTH line when it fits,
 * else after the first challenge.  Returns the status of the reply. */
static int auth_initial(struct auth *a)
{
	char cmd[AUTH_LINE_MAX];
	int n, sent;

	if (auth_encode(a) < 0)
		return -1;
	/* "AUTH X data" with CRLF must fit in 255 octets. */
	n = snprintf(cmd, sizeof cmd, "AUTH %s %s", a->name, a->b64);
	if (n > 0 && (size_t)n + 2 <= AUTH_LINE_MAX) {
		/* Nothing goes out behind AUTH before its reply: Cyrus drops
		 * input that arrives in the same segment as AUTH. */
		sent = pop3i_send_line(a->p, cmd, 2, a->err);
		pf_wipe(cmd, sizeof cmd);
		return sent < 0 ? -1 : auth_reply(a);
	}
	pf_wipe(cmd, sizeof cmd);
	if (auth_command(a) < 0 || auth_send(a) < 0)
		return -1;
	return auth_reply(a);
}

/* The last step: +OK logs in.  A challenge now is an OAuth2 error (RFC
 * 7628 section 3.2.2, Google's XOAUTH2): it gets the mechanism's dummy
 * reply so the server can finish with -ERR. */
static int auth_finish(struct auth *a, int st)
{
	if (st == POP3_OK)
		return 0;
	if (st != POP3_CONT)
		return -1;
	if (a->mech != AUTH_XOAUTH2 && a->mech != AUTH_OAUTHBEARER) {
		pf_error_set(a->err, PF_ERR_PROTO, "server asked for more AUTH %s data", a->name);
		return pop3i_broken(a->p);
	}
	log_sanitize(a->oauth_error, sizeof a->oauth_error, (const char *)a->chal,
		     a->chal_bad ? 0 : a->chal_len);
	sasl_oauth_abort(a->mech, a->raw, &a->rawlen);
	if (auth_send(a) < 0)
		return -1;
	st = auth_reply(a);
	if (st == POP3_CONT) {
		pf_error_set(a->err, PF_ERR_PROTO, "server kept asking for AUTH %s data", a->name);
		return pop3i_broken(a->p);
	}
	return st == POP3_OK ? 0 : -1;
}

static int auth_plain(struct auth *a, const char *user, const char *secret)
{
	if (sasl_plain(user, secret, a->raw, sizeof a->raw, &a->rawlen) < 0)
		return auth_too_long(a);
	return auth_finish(a, auth_initial(a));
}

/* LOGIN: the user name after the first challenge, the password after the
 * second; the prompts' wording varies between servers and is not read. */
static int auth_login(struct auth *a, const char *user, const char *secret)
{
	const char *answers[] = { user, secret };
	int st = 0;

	if (auth_command(a) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (st == POP3_OK) {
			pf_error_set(a->err, PF_ERR_PROTO, "server accepted AUTH LOGIN without a password");
			return pop3i_broken(a->p);
		}
		a->rawlen = strlen(answers[i]);
		if (a->rawlen > sizeof a->raw)
			return auth_too_long(a);
		memcpy(a->raw, answers[i], a->rawlen);
		if (auth_send(a) < 0 || (st = auth_reply(a)) < 0)
			return -1;
	}
	return auth_finish(a, st);
}

static int auth_cram_md5(struct auth *a, const char *user, const char *secret)
{
	if (auth_command(a) < 0)
		return -1;
	if (a->chal_bad) {
		pf_error_set(a->err, PF_ERR_PROTO, "server sent a CRAM-MD5 challenge that is not base64");
		return pop3i_broken(a->p);
	}
	if (sasl_cram_md5(user, secret, a->chal, a->chal_len, a->raw, sizeof a->raw, &a->rawlen) < 0)
		return auth_too_long(a);
	if (auth_send(a) < 0)
		return -1;
	return auth_finish(a, auth_reply(a));
}

/* Outlook.com takes XOAUTH2 only in two steps (AUTH XOAUTH2, "+ ", then
 * the token); Gmail takes both, so it is always two steps. */
static int auth_xoauth2(struct auth *a, const char *user, const char *token)
{
	if (sasl_xoauth2(user, token, a->raw, sizeof a->raw, &a->rawlen) < 0)
		return auth_too_long(a);
	if (auth_command(a) < 0 || auth_send(a) < 0)
		return -1;
	return auth_finish(a, auth_reply(a));
}

static int auth_oauthbearer(struct auth *a, const char *user, const char *token)
{
	const char *host = a->p->peer_host[0] ? a->p->peer_host : NULL;
	const char *port = a->p->peer_port[0] ? a->p->peer_port : NULL;

	if (sasl_oauthbearer(user, host, port, token, a->raw, sizeof a->raw, &a->rawlen) < 0)
		return auth_too_long(a);
	return auth_finish(a, auth_initial(a));
}

static int login_sasl(struct pop3 *p, enum auth_mech mech, const char *user,
		      const char *secret, struct pf_error *err)
{
	static int (*const fns[])(struct auth *, const char *, const char *) = {
		[AUTH_PLAIN] = auth_plain,	   [AUTH_LOGIN] = auth_login,
		[AUTH_CRAM_MD5] = auth_cram_md5, [AUTH_XOAUTH2] = auth_xoauth2,
		[AUTH_OAUTHBEARER] = auth_oauthbearer,
	};
	struct auth *a;
	int rc;

	if ((unsigned)mech >= sizeof fns / sizeof fns[0] || fns[mech] == NULL)
		return pf_error_set(err, PF_ERR_INTERNAL, "unknown authentication mechanism %d",
				    (int)mech);
	a = xcalloc(1, sizeof *a);
	a->p = p;
	a->mech = mech;
	a->name = sasl_mech_name(mech);
	a->err = err;
	rc = fns[mech](a, user, secret);
	pf_wipe(a, sizeof *a);
	free(a);
	return rc;
}

void pop3_set_peer(struct pop3 *p, const char *host, const char *port)
{
	int n = snprintf(p->peer_host, sizeof p->peer_host, "%s", host ? host : "");
	int m = snprintf(p->peer_port, sizeof p->peer_port, "%s", port ? port : "");

	/* Too long to send whole: send nothing (both keys are optional). */
	if (n < 0 || (size_t)n >= sizeof p->peer_host)
		p->peer_host[0] = '\0';
	if (m < 0 || (size_t)m >= sizeof p->peer_port)
		p->peer_port[0] = '\0';
}

int pop3_login(struct pop3 *p, enum auth_mech mech, const char *user, const char *secret,
	       struct pf_error *err)
{
	char offered[64];
	int rc;

	if (mech == AUTH_AUTO) {
		mech = sasl_auto_mech(&p->caps);
		log_verbose("auth = auto: logging in with %s", sasl_mech_name(mech));
	}
	if (sasl_server_lacks(&p->caps, mech)) {
		sasl_offered(&p->caps, offered, sizeof offered);
		return pf_error_set(err, PF_ERR_CONFIG, "server does not offer AUTH %s (it offers "
				    "SASL %s); choose another auth", sasl_mech_name(mech), offered);
	}
	if (mech == AUTH_USER)
		rc = login_user(p, user, secret, err);
	else if (mech == AUTH_APOP)
		rc = login_apop(p, user, secret, err);
	else
		rc = login_sasl(p, mech, user, secret, err);
	if (rc < 0)
		return rc;
	pop3i_set_state(p, ST_TRANSACTION);
	/* The login's reply has been read: the listing may go out now, and
	 * the server prepares it while the caller opens its uid store.  Not
	 * a moment earlier (see login_user_pipelined). */
	if (p->listing_next && p->caps.pipelining)
		rc = pop3i_send_listing(p, err);
	p->listing_next = 0;
	return rc;
}
