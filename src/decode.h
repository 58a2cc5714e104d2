/* decode.h - the POP3 multi-line decoder: dot-unstuffing (RFC 1939 section
 * 3) and CRLF to LF, as a pure streaming function over chunks.
 *
 * Feed it the bytes that follow a "+OK" line of RETR (or TOP); it writes the
 * message as it belongs on disk and stops exactly after the terminating
 * CRLF.CRLF, so whatever follows (the next pipelined reply) is left for the
 * caller.  Splitting the input anywhere gives the same output.
 *
 * Rules: CRLF becomes LF; a bare LF stays LF and also ends a line; a bare CR
 * (not followed by LF) is kept; at the start of a line a leading '.' is
 * removed (so ".." gives "."), and a line that is exactly "." (followed by
 * CRLF or a bare LF) ends the message and is not written.  NUL bytes and
 * long lines pass through unchanged.  Input is untrusted and may be
 * anything: no input makes the decoder read or write out of bounds. */
#ifndef POPFETCH_DECODE_H
#define POPFETCH_DECODE_H

#include <stddef.h>
#include <stdint.h>

struct decode {
	/* private: */
	int state;
	int done;
	/* public, read-only: counted over everything written so far */
	uint64_t out_bytes; /* bytes written (size on disk, Maildir S=) */
	uint64_t out_lines; /* LF written (out_bytes + out_lines = W= size) */
};

void decode_init(struct decode *d);

/* Decodes in[0..inlen) into out, which must have room for inlen + 2 bytes
 * (a CR or '.' held back from the previous chunk may be written first).
 * Sets *outlen_r to the bytes written and returns the bytes of in consumed:
 * all of them, unless the terminator was found, in which case consumption
 * stops right after it and decode_done() becomes true.  Feeding a done
 * decoder consumes nothing. */
size_t decode_feed(struct decode *d, const char *in, size_t inlen, char *out,
		   size_t *outlen_r);

/* 1 once the terminating "." line has been consumed. */
int decode_done(const struct decode *d);

#endif
