/* pop3.c - see pop3.h.  A session is a small state machine (greeting,
 * authorization, transaction, quit) over conn, with a FIFO of queued RETR
 * and DELE commands that is written ahead when the server announced
 * PIPELINING (RFC 2449 section 6.6) and one at a time when it did not.
 * Opening the session (TLS, greeting, CAPA, STLS) lives in pop3_open.c,
 * logging in in pop3_auth.c; they share pop3_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pop3_int.h"
#include "util.h"

static const char *const state_names[] = {
	[ST_GREETING] = "greeting",
	[ST_AUTHORIZATION] = "authorization",
	[ST_TRANSACTION] = "transaction",
	[ST_DONE] = "done",
	[ST_BROKEN] = "broken",
};

void pop3i_set_state(struct pop3 *p, enum pop3_state st)
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
int pop3i_broken(struct pop3 *p)
{
	pop3i_set_state(p, ST_BROKEN);
	return -1;
}

int pop3i_send_line(struct pop3 *p, const char *line, int sensitive, struct pf_error *err)
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
		return pop3i_broken(p);
	pf_wipe(buf, len);
	return 0;
}

/* Reads one status line.  Returns POP3_OK, POP3_ERR, POP3_CONT or -1; on
 * POP3_ERR the response code is kept and *text_r points at the text. */
int pop3i_read_status(struct pop3 *p, const char **text_r, struct pf_error *err)
{
	char clean[PF_LINE_MAX];
	size_t len;
	int st;

	if (conn_getline(p->conn, p->line, sizeof p->line, &len, err) < 0)
		return pop3i_broken(p);
	log_sanitize(clean, sizeof clean, p->line, len);
	log_trace("S: %s", clean);
	st = pop3_reply_status(p->line, text_r);
	if (st < 0) {
		pf_error_set(err, PF_ERR_PROTO, "server sent an invalid status line: %s", clean);
		return pop3i_broken(p);
	}
	p->last_code = st == POP3_ERR ? pop3_reply_code(*text_r) : POP3_CODE_NONE;
	return st;
}

/* The error for a -ERR reply to cmd: the server's text, sanitised. */
int pop3i_server_error(enum pf_errclass cls, const char *cmd,
			const char *text, struct pf_error *err)
{
	char clean[PF_ERRMSG_MAX / 2];

	log_sanitize(clean, sizeof clean, text, strlen(text));
	return pf_error_set(err, cls, "server refused %s: %s", cmd, clean[0] ? clean : "(no reason given)");
}

/* Sends cmd and reads its status line; -ERR is an error of class cls. */
int pop3i_simple_cmd(struct pop3 *p, const char *cmd, int sensitive, enum pf_errclass cls,
		      const char **text_r, struct pf_error *err)
{
	const char *text;
	int st;

	if (pop3i_send_line(p, cmd, sensitive, err) < 0)
		return -1;
	st = pop3i_read_status(p, &text, err);
	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		char verb[8];

		(void)snprintf(verb, sizeof verb, "%s", cmd);
		verb[strcspn(verb, " ")] = '\0';
		return pop3i_server_error(cls, verb, text, err);
	}
	if (text_r != NULL)
		*text_r = text;
	return 0;
}

/* Reads the lines of a multi-line reply up to ".", calling fn for each
 * (dot-unstuffed).  At most max_lines lines, and as one transfer of conn:
 * each line has its deadline, the whole reply its minimum rate. */
static int read_lines(struct pop3 *p, unsigned long max_lines,
		      int (*fn)(const char *line, void *ctx, struct pf_error *err),
		      void *ctx, struct pf_error *err)
{
	unsigned long n = 0;
	size_t len;

	for (;;) {
		const char *l = p->line;

		if (conn_getline(p->conn, p->line, sizeof p->line, &len, err) < 0)
			return pop3i_broken(p);
		if (l[0] == '.') {
			if (len == 1)
				return 0;
			l++; /* RFC 1939 section 3: byte-stuffed line */
		}
		if (++n > max_lines) {
			pf_error_set(err, PF_ERR_PROTO, "server listing has more than %lu lines", max_lines);
			return pop3i_broken(p);
		}
		if (log_get_level() >= LOG_LVL_TRACE) {
			char clean[PF_LINE_MAX];

			log_sanitize(clean, sizeof clean, l, strlen(l));
			log_trace("S: %s", clean);
		}
		if (fn(l, ctx, err) < 0)
			return pop3i_broken(p);
	}
}

int pop3i_read_multiline(struct pop3 *p, unsigned long max_lines,
			 int (*fn)(const char *line, void *ctx, struct pf_error *err),
			 void *ctx, struct pf_error *err)
{
	int rc;

	conn_transfer_begin(p->conn);
	rc = read_lines(p, max_lines, fn, ctx, err);
	conn_transfer_end(p->conn);
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

/* FNV-1a of the text after the message number: the same invalid uid
 * gives the same key in every session, whatever its number there. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static uint32_t bad_uid_key(const char *line)
{
	line += strspn(line, " \t");
	return fnv1a(line + strspn(line, "0123456789"));
}

static int uidl_line(const char *line, void *ctx, struct pf_error *err)
{
	char uid[PF_UID_MAX + 1], clean[80];
	unsigned long num;
	struct pop3_msg *m;
	int rc = pop3_parse_uidl_entry(line, &num, uid);

	if (rc < 0) {
		log_sanitize(clean, sizeof clean, line, strlen(line));
		return pf_error_set(err, PF_ERR_PROTO, "server sent an invalid UIDL line: %s", clean);
	}
	if ((m = listing_slot(ctx, num, "UIDL", err)) == NULL)
		return -1;
	memcpy(m->uid, uid, sizeof m->uid);
	if (rc == 1) {
		m->uid_state = POP3_UID_INVALID;
		m->bad_key = bad_uid_key(line);
	}
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

/* By uid, then by number: the messages that share a uid in their order. */
static int cmp_uid(const void *a, const void *b)
{
	const struct pop3_msg *x = *(const struct pop3_msg *const *)a;
	const struct pop3_msg *y = *(const struct pop3_msg *const *)b;
	int c = strcmp(x->uid, y->uid);

	return c != 0 ? c : (x->num > y->num) - (x->num < y->num);
}

/* A repeated UID would make two messages one in the uid store (fetch
 * one, and the other counts as delivered and deletable): every message
 * that shares its uid is marked, to be left alone. */
static void mark_shared_uids(const struct listing *l)
{
	struct pop3_msg **v;
	unsigned long i, n = 0;

	if (l->count < 2)
		return;
	v = xcalloc(l->count, sizeof *v);
	for (i = 0; i < l->count; i++)
		if (l->msgs[i].uid_state == POP3_UID_OK)
			v[n++] = &l->msgs[i];
	qsort(v, n, sizeof *v, cmp_uid);
	for (i = 1; i < n; i++) {
		if (strcmp(v[i - 1]->uid, v[i]->uid) != 0)
			continue;
		if (v[i - 1]->uid_state != POP3_UID_SHARED) {
			v[i - 1]->uid_state = POP3_UID_SHARED;
			v[i - 1]->bad_key = fnv1a(v[i - 1]->uid);
		}
		/* The k-th message of the uid: its own key in every session. */
		v[i]->uid_state = POP3_UID_SHARED;
		v[i]->bad_key = v[i - 1]->bad_key + 1;
	}
	free(v);
}

/* Reads one listing (UIDL or LIST) whose command was already sent.  Returns
 * 1 when the server refused it (-ERR), 0 when read, -1 on error. */
static int read_listing(struct pop3 *p, struct listing *l, const char *what,
			int (*fn)(const char *, void *, struct pf_error *), struct pf_error *err)
{
	const char *text;
	int st = pop3i_read_status(p, &text, err);

	if (st < 0)
		return -1;
	if (st != POP3_OK)
		return 1;
	memset(l->seen, 0, l->count ? l->count : 1);
	if (pop3i_read_multiline(p, l->count, fn, l, err) < 0)
		return -1;
	if (memchr(l->seen, 0, l->count) != NULL)
		return pf_error_set(err, PF_ERR_PROTO, "server %s listing is incomplete", what);
	return 0;
}

/* STAT's reply (the command was sent already). */
static int stat_count(struct pop3 *p, unsigned long *count_r, struct pf_error *err)
{
	const char *text;
	uint64_t size = 0;
	int st = pop3i_read_status(p, &text, err);

	if (st < 0)
		return -1;
	if (st != POP3_OK) {
		pop3i_server_error(PF_ERR_SERVER, "STAT", text, err);
		return pop3i_broken(p); /* pipelined listings may be on their way */
	}
	if (pop3_parse_stat(text, count_r, &size) < 0)
		return pf_error_set(err, PF_ERR_PROTO, "server sent an invalid STAT reply");
	p->stat_octets = size;
	if (*count_r > PF_LISTING_MAX)
		return pf_error_set(err, PF_ERR_PROTO, "server reports %lu messages, more than %lu",
				    *count_r, PF_LISTING_MAX);
	return 0;
}

/* LIST's reply into l (the command was sent already). */
static int read_sizes(struct pop3 *p, struct listing *l, struct pf_error *err)
{
	int rc = read_listing(p, l, "LIST", list_line, err);

	if (rc == 1)
		return pf_error_set(err, PF_ERR_SERVER, "server refused LIST");
	return rc;
}

/* UIDL's reply (with PIPELINING sent with STAT); without UIDL, LIST. */
static int read_listings(struct pop3 *p, struct listing *l, struct pf_error *err)
{
	int rc;

	if (!p->caps.pipelining && pop3i_send_line(p, "UIDL", 0, err) < 0)
		return -1;
	rc = read_listing(p, l, "UIDL", uidl_line, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		mark_shared_uids(l);
		return 0;
	}
	/* No UIDL (RFC 1939 makes it optional): the caller falls back to
	 * fetching everything, which needs the sizes now. */
	log_verbose("server does not support UIDL");
	for (unsigned long i = 0; i < l->count; i++)
		l->msgs[i].uid[0] = '\0';
	if (pop3i_send_line(p, "LIST", 0, err) < 0 || read_sizes(p, l, err) < 0)
		return -1;
	p->have_sizes = 1;
	return 0;
}

int pop3i_send_listing(struct pop3 *p, struct pf_error *err)
{
	static const char all[] = "STAT\r\nUIDL\r\n";

	if (!p->caps.pipelining)
		return pop3i_send_line(p, "STAT", 0, err);
	log_trace("C: STAT");
	log_trace("C: UIDL");
	p->commands += 2;
	/* One write: one TLS record and one segment for both. */
	if (conn_write(p->conn, all, sizeof all - 1, err) < 0)
		return pop3i_broken(p);
	p->listing_sent = 1;
	return 0;
}

void pop3_expect_listing(struct pop3 *p)
{
	p->listing_next = 1;
}

int pop3_listing(struct pop3 *p, struct pop3_msg **msgs_r, size_t *n_r, struct pf_error *err)
{
	struct listing l = { 0 };
	unsigned long i;

	/* One round trip for both when the server pipelines (none at all
	 * when they went out with the login). */
	if (!p->listing_sent && pop3i_send_listing(p, err) < 0)
		return -1;
	p->listing_sent = 0;
	p->have_sizes = 0;
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

int pop3_have_sizes(const struct pop3 *p)
{
	return p->have_sizes;
}

uint64_t pop3_maildrop_octets(const struct pop3 *p)
{
	return p->stat_octets;
}

int pop3_sizes_send(struct pop3 *p, struct pf_error *err)
{
	if (p->count > 0)
		return pf_error_set(err, PF_ERR_INTERNAL, "LIST after RETR was queued");
	return pop3i_send_line(p, "LIST", 0, err);
}

int pop3_sizes_read(struct pop3 *p, struct pop3_msg *msgs, size_t n, struct pf_error *err)
{
	struct listing l = { .msgs = msgs, .count = n };
	int rc;

	l.seen = xcalloc(n ? n : 1, 1);
	rc = read_sizes(p, &l, err);
	free(l.seen);
	if (rc == 0)
		p->have_sizes = 1;
	return rc;
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
		return pop3i_broken(p);
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
	return pop3i_read_status(p, text_r, err);
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
		return pop3i_server_error(PF_ERR_SERVER, "RETR", text, err);
	}
	decode_init(&p->dec);
	p->in_body = 1;
	/* The body as a whole has a minimum rate (every poll ends). */
	conn_transfer_begin(p->conn);
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
		return pop3i_broken(p);
	if (len > PF_IOBUF_SIZE)
		len = PF_IOBUF_SIZE;
	used = decode_feed(&p->dec, data, len, out, outlen_r);
	conn_consume(p->conn, used);
	if (decode_done(&p->dec)) {
		conn_transfer_end(p->conn);
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
			rc = pop3i_server_error(PF_ERR_SERVER, "DELE", text, err);
	}
	return rc;
}

int pop3_quit_nowait(struct pop3 *p, struct pf_error *err)
{
	if (p->state == ST_BROKEN)
		return pf_error_set(err, PF_ERR_INTERNAL, "QUIT on a broken session");
	if (p->count > 0)
		return pf_error_set(err, PF_ERR_INTERNAL, "QUIT with replies outstanding");
	if (pop3i_send_line(p, "QUIT", 0, err) < 0)
		return pop3i_broken(p);
	pop3i_set_state(p, ST_DONE);
	return 0;
}

int pop3_quit(struct pop3 *p, struct pf_error *err)
{
	if (p->state == ST_BROKEN)
		return pf_error_set(err, PF_ERR_INTERNAL, "QUIT on a broken session");
	if (p->count > 0)
		return pf_error_set(err, PF_ERR_INTERNAL, "QUIT with replies outstanding");
	/* RFC 1939 section 6: -ERR here means some deletions failed. */
	if (pop3i_simple_cmd(p, "QUIT", 0, PF_ERR_SERVER, NULL, err) < 0)
		return -1;
	pop3i_set_state(p, ST_DONE);
	return 0;
}
