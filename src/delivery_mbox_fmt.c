/* delivery_mbox_fmt.c - see delivery_mbox_fmt.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "delivery_mbox_fmt.h"

static const char from_[] = "From ";
#define FROM_LEN 5

void mbox_quote_init(struct mbox_quote *q)
{
	memset(q, 0, sizeof *q);
	q->last_lf = 1;
}

static int emit(struct mbox_quote *q, const void *buf, size_t len, mbox_out_fn out, void *ctx)
{
	if (len == 0)
		return 0;
	q->written += len;
	q->last_lf = ((const char *)buf)[len - 1] == '\n';
	return out(ctx, buf, len);
}

/* Writes n '>' (n may be large: a line of nothing but '>'). */
static int emit_gts(struct mbox_quote *q, uint64_t n, mbox_out_fn out, void *ctx)
{
	static const char gts[64] = ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>";

	while (n > 0) {
		size_t k = n < sizeof gts ? (size_t)n : sizeof gts;

		if (emit(q, gts, k, out, ctx) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* What the line start held back, as it was: not a From_ line after all. */
static int flush_held(struct mbox_quote *q, mbox_out_fn out, void *ctx)
{
	int rc = emit_gts(q, q->gts, out, ctx);

	if (rc == 0)
		rc = emit(q, from_, q->matched, out, ctx);
	q->gts = 0;
	q->matched = 0;
	q->mid_line = 1;
	return rc;
}

/* One byte at a line start.  Returns 1 when the line start is decided
 * (the byte is then still to be written by the caller), 0 when the byte
 * was held back, -1 on error. */
static int at_line_start(struct mbox_quote *q, char c, mbox_out_fn out, void *ctx)
{
	if (q->matched == 0 && c == '>') {
		q->gts++;
		return 0;
	}
	if (c == from_[q->matched]) {
		if (++q->matched < FROM_LEN)
			return 0;
		/* ^>*From : one more '>' in front. */
		q->gts++;
		if (flush_held(q, out, ctx) < 0)
			return -1;
		return 0;
	}
	return flush_held(q, out, ctx) < 0 ? -1 : 1;
}

int mbox_quote(struct mbox_quote *q, const char *buf, size_t len, mbox_out_fn out, void *ctx)
{
	size_t i = 0;

	while (i < len) {
		const char *lf;
		size_t end;

		if (!q->mid_line) {
			int r = at_line_start(q, buf[i], out, ctx);

			if (r < 0)
				return -1;
			if (r == 0) {
				i++;
				continue;
			}
		}
		/* The rest of the line goes out as it is, in one piece. */
		lf = memchr(buf + i, '\n', len - i);
		end = lf != NULL ? (size_t)(lf - buf) + 1 : len;
		if (emit(q, buf + i, end - i, out, ctx) < 0)
			return -1;
		q->mid_line = lf == NULL;
		i = end;
	}
	return 0;
}

int mbox_quote_end(struct mbox_quote *q, mbox_out_fn out, void *ctx)
{
	if ((q->gts > 0 || q->matched > 0) && flush_held(q, out, ctx) < 0)
		return -1;
	if (!q->last_lf && emit(q, "\n", 1, out, ctx) < 0)
		return -1;
	q->mid_line = 0;
	return emit(q, "\n", 1, out, ctx);
}

size_t mbox_header_end(const char *buf, size_t len)
{
	if (len > 0 && buf[0] == '\n')
		return 1;
	for (size_t i = 1; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\n')
			return i + 1;
	return 0;
}

/* The Return-Path value in p[0..n): "<addr>" or a bare addr. */
static void take_address(const char *p, size_t n, char *out, size_t cap)
{
	const char *lt = memchr(p, '<', n), *gt;
	size_t len;

	if (lt != NULL) {
		gt = memchr(lt, '>', n - (size_t)(lt - p));
		if (gt == NULL)
			return;
		p = lt + 1;
		len = (size_t)(gt - p);
	} else {
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
			n--;
		len = n;
	}
	if (len == 0 || len >= cap || len >= MBOX_SENDER_MAX)
		return;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e)
			return; /* a From_ line field must be one word */
	memcpy(out, p, len);
	out[len] = '\0';
}

void mbox_sender(const char *hdr, size_t len, char *out, size_t cap)
{
	static const char name[] = "Return-Path:";
	size_t nl = sizeof name - 1, i = 0;

	(void)snprintf(out, cap, "MAILER-DAEMON");
	while (i < len) {
		const char *lf = memchr(hdr + i, '\n', len - i);
		size_t end = lf != NULL ? (size_t)(lf - hdr) : len;

		if (end == i)
			return; /* the empty line: end of the header */
		if (end - i >= nl && strncasecmp(hdr + i, name, nl) == 0) {
			take_address(hdr + i + nl, end - i - nl, out, cap);
			return;
		}
		i = end + 1;
	}
}

int mbox_from_line(const char *sender, time_t when, char *out, size_t cap)
{
	char date[64];
	struct tm tm;
	int n;

	/* asctime(3)'s layout, which every mbox reader parses; local time as
	 * the MTAs that write mboxes use. */
	if (localtime_r(&when, &tm) == NULL ||
	    strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		return -1;
	n = snprintf(out, cap, "From %s %s\n", sender, date);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
