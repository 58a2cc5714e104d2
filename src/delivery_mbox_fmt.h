/* delivery_mbox_fmt.h - the mboxrd format, as pure functions over byte
 * chunks (no files), so every split point can be unit-tested.
 *
 * mboxrd (https://www.loc.gov/preservation/digital/formats/fdd/fdd000385.shtml,
 * and qmail's mbox(5)): each message is
 *   "From SENDER DATE\n"   SENDER from Return-Path, else MAILER-DAEMON;
 *                           DATE as asctime(3): "Sun Dec  6 00:02:23 2026"
 *   the message, every line matching ^>*From  given one more '>'
 *   "\n"                   a blank line ends it (after a final LF added to
 *                           a message that lacked one)
 * Unlike mboxo the quoting is reversible: a reader removes one '>' from
 * every line matching ^>+From  and gets the message back byte for byte. */
#ifndef POPFETCH_DELIVERY_MBOX_FMT_H
#define POPFETCH_DELIVERY_MBOX_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Output callback: 0, or -1 to stop (the error is the callee's). */
typedef int (*mbox_out_fn)(void *ctx, const void *buf, size_t len);

/* The quoting state kept across chunks: at a line start, the '>'s seen
 * (only counted: a line of a million '>' needs no buffer) and how much of
 * "From " matched so far. */
struct mbox_quote {
	int mid_line;      /* not at a line start */
	uint64_t gts;      /* '>' counted at this line start, not written yet */
	size_t matched;    /* bytes of "From " matched after them */
	int last_lf;       /* the last byte written was LF (or nothing yet) */
	uint64_t written;  /* bytes of the message passed through */
};

void mbox_quote_init(struct mbox_quote *q);

/* Quotes len bytes of a message, writing through out.  0 or -1. */
int mbox_quote(struct mbox_quote *q, const char *buf, size_t len, mbox_out_fn out, void *ctx);

/* The end of the message: what is held back, a final LF when missing, and
 * the blank line that ends every mboxrd message.  0 or -1. */
int mbox_quote_end(struct mbox_quote *q, mbox_out_fn out, void *ctx);

/* The sender for the From_ line from a message's header block (hdr[0..len),
 * untrusted): the address of the first Return-Path header, "MAILER-DAEMON"
 * when it is empty ("<>"), missing, or holds anything outside 0x21..0x7E.
 * Written NUL-terminated into out (cap bytes, at least 16). */
#define MBOX_SENDER_MAX 256
void mbox_sender(const char *hdr, size_t len, char *out, size_t cap);

/* "From SENDER DATE\n" into out (cap bytes); its length, or -1 when it
 * does not fit. */
#define MBOX_FROM_LINE_MAX (MBOX_SENDER_MAX + 64)
int mbox_from_line(const char *sender, time_t when, char *out, size_t cap);

/* The end of the header block in buf[0..len): the offset just after the
 * empty line that ends it ("\n\n", or a message starting with "\n"), or 0
 * when it is not in buf. */
size_t mbox_header_end(const char *buf, size_t len);

#endif
