/* pop3_reply.c - see pop3_reply.h.
 *
 * Every input is one NUL-terminated line from the server: untrusted.  The
 * parsers only walk forward through the string, compare case-insensitively
 * in ASCII whatever the locale, and read numbers digit by digit with an
 * explicit overflow check (strtoul would accept "-1", "+1" and " 1"). */
#include <limits.h>
#include <string.h>

#include "pop3_reply.h"

/* ASCII only: toupper() depends on the locale. */
static int up(char c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Whether s[0..len) equals the upper-case keyword kw, ignoring case. */
static int word_is(const char *s, size_t len, const char *kw)
{
	size_t i;

	if (strlen(kw) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (up(s[i]) != kw[i])
			return 0;
	return 1;
}

/* Whether s starts with the upper-case keyword kw, ignoring case. */
static int prefix_is(const char *s, const char *kw)
{
	size_t i;

	for (i = 0; kw[i] != '\0'; i++)
		if (up(s[i]) != kw[i])
			return 0; /* also stops at s's NUL, which matches nothing */
	return 1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

/* Length of the token at s (up to a blank or the end). */
static size_t token_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && !is_blank(s[n]))
		n++;
	return n;
}

/* Reads a decimal number of at most max at *sp: digits only, at least one.
 * Advances *sp past the digits.  0 or -1 (no digit, overflow). */
static int parse_num(const char **sp, uint64_t max, uint64_t *v_r)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*sp = s;
	*v_r = v;
	return 0;
}

/* "a b": two numbers separated by blanks, then the end of the line or a
 * blank.  RFC 1939 sections 5 (STAT, LIST) allow anything after the size,
 * so text after a blank is ignored; "12x" is not a number. */
static int parse_pair(const char *line, uint64_t amax, uint64_t *a_r, uint64_t *b_r)
{
	const char *s;

	if (line == NULL)
		return -1;
	s = skip_blanks(line);
	if (parse_num(&s, amax, a_r) < 0 || !is_blank(*s))
		return -1;
	s = skip_blanks(s);
	if (parse_num(&s, UINT64_MAX, b_r) < 0)
		return -1;
	return *s == '\0' || is_blank(*s) ? 0 : -1;
}

/* The keyword kw at the start of line, followed by the end or a blank;
 * *text_r gets what follows the one separator. */
static int keyword(const char *line, const char *kw, const char **text_r)
{
	size_t n = strlen(kw);

	if (!prefix_is(line, kw))
		return 0;
	if (line[n] != '\0' && !is_blank(line[n]))
		return 0; /* "+OKAY" is not "+OK" */
	*text_r = line[n] == '\0' ? line + n : line + n + 1;
	return 1;
}

int pop3_reply_status(const char *line, const char **text_r)
{
	*text_r = "";
	if (line == NULL)
		return -1;
	if (keyword(line, "+OK", text_r))
		return POP3_OK;
	if (keyword(line, "-ERR", text_r))
		return POP3_ERR;
	/* RFC 5034 section 4: "+" SP base64; some servers send a bare "+"
	 * for an empty challenge. */
	if (keyword(line, "+", text_r))
		return POP3_CONT;
	return -1;
}

/* RFC 2449 section 8: schar = %x21-2E / %x30-5C / %x5E-7F, i.e. printable
 * ASCII except '/' (the level separator) and ']' (the end). */
static int is_schar(char c)
{
	unsigned char u = (unsigned char)c;

	return u >= 0x21 && u <= 0x7F && u != '/' && u != ']';
}

/* The length of the resp-level at s, 0 when there is none. */
static size_t level_len(const char *s)
{
	size_t n = 0;

	while (is_schar(s[n]))
		n++;
	return n;
}

/* Maps the levels of a well-formed code to what popfetch acts on. */
static enum pop3_code classify(const char *l1, size_t n1, const char *l2, size_t n2)
{
	if (word_is(l1, n1, "IN-USE"))
		return POP3_CODE_IN_USE;
	if (word_is(l1, n1, "LOGIN-DELAY"))
		return POP3_CODE_LOGIN_DELAY;
	if (word_is(l1, n1, "AUTH"))
		return POP3_CODE_AUTH;
	if (word_is(l1, n1, "SYS") && word_is(l2, n2, "TEMP"))
		return POP3_CODE_SYS_TEMP;
	if (word_is(l1, n1, "SYS") && word_is(l2, n2, "PERM"))
		return POP3_CODE_SYS_PERM;
	return POP3_CODE_OTHER;
}

enum pop3_code pop3_reply_code(const char *text)
{
	const char *s, *l1, *l2 = "";
	size_t n1, n, n2 = 0;

	if (text == NULL)
		return POP3_CODE_NONE;
	s = skip_blanks(text);
	if (*s++ != '[')
		return POP3_CODE_NONE;
	/* resp-code = resp-level *("/" resp-level): every level non-empty */
	l1 = s;
	n1 = level_len(s);
	if (n1 == 0)
		return POP3_CODE_NONE;
	s += n1;
	while (*s == '/') {
		n = level_len(++s);
		if (n == 0)
			return POP3_CODE_NONE;
		if (s - 1 == l1 + n1) {
			l2 = s; /* only the second level matters (SYS/TEMP) */
			n2 = n;
		}
		s += n;
	}
	if (*s != ']')
		return POP3_CODE_NONE; /* unterminated or a bad character */
	return classify(l1, n1, l2, n2);
}

void pop3_capa_init(struct pop3_capa *caps)
{
	memset(caps, 0, sizeof *caps);
	caps->login_delay = -1;
}

/* RFC 2449 section 6.9 "SASL mech...": the mechanisms popfetch knows. */
static void capa_sasl(struct pop3_capa *caps, const char *s)
{
	for (s = skip_blanks(s); *s != '\0'; s = skip_blanks(s)) {
		size_t n = token_len(s);

		if (word_is(s, n, "PLAIN"))
			caps->sasl_plain = 1;
		else if (word_is(s, n, "LOGIN"))
			caps->sasl_login = 1;
		else if (word_is(s, n, "CRAM-MD5"))
			caps->sasl_cram_md5 = 1;
		else if (word_is(s, n, "XOAUTH2"))
			caps->sasl_xoauth2 = 1;
		else if (word_is(s, n, "OAUTHBEARER"))
			caps->sasl_oauthbearer = 1;
		s += n;
	}
}

/* RFC 2449 section 6.5 "LOGIN-DELAY secs [USER]" (USER after login means
 * the delay is per user; the number is what matters). */
static int capa_login_delay(struct pop3_capa *caps, const char *s)
{
	uint64_t v;

	s = skip_blanks(s);
	if (parse_num(&s, INT_MAX, &v) < 0 || (*s != '\0' && !is_blank(*s)))
		return -1;
	caps->login_delay = (int)v;
	return 0;
}

/* Capabilities without arguments (arguments, if any, are ignored). */
static int *capa_flag(struct pop3_capa *caps, const char *name, size_t n)
{
	const struct {
		const char *name;
		int *flag;
	} flags[] = {
		{ "UIDL", &caps->uidl },
		{ "TOP", &caps->top },
		{ "USER", &caps->user },
		{ "PIPELINING", &caps->pipelining },
		{ "STLS", &caps->stls },
		{ "RESP-CODES", &caps->resp_codes },
		{ "AUTH-RESP-CODE", &caps->auth_resp_code },
	};
	size_t i;

	for (i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (word_is(name, n, flags[i].name))
			return flags[i].flag;
	return NULL;
}

int pop3_capa_line(struct pop3_capa *caps, const char *line)
{
	const char *s;
	size_t n;
	int *flag;

	if (line == NULL)
		return -1;
	s = skip_blanks(line);
	n = token_len(s);
	if (n == 0)
		return -1;
	flag = capa_flag(caps, s, n);
	if (flag != NULL) {
		*flag = 1;
		return 0;
	}
	if (word_is(s, n, "SASL"))
		capa_sasl(caps, s + n);
	else if (word_is(s, n, "LOGIN-DELAY"))
		return capa_login_delay(caps, s + n);
	return 0;
}

int pop3_parse_list(const char *line, unsigned long *num_r, uint64_t *size_r)
{
	uint64_t num, size;

	if (parse_pair(line, ULONG_MAX, &num, &size) < 0 || num == 0)
		return -1; /* RFC 1939 section 5: message numbers start at 1 */
	*num_r = (unsigned long)num;
	*size_r = size;
	return 0;
}

int pop3_parse_stat(const char *text, unsigned long *count_r, uint64_t *size_r)
{
	uint64_t count, size;

	/* An empty maildrop is "0 0": zero is fine here. */
	if (parse_pair(text, ULONG_MAX, &count, &size) < 0)
		return -1;
	*count_r = (unsigned long)count;
	*size_r = size;
	return 0;
}

int pop3_uid_valid(const char *uid, size_t len)
{
	size_t i;

	if (uid == NULL || len < 1 || len > PF_UID_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)uid[i];

		if (c < 0x21 || c > 0x7E)
			return 0;
	}
	return 1;
}

int pop3_parse_uidl(const char *line, unsigned long *num_r, char *uid_r)
{
	const char *s;
	uint64_t num;
	size_t n;

	if (line == NULL)
		return -1;
	s = skip_blanks(line);
	if (parse_num(&s, ULONG_MAX, &num) < 0 || num == 0 || !is_blank(*s))
		return -1;
	s = skip_blanks(s);
	n = token_len(s);
	/* RFC 1939 section 7: the uid is the rest of the line; anything but
	 * trailing blanks after it would make the uid ambiguous. */
	if (*skip_blanks(s + n) != '\0' || !pop3_uid_valid(s, n))
		return -1;
	memcpy(uid_r, s, n);
	uid_r[n] = '\0';
	*num_r = (unsigned long)num;
	return 0;
}

int pop3_parse_uidl_entry(const char *line, unsigned long *num_r, char *uid_r)
{
	const char *s;
	uint64_t num;

	if (pop3_parse_uidl(line, num_r, uid_r) == 0)
		return 0;
	if (line == NULL)
		return -1;
	/* The same number rule as a good line: a listing line whose number
	 * is garbage ("1x", "-1", none) is no listing line. */
	s = skip_blanks(line);
	if (parse_num(&s, ULONG_MAX, &num) < 0 || num == 0 || (*s != '\0' && !is_blank(*s)))
		return -1;
	uid_r[0] = '\0';
	*num_r = (unsigned long)num;
	return 1;
}

/* The '>' that closes the candidate timestamp at s ('<'), or NULL when a
 * character that cannot be in a msg-id (RFC 822: no controls, no '<') comes
 * first.  *at_r tells whether an '@' with text on both sides was seen. */
static const char *timestamp_end(const char *s, int *at_r)
{
	const char *p;

	*at_r = 0;
	for (p = s + 1; *p != '>'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c > 0x7E || c == '<')
			return NULL;
		if (c == '@' && p > s + 1 && p[1] != '>')
			*at_r = 1;
	}
	return p;
}

int pop3_greeting_timestamp(const char *text, char *ts_r, size_t cap)
{
	const char *s, *e;
	int at;

	if (cap > 0)
		ts_r[0] = '\0';
	if (text == NULL)
		return -1;
	/* RFC 1939 section 7: the greeting holds "<...@...>"; the first '<'
	 * that starts a well-formed one is taken.  Each candidate scan stops at
	 * the next '<', so the whole search is linear. */
	for (s = strchr(text, '<'); s != NULL; s = strchr(s + 1, '<')) {
		e = timestamp_end(s, &at);
		if (e == NULL || !at)
			continue;
		if ((size_t)(e - s) + 2 > cap)
			return -1; /* does not fit: refused, not cut */
		memcpy(ts_r, s, (size_t)(e - s) + 1);
		ts_r[e - s + 1] = '\0';
		return 0;
	}
	return -1;
}
