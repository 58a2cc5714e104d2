/* decode.c - see decode.h.
 *
 * RFC 1939 section 3: a multi-line response is terminated by a line that is
 * exactly "." and every other line starting with '.' carries an extra '.'
 * that the client removes.  The decoder is a small state machine that only
 * looks at bytes one at a time at line starts and around CR; the body of a
 * line is found with memchr('\n') and copied with memcpy, so a message costs
 * one memchr and one memcpy per line, not a call per byte.
 *
 * Only one byte is ever held back across chunks: a CR whose successor is not
 * yet known (CRLF becomes LF, a bare CR is kept).  A '.' at the start of a
 * line is never held back: it is dropped whatever follows it, so there is
 * nothing to write later.  Hence the output of one call is at most
 * inlen + 1 bytes (the held CR, then at most one byte per input byte),
 * within the inlen + 2 the header promises. */
#include <string.h>

#include "decode.h"

enum {
	ST_BOL = 0, /* at the start of a line */
	ST_MID,     /* inside a line */
	ST_CR,      /* inside a line, a CR held back */
	ST_DOT,     /* a line started with '.', dropped */
	ST_DOT_CR,  /* a line started with ".\r", the CR held back */
};

/* The decoding position inside one decode_feed call. */
struct cursor {
	const char *in;
	size_t inlen;
	size_t i;   /* bytes of in consumed */
	char *out;
	size_t o;   /* bytes of out written */
	uint64_t lf; /* LF written in this call */
};

void decode_init(struct decode *d)
{
	d->state = ST_BOL;
	d->done = 0;
	d->out_bytes = 0;
	d->out_lines = 0;
}

int decode_done(const struct decode *d)
{
	return d->done;
}

static void put(struct cursor *c, char ch)
{
	c->out[c->o++] = ch;
	if (ch == '\n')
		c->lf++;
}

/* Inside a line: copy up to and including the next LF (CRLF written as LF),
 * or the rest of the chunk when there is no LF in it, holding back a final
 * CR that may be the first half of a CRLF split across chunks. */
static int step_mid(struct cursor *c)
{
	const char *p = c->in + c->i;
	size_t avail = c->inlen - c->i;
	const char *nl = memchr(p, '\n', avail);
	size_t body;

	if (nl == NULL) {
		body = avail;
		if (body > 0 && p[body - 1] == '\r') {
			memcpy(c->out + c->o, p, body - 1);
			c->o += body - 1;
			c->i += body;
			return ST_CR;
		}
		memcpy(c->out + c->o, p, body);
		c->o += body;
		c->i += body;
		return ST_MID;
	}
	body = (size_t)(nl - p);
	c->i += body + 1;
	if (body > 0 && p[body - 1] == '\r')
		body--; /* CRLF becomes LF */
	memcpy(c->out + c->o, p, body);
	c->o += body;
	put(c, '\n');
	return ST_BOL;
}

/* One transition on the byte at c->in[c->i] (there is one).  Returns the
 * next state, or -1 when that byte ended the "." line. */
static int step(struct cursor *c, int state)
{
	char ch = c->in[c->i];

	switch (state) {
	case ST_BOL:
		if (ch != '.')
			return ST_MID;
		c->i++;
		return ST_DOT;
	case ST_CR:
		if (ch == '\n') {
			c->i++;
			put(c, '\n');
			return ST_BOL;
		}
		put(c, '\r'); /* a bare CR is kept; ch is looked at again */
		return ST_MID;
	case ST_DOT:
		c->i++;
		if (ch == '\n')
			return -1; /* ".\n": a bare LF also ends a line */
		if (ch == '\r')
			return ST_DOT_CR;
		c->i--; /* the stuffed '.' is dropped; ch starts the text */
		return ST_MID;
	case ST_DOT_CR:
		if (ch == '\n') {
			c->i++;
			return -1; /* ".\r\n": the terminator */
		}
		put(c, '\r');
		return ST_MID;
	default:
		return step_mid(c);
	}
}

size_t decode_feed(struct decode *d, const char *in, size_t inlen, char *out,
		   size_t *outlen_r)
{
	struct cursor c = { in, inlen, 0, out, 0, 0 };
	int state = d->state;

	*outlen_r = 0;
	if (d->done)
		return 0;
	while (c.i < c.inlen) {
		state = state == ST_MID ? step_mid(&c) : step(&c, state);
		if (state < 0) {
			d->done = 1;
			state = ST_BOL;
			break;
		}
	}
	d->state = state;
	d->out_bytes += c.o;
	d->out_lines += c.lf;
	*outlen_r = c.o;
	return c.i;
}
