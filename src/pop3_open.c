/* pop3_open.c - the opening of a session, one sequence owned by pop3:
 * implicit TLS, the greeting, CAPA, and with STARTTLS the STLS command,
 * the handshake and CAPA again (RFC 2595).  Split from pop3.c, whose
 * session state it shares through pop3_int.h. */
#include <string.h>

#include "log.h"
#include "pop3_int.h"

static int greeting(struct pop3 *p, struct pf_error *err)
{
	const char *text;
	int st = pop3i_read_status(p, &text, err);

	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		pop3i_server_error(PF_ERR_SERVER, "the connection", text, err);
		return pop3i_broken(p);
	}
	log_sanitize(p->greeting, sizeof p->greeting, text, strlen(text));
	if (pop3_greeting_timestamp(text, p->apop_ts, sizeof p->apop_ts) < 0)
		p->apop_ts[0] = '\0';
	pop3i_set_state(p, ST_AUTHORIZATION);
	return 0;
}

static int capa_line(const char *line, void *ctx, struct pf_error *err)
{
	struct pop3 *p = ctx;
	size_t room = sizeof p->capa_text - p->capa_len;

	(void)err;
	(void)pop3_capa_line(&p->caps, line); /* unknown or odd lines are ignored */
	/* Display text only: what does not fit is left out. */
	if (room > 2) {
		log_sanitize(p->capa_text + p->capa_len + (p->capa_len > 0), room - 1, line,
			     strlen(line));
		if (p->capa_len > 0)
			p->capa_text[p->capa_len] = '\n';
		p->capa_len += strlen(p->capa_text + p->capa_len);
	}
	return 0;
}

const char *pop3_greeting_text(const struct pop3 *p)
{
	return p->greeting;
}

const char *pop3_capa_text(const struct pop3 *p)
{
	return p->capa_text;
}

const char *pop3_capa_text_before_tls(const struct pop3 *p)
{
	return p->capa_text_plain;
}

/* CAPA's reply (the command was sent already).  Whatever was known
 * before is forgotten first. */
static int capa_reply(struct pop3 *p, struct pf_error *err)
{
	const char *text;
	int st;

	pop3_capa_init(&p->caps);
	p->capa_len = 0;
	p->capa_text[0] = '\0';
	st = pop3i_read_status(p, &text, err);
	if (st < 0)
		return -1;
	if (st != POP3_OK)
		return 0; /* RFC 1939-only server: nothing known, not an error */
	p->caps.have_capa = 1;
	/* CAPA lists a few dozen lines at most; 1000 bounds a hostile one. */
	return pop3i_read_multiline(p, 1000, capa_line, p, err);
}

/* STLS and the handshake.  Every capability learned before TLS is
 * forgotten (RFC 2595 section 4): a man in the middle could have made
 * them up, PIPELINING and SASL included. */
static int stls(struct pop3 *p, const struct conn_tls_opts *opts, struct pf_error *err)
{
	const char *text;
	int st;

	if (!p->caps.stls)
		return pf_error_set(err, PF_ERR_TLS,
				    "server does not offer STLS; refusing to continue without TLS");
	if (pop3i_send_line(p, "STLS", 0, err) < 0)
		return -1;
	st = pop3i_read_status(p, &text, err);
	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		pop3i_server_error(PF_ERR_TLS, "STLS", text, err);
		return pop3i_broken(p);
	}
	pop3_capa_init(&p->caps);
	p->capa_len = 0;
	p->capa_text[0] = '\0';
	/* conn refuses bytes that came after the +OK, before the handshake
	 * (CVE-2021-39272 class). */
	if (conn_starttls(p->conn, opts, err) < 0)
		return pop3i_broken(p);
	return 0;
}

int pop3_open(struct pop3 *p, enum tls_mode tls, const struct conn_tls_opts *opts,
	      struct pf_error *err)
{
	if (p->state != ST_GREETING)
		return pf_error_set(err, PF_ERR_INTERNAL, "POP3 session opened twice");
	if (tls != TLS_NONE && opts == NULL)
		return pf_error_set(err, PF_ERR_INTERNAL, "TLS wanted without TLS settings");
	/* Implicit TLS: verified before the first POP3 byte is read. */
	if (tls == TLS_IMPLICIT && conn_starttls(p->conn, opts, err) < 0)
		return pop3i_broken(p);
	/* CAPA goes before the greeting is read: it asks nothing of the
	 * server's state and sends no secret, and saves a round trip on
	 * every connection.  A server that rejects us in its greeting still
	 * has its reason read and reported first. */
	if (pop3i_send_line(p, "CAPA", 0, err) < 0 || greeting(p, err) < 0 ||
	    capa_reply(p, err) < 0)
		return -1;
	if (tls != TLS_STARTTLS)
		return 0;
	memcpy(p->capa_text_plain, p->capa_text, sizeof p->capa_text_plain);
	if (stls(p, opts, err) < 0 || pop3i_send_line(p, "CAPA", 0, err) < 0)
		return -1;
	return capa_reply(p, err);
}

const struct pop3_capa *pop3_caps(const struct pop3 *p)
{
	return &p->caps;
}
