/* pop3_int.h - internal to the pop3 module (pop3.c, pop3_open.c,
 * pop3_auth.c): the session state and the line-level helpers they share.
 * Nothing outside src/pop3*.c includes this. */
#ifndef POPFETCH_POP3_INT_H
#define POPFETCH_POP3_INT_H

#include "decode.h"
#include "pop3.h"

enum pop3_state {
	ST_GREETING,
	ST_AUTHORIZATION,
	ST_TRANSACTION,
	ST_DONE,
	ST_BROKEN,
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
	/* For --serverinfo (pop3_greeting_text, pop3_capa_text): sanitised. */
	char greeting[PF_LINE_MAX];
	char capa_text[POP3_CAPA_TEXT_MAX];
	char capa_text_plain[POP3_CAPA_TEXT_MAX]; /* before STLS */
	size_t capa_len;
	/* What OAUTHBEARER tells the server it connected to (pop3_set_peer). */
	char peer_host[PF_NAME_MAX + 1];
	char peer_port[16];
	/* FIFO of RETR/DELE: [head, head+count) queued, the first `written`
	 * of them already sent. */
	struct qcmd fifo[POP3_PIPELINE_MAX];
	size_t head, count, written;
	int listing_next;         /* pop3_expect_listing: send it once logged in */
	int listing_sent;         /* STAT and UIDL are out, unanswered */
	int have_sizes;           /* the last listing read LIST too (no UIDL) */
	uint64_t stat_octets;     /* the maildrop's size from STAT */
	char out[POP3_PIPELINE_MAX * QCMD_MAX];
	size_t outlen;
	struct decode dec;
	int in_body;
};

/* Moves the session to st, logging the transition at -vv. */
void pop3i_set_state(struct pop3 *p, enum pop3_state st);

/* Marks the session unusable (we can no longer tell which reply belongs to
 * which command).  Returns -1. */
int pop3i_broken(struct pop3 *p);

/* Sends one command line; sensitive > 0 masks it in the trace (the number
 * of words to show: 1 "PASS ****", 2 "AUTH PLAIN ****", 3 "****"). */
int pop3i_send_line(struct pop3 *p, const char *line, int sensitive, struct pf_error *err);

/* Sends STAT, with PIPELINING also UIDL in the same write (then
 * p->listing_sent is set).  0 or -1. */
int pop3i_send_listing(struct pop3 *p, struct pf_error *err);

/* Reads one status line: POP3_OK, POP3_ERR, POP3_CONT, or -1. */
int pop3i_read_status(struct pop3 *p, const char **text_r, struct pf_error *err);

/* Sends cmd and reads its status; -ERR is an error of class cls. */
int pop3i_simple_cmd(struct pop3 *p, const char *cmd, int sensitive, enum pf_errclass cls,
		     const char **text_r, struct pf_error *err);

/* Reads the lines of a multi-line reply up to "." as one transfer of conn
 * (a minimum rate for the whole), calling fn for each (dot-unstuffed).
 * At most max_lines lines.  0 or -1 (the session is then broken). */
int pop3i_read_multiline(struct pop3 *p, unsigned long max_lines,
			 int (*fn)(const char *line, void *ctx, struct pf_error *err),
			 void *ctx, struct pf_error *err);

/* The error for a -ERR reply to cmd, with the server's text sanitised.
 * Returns -1. */
int pop3i_server_error(enum pf_errclass cls, const char *cmd, const char *text,
		       struct pf_error *err);

#endif
