/* pop3_reply.h - pure parsers for POP3 server replies (RFC 1939, RFC 2449
 * CAPA and extended response codes, RFC 3206 SYS and AUTH codes).
 *
 * No I/O, no allocation: each function looks at one line (without its CRLF,
 * NUL-terminated, at most PF_LINE_MAX) that came from the server and is
 * untrusted.  Malformed input gives -1, never undefined behaviour. */
#ifndef POPFETCH_POP3_REPLY_H
#define POPFETCH_POP3_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

/* RFC 2449 / 3206 response codes popfetch acts on. */
enum pop3_code {
	POP3_CODE_NONE = 0,
	POP3_CODE_IN_USE,      /* [IN-USE] */
	POP3_CODE_LOGIN_DELAY, /* [LOGIN-DELAY] */
	POP3_CODE_SYS_TEMP,    /* [SYS/TEMP] */
	POP3_CODE_SYS_PERM,    /* [SYS/PERM] */
	POP3_CODE_AUTH,        /* [AUTH] */
	POP3_CODE_OTHER,       /* some other bracketed code */
};

/* A status line: "+OK text", "-ERR text" or a SASL continuation "+ data". */
enum pop3_status {
	POP3_OK = 1,
	POP3_ERR = 2,
	POP3_CONT = 3,
};

/* Classifies a status line.  *text_r points after the keyword and one
 * space (to "" when there is no text).  Returns the status, or -1 when the
 * line is neither (a protocol error).  "+OK" and "-ERR" are matched
 * case-insensitively as servers vary. */
int pop3_reply_status(const char *line, const char **text_r);

/* The response code at the start of an -ERR (or +OK) text, e.g. "[IN-USE]
 * mailbox locked".  Codes are case-insensitive; hierarchical codes match
 * their first known component (SYS/TEMP/FOO gives SYS_TEMP). */
enum pop3_code pop3_reply_code(const char *text);

/* Capabilities popfetch uses, from CAPA's listing lines. */
struct pop3_capa {
	int have_capa;   /* the server answered CAPA with +OK */
	int uidl;
	int top;
	int user;
	int pipelining;
	int stls;
	int resp_codes;
	int auth_resp_code;
	int sasl_plain;
	int sasl_login;
	int sasl_cram_md5;
	int sasl_xoauth2;
	int sasl_oauthbearer;
	int login_delay; /* seconds, -1 when not announced */
};

/* Resets caps to "nothing known" (login_delay -1). */
void pop3_capa_init(struct pop3_capa *caps);

/* Adds one line of a CAPA listing.  Unknown capabilities are ignored.
 * Returns 0, or -1 when the line is malformed (empty, or a LOGIN-DELAY
 * without a number in 0..INT_MAX, which leaves login_delay unchanged). */
int pop3_capa_line(struct pop3_capa *caps, const char *line);

/* "n size" from a LIST listing or a single-message LIST reply text.
 * n >= 1; size is a hint only (servers lie).  0 or -1. */
int pop3_parse_list(const char *line, unsigned long *num_r, uint64_t *size_r);

/* "n uid" from a UIDL listing or reply text.  uid_r must hold
 * PF_UID_MAX + 1 bytes and receives the validated uid.  0 or -1 (including
 * an invalid uid). */
int pop3_parse_uidl(const char *line, unsigned long *num_r, char *uid_r);

/* A line of the UIDL listing as pop3_listing reads it (issue 12: a bad
 * listing line costs one message, not the mailbox).  Like
 * pop3_parse_uidl, except that a line naming a message -- a number >= 1,
 * then a blank or the end -- whose uid is not valid (empty, over
 * PF_UID_MAX, a blank inside, a byte outside 0x21..0x7E) returns 1 with
 * *num_r set and uid_r "".  -1 when the line names no message (not a
 * listing line at all).  0 with a valid uid. */
int pop3_parse_uidl_entry(const char *line, unsigned long *num_r, char *uid_r);

/* "count size" from a STAT reply text.  0 or -1. */
int pop3_parse_stat(const char *text, unsigned long *count_r,
		    uint64_t *size_r);

/* Whether uid[0..len) is a valid unique-id: 1..PF_UID_MAX octets in
 * 0x21..0x7E (RFC 1939 section 7).  Such a uid may still contain '/',
 * so it is never used in a path. */
int pop3_uid_valid(const char *uid, size_t len);

/* Copies the APOP timestamp "<...@...>" from a greeting text into ts_r
 * (cap bytes).  Returns 0, or -1 when there is none or it is malformed. */
int pop3_greeting_timestamp(const char *text, char *ts_r, size_t cap);

#endif
