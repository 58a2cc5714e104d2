/* fuzz_pop3_reply.c - libFuzzer target for the reply parsers
 * (pop3_reply.c).  The input becomes one NUL-terminated line, cut to
 * PF_LINE_MAX as conn's line reader would, and every parser runs on it;
 * what they report as valid is checked against the header's promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)             \
	do {                    \
		if (!(cond))    \
			abort(); \
	} while (0)

static void check_status(const char *line)
{
	const char *text = NULL;
	int st = pop3_reply_status(line, &text);
	enum pop3_code code;

	CHECK(st == -1 || st == POP3_OK || st == POP3_ERR || st == POP3_CONT);
	if (st < 0)
		return;
	CHECK(text >= line && text <= line + strlen(line));
	code = pop3_reply_code(text);
	CHECK(code >= POP3_CODE_NONE && code <= POP3_CODE_OTHER);
}

static void check_listings(const char *line)
{
	char uid[PF_UID_MAX + 1];
	unsigned long n;
	uint64_t sz;

	if (pop3_parse_list(line, &n, &sz) == 0)
		CHECK(n >= 1);
	(void)pop3_parse_stat(line, &n, &sz);
	if (pop3_parse_uidl(line, &n, uid) == 0)
		CHECK(n >= 1 && pop3_uid_valid(uid, strlen(uid)));
	/* The lenient form: a valid uid or none, never a bad one. */
	switch (pop3_parse_uidl_entry(line, &n, uid)) {
	case 0:
		CHECK(n >= 1 && pop3_uid_valid(uid, strlen(uid)));
		break;
	case 1:
		CHECK(n >= 1 && uid[0] == '\0');
		break;
	default:
		break;
	}
}

static void check_timestamp(const char *line)
{
	char small[16], big[PF_LINE_MAX];
	size_t len;

	if (pop3_greeting_timestamp(line, big, sizeof big) == 0) {
		len = strlen(big);
		CHECK(len >= 5 && big[0] == '<' && big[len - 1] == '>');
		CHECK(memchr(big, '@', len) != NULL && strstr(line, big) != NULL);
	}
	if (pop3_greeting_timestamp(line, small, sizeof small) == 0)
		CHECK(strlen(small) < sizeof small);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[PF_LINE_MAX];
	size_t len = size < sizeof line - 1 ? size : sizeof line - 1;
	struct pop3_capa caps;

	if (len > 0)
		memcpy(line, data, len);
	line[len] = '\0';
	check_status(line);
	(void)pop3_reply_code(line);
	pop3_capa_init(&caps);
	(void)pop3_capa_line(&caps, line);
	CHECK(caps.login_delay >= -1);
	check_listings(line);
	(void)pop3_uid_valid(line, strlen(line));
	(void)pop3_uid_valid((const char *)data, size);
	check_timestamp(line);
	return 0;
}
