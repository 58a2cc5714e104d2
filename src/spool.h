/* spool.h - where the MDA and LMTP destinations keep a batch's messages
 * between their download and their delivery.
 *
 * Why a spool: the program (or LMTP server) that takes a message must get
 * it whole or not at all.  Piping the body as it arrives would hand an MDA
 * a truncated message, and a clean EOF, when the POP3 connection drops
 * half-way, and most MDAs deliver what they got.  The delivery also waits
 * for the batch's pending journal (delivery.h), which comes after the
 * download.  So messages go to one unnamed file (O_TMPFILE; a named file
 * unlinked at once where the file system lacks it) in a private directory
 * (state_dir), one after another, and are read back from there: memory
 * never grows with message size, and a crash leaves nothing behind.
 *
 * Not durable and not meant to be: the spool is a buffer; durability is
 * the destination's word (exit 0, a 2xx).  The file shrinks back to empty
 * whenever no message in it is live.  All errors are PF_ERR_LOCAL. */
#ifndef POPFETCH_SPOOL_H
#define POPFETCH_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct spool;

/* One message's place in the spool. */
struct spool_msg {
	uint64_t off;
	uint64_t len;
};

/* Opens an unnamed spool file in dir (which must exist).  Owned by the
 * caller (spool_close).  NULL with err set. */
struct spool *spool_open(const char *dir, struct pf_error *err) PF_MUST_CHECK;
void spool_close(struct spool *s); /* NULL is fine */

/* Starts a message at the end of the spool. */
void spool_begin(struct spool *s, struct spool_msg *m);

/* Appends to m, which must be the message begun last.  0 or -1 (the disk
 * is full, ...). */
int spool_write(struct spool *s, struct spool_msg *m, const void *buf, size_t len,
		struct pf_error *err) PF_MUST_CHECK;

/* Reads up to cap bytes of m from offset at into buf; *got_r 0 at its end.
 * 0 or -1. */
int spool_read(struct spool *s, const struct spool_msg *m, uint64_t at, void *buf, size_t cap,
	       size_t *got_r, struct pf_error *err) PF_MUST_CHECK;

/* A new unnamed file (in the spool's directory) holding prefix[0..plen)
 * and then m, its offset at 0: what a program gets as its standard input.
 * A file, not a pipe: if popfetch dies while the program reads, the
 * program still reads the whole message, never a clean EOF half-way that
 * it would deliver as a truncated message.  The caller closes it.  The fd,
 * or -1 with err set. */
int spool_extract(struct spool *s, const struct spool_msg *m, const char *prefix, size_t plen,
		  struct pf_error *err) PF_MUST_CHECK;

/* m is no longer needed; when no message is live the file is emptied. */
void spool_drop(struct spool *s, struct spool_msg *m);

/* The envelope sender from m's Return-Path header (RFC 5322 section 3.6.7)
 * into buf: the address between < and >, "" for <> or when there is no
 * usable one (none, longer than cap-1, or with bytes outside 0x21-0x7E or
 * '<', '>', '"' in it: server data never reaches a command line
 * unchecked).  Only the header (up to the first empty line, at most
 * SPOOL_HEADER_SCAN bytes) is read.  0 or -1 on a read error. */
#define SPOOL_HEADER_SCAN (64 * 1024)
int spool_return_path(struct spool *s, const struct spool_msg *m, char *buf, size_t cap,
		      struct pf_error *err) PF_MUST_CHECK;

#endif
