/* pop3.c - see pop3.h.  A session is a small state machine (greeting,
 * authorization, transaction, quit) over conn, with a FIFO of queued RETR
 * and DELE commands that is written ahead when the server announced
 * PIPELINING (RFC 2449 section 6.6) and one at a time when it did not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "log.h"
#include "pop3.h"
#include "sasl.h"
#include "util.h"

enum pop3_state {
	ST_GREETING,
	ST_AUTHORIZATION,
	ST_TRANSACTION,
	ST_DONE,
	ST_BROKEN,
};

static const char *const state_names[] = {
	[ST_GREETING] = "greeting",
	[ST_AUTHORIZATION] = "authorization",
	[ST_TRANSACTION] = "transaction",
	[ST_DONE] = "done",
	[ST_BROKEN] = "broken",
};

/* A queued command: "RETR 4294967295\r\n" fits easily. */
#define QCMD_MAX 32

struct qcmd {
	char text[QCMD_MAX];
	size_t len;
};

struct pop3 {
	struct conn *conn;
	enum pop3_state state;
	struct pop3_capa caps;
	enum pop3_code last_code;
	unsigned long commands;
	char line[PF_LINE_MAX];
	char apop_ts[PF_LINE_MAX];
	/* What OAUTHBEARER tells the server it connected to (pop3_set_peer). */
	char peer_host[PF_NAME_MAX + 1];
	char peer_port[16];
	/* FIFO of RETR/DELE: [head, head+count) queued, the first `written`
	 * of them already sent. */
	struct qcmd fifo[POP3_PIPELINE_MAX];
	size_t head, count, written;
	char out[POP3_PIPELINE_MAX * QCMD_MAX];
	size_t outlen;
	struct decode dec;
	int in_body;
};

static void set_state(struct pop3 *p, enum pop3_state st)
{
	if (p->state != st)
		log_trace("pop3: %s -> %s", state_names[p->state], state_names[st]);
	p->state = st;
}

struct pop3 *pop3_new(struct conn *c)
{
	struct pop3 *p = xcalloc(1, sizeof *p);

	p->conn = c;
	p->state = ST_GREETING;
	pop3_capa_init(&p->caps);
	return p;
}

void pop3_free(struct pop3 *p)
{
	if (p == NULL)
		return;
	conn_close(p->conn);
	free(p);
}

const struct pop3_capa *pop3_caps(const struct pop3 *p)
{
	return &p->caps;
}

enum pop3_code pop3_last_code(const struct pop3 *p)
{
	return p->last_code;
}

unsigned long pop3_commands_sent(const struct pop3 *p)
{
	return p->commands;
}

/* Fails the session for good: after a protocol or I/O error we can no
 * longer tell which reply belongs to which command. */
static int broken(struct pop3 *p)
{
	set_state(p, ST_BROKEN);
	return -1;
}

static int send_line(struct pop3 *p, const char *line, int sensitive, struct pf_error *err)
{
	char buf[PF_LINE_MAX + 2];
	size_t len = strlen(line);

	if (len > PF_LINE_MAX - 2)
		return pf_error_set(err, PF_ERR_INTERNAL, "command too long");
	if (sensitive) {
		/* sensitive is the number of words to show: 1 "PASS ****",
		 * 2 "AUTH PLAIN ****", 3 a bare continuation "****". */
		int words = sensitive < 3 ? sensitive : 0;
		size_t shown = 0;

		while (words-- > 0 && shown < len) {
			shown += strcspn(line + shown, " ");
			if (line[shown] == ' ')
				shown++;
		}
		log_trace("C: %.*s****", (int)shown, line);
	} else {
		log_trace("C: %s", line);
	}
	memcpy(buf, line, len);
	memcpy(buf + len, "\r\n", 2);
	p->commands++;
	if (conn_write(p->conn, buf, len + 2, err) < 0)
		return broken(p);
	pf_wipe(buf, len);
	return 0;
}

/* Reads one status line.  Returns POP3_OK, POP3_ERR, POP3_CONT or -1; on
 * POP3_ERR the response code is kept and *text_r points at the text. */
static int read_status(struct pop3 *p, const char **text_r, struct pf_error *err)
{
	char clean[PF_LINE_MAX];
	size_t len;
	int st;

	if (conn_getline(p->conn, p->line, sizeof p->line, &len, err) < 0)
		return broken(p);
	log_sanitize(clean, sizeof clean, p->line, len);
	log_trace("S: %s", clean);
	st = pop3_reply_status(p->line, text_r);
	if (st < 0) {
		pf_error_set(err, PF_ERR_PROTO, "server sent an invalid status line: %s", clean);
		return broken(p);
	}
	p->last_code = st == POP3_ERR ? pop3_reply_code(*text_r) : POP3_CODE_NONE;
	return st;
}

/* The error for a -ERR reply to cmd: the server's text, sanitised. */
static int server_error(enum pf_errclass cls, const char *cmd,
			const char *text, struct pf_error *err)
{
	char clean[PF_ERRMSG_MAX / 2];

	log_sanitize(clean, sizeof clean, text, strlen(text));
	return pf_error_set(err, cls, "server refused %s: %s", cmd, clean[0] ? clean : "(no reason given)");
}

/* Sends cmd and reads its status line; -ERR is an error of class cls. */
static int simple_cmd(struct pop3 *p, const char *cmd, int sensitive, enum pf_errclass cls,
		      const char **text_r, struct pf_error *err)
{
	const char *text;
	int st;

	if (send_line(p, cmd, sensitive, err) < 0)
		return -1;
	st = read_status(p, &text, err);
	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		char verb[8];

		(void)snprintf(verb, sizeof verb, "%s", cmd);
		verb[strcspn(verb, " ")] = '\0';
		return server_error(cls, verb, text, err);
	}
	if (text_r != NULL)
		*text_r = text;
	return 0;
}

int pop3_greeting(struct pop3 *p, struct pf_error *err)
{
	const char *text;
	int st = read_status(p, &text, err);

	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		server_error(PF_ERR_SERVER, "the connection", text, err);
		return broken(p);
	}
	if (pop3_greeting_timestamp(text, p->apop_ts, sizeof p->apop_ts) < 0)
		p->apop_ts[0] = '\0';
	set_state(p, ST_AUTHORIZATION);
	return 0;
}

/* Reads the lines of a multi-line reply up to ".", calling fn for each
 * (dot-unstuffed).  At most max_lines lines. */
static int read_multiline(struct pop3 *p, unsigned long max_lines,
			  int (*fn)(const char *line, void *ctx, struct pf_error *err),
			  void *ctx, struct pf_error *err)
{
	unsigned long n = 0;
	size_t len;

	for (;;) {
		const char *l = p->line;

		if (conn_getline(p->conn, p->line, sizeof p->line, &len, err) < 0)
			return broken(p);
		if (l[0] == '.') {
			if (len == 1)
				return 0;
			l++; /* RFC 1939 section 3: byte-stuffed line */
		}
		if (++n > max_lines) {
			pf_error_set(err, PF_ERR_PROTO, "server listing has more than %lu lines", max_lines);
			return broken(p);
		}
		if (log_get_level() >= LOG_LVL_TRACE) {
			char clean[PF_LINE_MAX];

			log_sanitize(clean, sizeof clean, l, strlen(l));
			log_trace("S: %s", clean);
		}
		if (fn(l, ctx, err) < 0)
			return broken(p);
	}
}

static int capa_line(const char *line, void *ctx, struct pf_error *err)
{
	(void)err;
	(void)pop3_capa_line(ctx, line); /* unknown or odd lines are ignored */
	return 0;
}

int pop3_capa(struct pop3 *p, struct pf_error *err)
{
	const char *text;
	int st;

	pop3_capa_init(&p->caps);
	if (send_line(p, "CAPA", 0, err) < 0)
		return -1;
	st = read_status(p, &text, err);
	if (st < 0)
		return -1;
	if (st != POP3_OK)
		return 0; /* RFC 1939-only server: nothing known, not an error */
	p->caps.have_capa = 1;
	/* CAPA lists a few dozen lines at most; 1000 bounds a hostile one. */
	return read_multiline(p, 1000, capa_line, &p->caps, err);
}

int pop3_stls(struct pop3 *p, const struct conn_tls_opts *opts, struct pf_error *err)
{
	const char *text;
	int st;

	if (!p->caps.stls)
		return pf_error_set(err, PF_ERR_TLS,
				    "server does not offer STLS; refusing to continue without TLS");
	if (send_line(p, "STLS", 0, err) < 0)
		return -1;
	st = read_status(p, &text, err);
	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		server_error(PF_ERR_TLS, "STLS", text, err);
		return broken(p);
	}
	if (conn_starttls(p->conn, opts, err) < 0)
		return broken(p);
	/* RFC 2595 section 4: forget everything learned before TLS. */
	pop3_capa_init(&p->caps);
	return 0;
}

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
	int rc = simple_cmd(p, cmd, sensitive, PF_ERR_AUTH, NULL, err);

	if (rc < 0 && err->cls == PF_ERR_AUTH)
		err->cls = login_error_class(p);
	return rc;
}

static int login_user(struct pop3 *p, const char *user, const char *secret, struct pf_error *err)
{
	char cmd[PF_LINE_MAX];
	int n, rc;

	n = snprintf(cmd, sizeof cmd, "USER %s", user);
	if (n < 0 || (size_t)n >= sizeof cmd)
		return pf_error_set(err, PF_ERR_CONFIG, "user name too long");
	if (simple_cmd(p, cmd, 0, PF_ERR_AUTH, NULL, err) < 0)
		return -1;
	n = snprintf(cmd, sizeof cmd, "PASS %s", secret);
	if (n < 0 || (size_t)n >= sizeof cmd) {
		pf_wipe(cmd, sizeof cmd);
		return pf_error_set(err, PF_ERR_CONFIG, "password too long for USER/PASS");
	}
	rc = login_cmd(p, cmd, 1, err);
	pf_wipe(cmd, sizeof cmd);
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
		return broken(a->p);
	return 0;
}

/* Reads the answer to an AUTH step: POP3_OK, or POP3_CONT with the
 * challenge decoded into a->chal, or -1 (a -ERR is a refused login). */
static int auth_reply(struct auth *a)
{
	char clean[PF_ERRMSG_MAX / 4];
	const char *text;
	int st = read_status(a->p, &text, a->err);

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
	if (send_line(a->p, cmd, 0, a->err) < 0)
		return -1;
	st = auth_reply(a);
	if (st == POP3_OK) {
		pf_error_set(a->err, PF_ERR_PROTO, "server accepted AUTH %s without credentials",
			     a->name);
		return broken(a->p);
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
		sent = send_line(a->p, cmd, 2, a->err);
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
		return broken(a->p);
	}
	log_sanitize(a->oauth_error, sizeof a->oauth_error, (const char *)a->chal,
		     a->chal_bad ? 0 : a->chal_len);
	sasl_oauth_abort(a->mech, a->raw, &a->rawlen);
	if (auth_send(a) < 0)
		return -1;
	st = auth_reply(a);
	if (st == POP3_CONT) {
		pf_error_set(a->err, PF_ERR_PROTO, "server kept asking for AUTH %s data", a->name);
		return broken(a->p);
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
			return broken(a->p);
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
		return broken(a->p);
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
	if (rc == 0)
		set_state(p, ST_TRANSACTION);
	return rc;
}

/* --- the maildrop listing --------------------------------------------- */

struct listing {
	struct pop3_msg *msgs;
	unsigned long count;  /* from STAT */
	unsigned char *seen;  /* per number: got a line in this listing */
};

static struct pop3_msg *listing_slot(struct listing *l, unsigned long num, const char *what,
				     struct pf_error *err)
{
	if (num < 1 || num > l->count) {
		pf_error_set(err, PF_ERR_PROTO,
			     "server %s listing names message %lu, but STAT said %lu", what, num,
			     l->count);
		return NULL;
	}
	if (l->seen[num - 1]) {
		pf_error_set(err, PF_ERR_PROTO, "server %s listing names message %lu twice", what, num);
		return NULL;
	}
	l->seen[num - 1] = 1;
	return &l->msgs[num - 1];
}

static int uidl_line(const char *line, void *ctx, struct pf_error *err)
{
	char uid[PF_UID_MAX + 1], clean[80];
	unsigned long num;
	struct pop3_msg *m;

	if (pop3_parse_uidl(line, &num, uid) < 0) {
		log_sanitize(clean, sizeof clean, line, strlen(line));
		return pf_error_set(err, PF_ERR_PROTO, "server sent an invalid UIDL line: %s", clean);
	}
	if ((m = listing_slot(ctx, num, "UIDL", err)) == NULL)
		return -1;
	memcpy(m->uid, uid, sizeof m->uid);
	return 0;
}

static int list_line(const char *line, void *ctx, struct pf_error *err)
{
	char clean[80];
	unsigned long num;
	uint64_t size;
	struct pop3_msg *m;

	if (pop3_parse_list(line, &num, &size) < 0) {
		log_sanitize(clean, sizeof clean, line, strlen(line));
		return pf_error_set(err, PF_ERR_PROTO, "server sent an invalid LIST line: %s", clean);
	}
	if ((m = listing_slot(ctx, num, "LIST", err)) == NULL)
		return -1;
	m->size = size;
	return 0;
}

static int cmp_uid(const void *a, const void *b)
{
	return strcmp((*(const struct pop3_msg *const *)a)->uid,
		      (*(const struct pop3_msg *const *)b)->uid);
}

/* A repeated UID would make two messages one in the uid store: refuse. */
static int check_unique_uids(const struct listing *l, struct pf_error *err)
{
	const struct pop3_msg **v;
	unsigned long i;
	int rc = 0;

	if (l->count < 2)
		return 0;
	v = xcalloc(l->count, sizeof *v);
	for (i = 0; i < l->count; i++)
		v[i] = &l->msgs[i];
	qsort(v, l->count, sizeof *v, cmp_uid);
	for (i = 1; i < l->count && rc == 0; i++)
		if (strcmp(v[i - 1]->uid, v[i]->uid) == 0)
			rc = pf_error_set(err, PF_ERR_PROTO,
					  "server gave messages %lu and %lu the same UID", v[i - 1]->num,
					  v[i]->num);
	free(v);
	return rc;
}

/* Reads one listing (UIDL or LIST) whose command was already sent.  Returns
 * 1 when the server refused it (-ERR), 0 when read, -1 on error. */
static int read_listing(struct pop3 *p, struct listing *l, const char *what,
			int (*fn)(const char *, void *, struct pf_error *), struct pf_error *err)
{
	const char *text;
	int st = read_status(p, &text, err);

	if (st < 0)
		return -1;
	if (st != POP3_OK)
		return 1;
	memset(l->seen, 0, l->count ? l->count : 1);
	if (read_multiline(p, l->count, fn, l, err) < 0)
		return -1;
	if (memchr(l->seen, 0, l->count) != NULL)
		return pf_error_set(err, PF_ERR_PROTO, "server %s listing is incomplete", what);
	return 0;
}

/* STAT's reply (the command was sent already). */
static int stat_count(struct pop3 *p, unsigned long *count_r, struct pf_error *err)
{
	const char *text;
	uint64_t size;
	int st = read_status(p, &text, err);

	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		server_error(PF_ERR_SERVER, "STAT", text, err);
		return broken(p); /* pipelined listings may be on their way */
	}
	if (pop3_parse_stat(text, count_r, &size) < 0)
		return pf_error_set(err, PF_ERR_PROTO, "server sent an invalid STAT reply");
	if (*count_r > PF_LISTING_MAX)
		return pf_error_set(err, PF_ERR_PROTO, "server reports %lu messages, more than %lu",
				    *count_r, PF_LISTING_MAX);
	return 0;
}

/* UIDL and LIST, written together when the server pipelines. */
/* UIDL and LIST replies; with PIPELINING both were sent with STAT. */
static int read_listings(struct pop3 *p, struct listing *l, struct pf_error *err)
{
	int pipe = p->caps.pipelining, rc;

	if (!pipe && send_line(p, "UIDL", 0, err) < 0)
		return -1;
	rc = read_listing(p, l, "UIDL", uidl_line, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		/* No UIDL (RFC 1939 makes it optional): the caller falls back. */
		log_verbose("server does not support UIDL");
		for (unsigned long i = 0; i < l->count; i++)
			l->msgs[i].uid[0] = '\0';
	} else if (check_unique_uids(l, err) < 0) {
		return broken(p);
	}
	if (!pipe && send_line(p, "LIST", 0, err) < 0)
		return -1;
	rc = read_listing(p, l, "LIST", list_line, err);
	if (rc == 1)
		return pf_error_set(err, PF_ERR_SERVER, "server refused LIST");
	return rc;
}

int pop3_listing(struct pop3 *p, struct pop3_msg **msgs_r, size_t *n_r, struct pf_error *err)
{
	struct listing l = { 0 };
	unsigned long i;

	/* One round trip for all three when the server pipelines. */
	if (send_line(p, "STAT", 0, err) < 0)
		return -1;
	if (p->caps.pipelining &&
	    (send_line(p, "UIDL", 0, err) < 0 || send_line(p, "LIST", 0, err) < 0))
		return -1;
	if (stat_count(p, &l.count, err) < 0)
		return -1;
	l.msgs = xcalloc(l.count ? l.count : 1, sizeof *l.msgs);
	l.seen = xcalloc(l.count ? l.count : 1, 1);
	for (i = 0; i < l.count; i++)
		l.msgs[i].num = i + 1;
	if (read_listings(p, &l, err) < 0) {
		free(l.msgs);
		free(l.seen);
		return -1;
	}
	free(l.seen);
	*msgs_r = l.msgs;
	*n_r = l.count;
	return 0;
}

/* --- pipelined RETR and DELE ------------------------------------------- */

/* Moves queued commands into the output buffer: all of them when the
 * server pipelines, otherwise only when nothing is awaiting a reply. */
static void stage(struct pop3 *p)
{
	while (p->written < p->count && (p->caps.pipelining || p->written == 0)) {
		const struct qcmd *q = &p->fifo[(p->head + p->written) % POP3_PIPELINE_MAX];

		log_trace("C: %.*s", (int)q->len - 2, q->text);
		memcpy(p->out + p->outlen, q->text, q->len);
		p->outlen += q->len;
		p->written++;
		p->commands++;
	}
}

/* Writes what stage() collected, as one write: one TLS record for a
 * whole window of commands. */
int pop3_flush(struct pop3 *p, struct pf_error *err)
{
	stage(p);
	if (p->outlen == 0)
		return 0;
	if (conn_write(p->conn, p->out, p->outlen, err) < 0)
		return broken(p);
	p->outlen = 0;
	return 0;
}

static int queue_cmd(struct pop3 *p, const char *verb, unsigned long num, struct pf_error *err)
{
	struct qcmd *q;
	int n;

	if (p->state != ST_TRANSACTION)
		return pf_error_set(err, PF_ERR_INTERNAL, "%s outside the transaction state", verb);
	if (p->count == POP3_PIPELINE_MAX)
		return pf_error_set(err, PF_ERR_INTERNAL, "too many queued POP3 commands");
	q = &p->fifo[(p->head + p->count) % POP3_PIPELINE_MAX];
	n = snprintf(q->text, sizeof q->text, "%s %lu\r\n", verb, num);
	if (n < 0 || (size_t)n >= sizeof q->text)
		return pf_error_set(err, PF_ERR_INTERNAL, "command too long");
	q->len = (size_t)n;
	p->count++;
	return 0;
}

/* The oldest queued command has been answered completely. */
static void dequeue(struct pop3 *p)
{
	p->head = (p->head + 1) % POP3_PIPELINE_MAX;
	p->count--;
	p->written--;
}

/* Reads the status of the oldest queued command, which must be verb. */
static int queued_status(struct pop3 *p, const char *verb, const char **text_r,
			 struct pf_error *err)
{
	if (p->count == 0 || strncmp(p->fifo[p->head].text, verb, 4) != 0 || p->in_body)
		return pf_error_set(err, PF_ERR_INTERNAL, "no %s queued", verb);
	if (pop3_flush(p, err) < 0)
		return -1;
	return read_status(p, text_r, err);
}

int pop3_retr_queue(struct pop3 *p, unsigned long num, struct pf_error *err)
{
	return queue_cmd(p, "RETR", num, err);
}

int pop3_retr_begin(struct pop3 *p, struct pf_error *err)
{
	const char *text;
	int st = queued_status(p, "RETR", &text, err);

	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		dequeue(p);
		return server_error(PF_ERR_SERVER, "RETR", text, err);
	}
	decode_init(&p->dec);
	p->in_body = 1;
	return 0;
}

int pop3_retr_read(struct pop3 *p, char *out, size_t *outlen_r, int *done_r,
		   struct pf_error *err)
{
	const char *data;
	size_t len, used;

	*outlen_r = 0;
	*done_r = 0;
	if (!p->in_body)
		return pf_error_set(err, PF_ERR_INTERNAL, "no message being read");
	if (conn_peek(p->conn, &data, &len, err) < 0)
		return broken(p);
	if (len > PF_IOBUF_SIZE)
		len = PF_IOBUF_SIZE;
	used = decode_feed(&p->dec, data, len, out, outlen_r);
	conn_consume(p->conn, used);
	if (decode_done(&p->dec)) {
		p->in_body = 0;
		*done_r = 1;
		dequeue(p);
	}
	return 0;
}

void pop3_retr_totals(const struct pop3 *p, uint64_t *bytes_r, uint64_t *lines_r)
{
	*bytes_r = p->dec.out_bytes;
	*lines_r = p->dec.out_lines;
}

int pop3_dele_queue(struct pop3 *p, unsigned long num, struct pf_error *err)
{
	return queue_cmd(p, "DELE", num, err);
}

int pop3_dele_flush(struct pop3 *p, struct pf_error *err)
{
	const char *text;
	int rc = 0;

	/* Every reply is read even after a refusal, so the session stays in
	 * step and the accepted deletions still take effect at QUIT. */
	while (p->count > 0) {
		int st = queued_status(p, "DELE", &text, err);

		if (st < 0)
			return -1;
		dequeue(p);
		if (st != POP3_OK && rc == 0)
			rc = server_error(PF_ERR_SERVER, "DELE", text, err);
	}
	return rc;
}

int pop3_quit(struct pop3 *p, struct pf_error *err)
{
	if (p->state == ST_BROKEN)
		return pf_error_set(err, PF_ERR_INTERNAL, "QUIT on a broken session");
	if (p->count > 0)
		return pf_error_set(err, PF_ERR_INTERNAL, "QUIT with replies outstanding");
	/* RFC 1939 section 6: -ERR here means some deletions failed. */
	if (simple_cmd(p, "QUIT", 0, PF_ERR_SERVER, NULL, err) < 0)
		return -1;
	set_state(p, ST_DONE);
	return 0;
}
