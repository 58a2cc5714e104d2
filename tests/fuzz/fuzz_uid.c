/* fuzz_uid.c - libFuzzer target for the unique-id checks (pop3_reply.c):
 * pop3_uid_valid and pop3_parse_uidl, which guard everything a UID later
 * reaches (the uid store, DELE decisions; CVE-2005-2335 was a UIDL
 * overflow in fetchmail).
 *
 * Three properties on every input:
 *  1. pop3_uid_valid(data, size) agrees exactly with RFC 1939 section 7:
 *     1..PF_UID_MAX (70) octets, each in 0x21..0x7E.
 *  2. pop3_parse_uidl on the input as one line (cut to PF_LINE_MAX as
 *     conn's reader would): when it accepts, the uid is 1..70 octets of
 *     0x21..0x7E, the number is >= 1, the uid occurs in the line, and
 *     nothing was written past the uid's NUL (uid_r is an exact-size heap
 *     buffer, so ASan sees an overrun).
 *  3. On the synthesised line "N X" (N from byte 0, X the rest up to its
 *     first NUL), pop3_parse_uidl accepts exactly when X without leading
 *     and trailing blanks (space, tab: what the parser tolerates) is a
 *     valid uid, and then returns that uid and N. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)             \
	do {                    \
		if (!(cond))    \
			abort(); \
	} while (0)

/* RFC 1939 section 7, written independently of pop3_reply.c. */
static int rfc_uid(const uint8_t *s, size_t len)
{
	size_t i;

	if (len < 1 || len > 70)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7E)
			return 0;
	return 1;
}

static int blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* pop3_parse_uidl on line with a fresh exact-size uid buffer; 0 or -1. */
static int parse(const char *line, unsigned long *num, char **uid_r)
{
	char *uid = malloc(PF_UID_MAX + 1);
	int rc;

	CHECK(uid != NULL);
	memset(uid, 0x55, PF_UID_MAX + 1);
	*num = 0;
	rc = pop3_parse_uidl(line, num, uid);
	if (rc != 0) {
		CHECK(rc == -1);
		free(uid);
		*uid_r = NULL;
		return -1;
	}
	CHECK(memchr(uid, '\0', PF_UID_MAX + 1) != NULL);
	CHECK(rfc_uid((const uint8_t *)uid, strlen(uid)));
	CHECK(pop3_uid_valid(uid, strlen(uid)));
	CHECK(*num >= 1);
	CHECK(strstr(line, uid) != NULL);
	*uid_r = uid;
	return 0;
}

static void check_line(const uint8_t *data, size_t size)
{
	char line[PF_LINE_MAX];
	size_t len = size < sizeof line - 1 ? size : sizeof line - 1;
	unsigned long num;
	char *uid;

	memcpy(line, data, len);
	line[len] = '\0';
	if (parse(line, &num, &uid) == 0)
		free(uid);
}

static void check_synthesised(const uint8_t *data, size_t size)
{
	char line[PF_LINE_MAX];
	const uint8_t *x = data + 1, *b, *e;
	size_t xlen = size - 1, n;
	unsigned long want = (unsigned long)data[0] + 1, num;
	char *uid;
	int prefix, ok;

	if (memchr(x, '\0', xlen) != NULL)
		xlen = (size_t)((const uint8_t *)memchr(x, '\0', xlen) - x);
	prefix = snprintf(line, sizeof line, "%lu ", want);
	CHECK(prefix > 0 && (size_t)prefix < sizeof line);
	if (xlen > sizeof line - 1 - (size_t)prefix)
		xlen = sizeof line - 1 - (size_t)prefix;
	memcpy(line + prefix, x, xlen);
	line[(size_t)prefix + xlen] = '\0';
	for (b = x, e = x + xlen; b < e && blank(*b); b++)
		;
	while (e > b && blank(e[-1]))
		e--;
	n = (size_t)(e - b);
	ok = rfc_uid(b, n);
	CHECK((parse(line, &num, &uid) == 0) == ok);
	if (!ok)
		return;
	CHECK(num == want && strlen(uid) == n && memcmp(uid, b, n) == 0);
	free(uid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);

	/* An exact-size copy, so reading past size is an ASan error. */
	CHECK(copy != NULL);
	if (size > 0)
		memcpy(copy, data, size);
	CHECK(!pop3_uid_valid(copy, size) == !rfc_uid(data, size));
	free(copy);
	check_line(data, size);
	if (size >= 1)
		check_synthesised(data, size);
	return 0;
}
