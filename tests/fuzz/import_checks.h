/* import_checks.h - what the three --import fuzz targets (fuzz_import_fetchmail.c,
 * fuzz_import_mpop.c, fuzz_import_getmail.c) check on every input,
 * and the one input step they share (fuzz_import_one).
 *
 * Byte 0 chooses what the rest is: even, the peer's config file; odd, its
 * UID state file.  A config parse must either fail with a one-sentence,
 * NUL-terminated error or give a set that keeps import.h's promises:
 * bounded counts, bounded NUL-terminated strings, valid enums, and an
 * account section (import_section_text) that is either refused with an
 * error or one `account NAME { ... }` block whose comment line did not let
 * a line break through.  A state parse must fail the same way or give
 * only valid UIDs (RFC 1939 section 7).  LeakSanitizer checks the frees. */
#ifndef POPFETCH_IMPORT_CHECKS_H
#define POPFETCH_IMPORT_CHECKS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import_int.h"
#include "import_write.h"
#include "util.h"

#define CHECK(cond)             \
	do {                    \
		if (!(cond))    \
			abort(); \
	} while (0)

static void fuzz_check_error(const struct pf_error *err)
{
	CHECK(memchr(err->msg, '\0', sizeof err->msg) != NULL);
	CHECK(err->msg[0] != '\0');
	CHECK(err->cls != PF_ERR_NONE);
}

static void fuzz_check_str(const char *s)
{
	if (s != NULL)
		CHECK(strlen(s) < 2 * PF_LINE_MAX);
}

static void fuzz_check_section(const struct import_account *a)
{
	struct import_write w = { .a = a, .name = "fuzz", .source = "fuzz\nsource", .keep = -1,
				  .mask = 1 };
	struct pf_error err = { 0 };
	char *text = import_section_text(&w, &err);
	const char *open;

	if (text == NULL) {
		fuzz_check_error(&err);
		return;
	}
	/* Two comment lines' worth of text before the block, never more. */
	open = strstr(text, "\naccount fuzz {\n");
	CHECK(open != NULL);
	CHECK(memchr(text + 1, '\n', (size_t)(open - text - 1)) == NULL);
	CHECK(strlen(text) >= 2 && strcmp(text + strlen(text) - 2, "}\n") == 0);
	pf_free_secret(text);
}

static void fuzz_check_set(const struct import_set *set)
{
	CHECK(set->n <= IMPORT_ACCOUNTS_MAX);
	CHECK(set->notes.n <= IMPORT_NOTES_MAX);
	fuzz_check_str(set->idfile);
	for (size_t i = 0; i < set->n; i++) {
		const struct import_account *a = &set->acc[i];

		CHECK(a->notes.n <= IMPORT_NOTES_MAX);
		CHECK(a->tls == TLS_IMPLICIT || a->tls == TLS_STARTTLS || a->tls == TLS_NONE);
		CHECK(a->dest >= IMPORT_DEST_NONE && a->dest <= IMPORT_DEST_MDA);
		CHECK(a->port >= 0 && a->port <= 65535);
		CHECK(a->max_size <= PF_MSG_HARD_MAX);
		/* TLS off only where popfetch allows it without asking. */
		CHECK(a->tls != TLS_NONE || import_is_loopback(a->host));
		fuzz_check_str(a->host);
		fuzz_check_str(a->user);
		fuzz_check_str(a->password);
		fuzz_check_str(a->password_command);
		fuzz_check_str(a->dest_arg);
		for (size_t k = 0; k < a->notes.n; k++)
			fuzz_check_str(a->notes.v[k]);
		if (!a->skip)
			fuzz_check_section(a);
	}
}

static void fuzz_check_uids(const struct import_uids *u)
{
	CHECK(u->n <= IMPORT_UIDS_MAX);
	for (size_t i = 0; i < u->n; i++) {
		size_t n = strlen(u->v[i]);

		CHECK(n >= 1 && n <= PF_UID_MAX);
		for (size_t k = 0; k < n; k++)
			CHECK((unsigned char)u->v[i][k] >= 0x21 && (unsigned char)u->v[i][k] <= 0x7e);
	}
}

/* The input after byte 0 as an exact-size heap copy (ASan sees overreads). */
static char *fuzz_copy(const uint8_t *data, size_t size, size_t *len_r)
{
	char *copy = malloc(size > 1 ? size - 1 : 1);

	CHECK(copy != NULL);
	*len_r = size > 1 ? size - 1 : 0;
	if (*len_r > 0)
		memcpy(copy, data + 1, *len_r);
	return copy;
}

/* The one state parser call a target differs in: its peer's parser with
 * that peer's fixed user and host. */
typedef int (*fuzz_state_fn)(const char *text, size_t len, struct import_uids *out,
			     struct pf_error *err);
typedef int (*fuzz_parse_fn)(const char *text, size_t len, struct import_set *set,
			     struct pf_error *err);

/* One input for a target: byte 0 even, PARSE on the rest and check the
 * set; odd, STATE on the rest and check the UIDs; a failure must leave a
 * proper error either way. */
static int fuzz_import_one(const uint8_t *data, size_t size, fuzz_parse_fn parse,
			   fuzz_state_fn state)
{
	struct pf_error err = { 0 };
	size_t len;
	char *text;

	if (size == 0)
		return 0;
	text = fuzz_copy(data, size, &len);
	if (data[0] % 2 == 0) {
		struct import_set set = { 0 };

		if (parse(text, len, &set, &err) == 0)
			fuzz_check_set(&set);
		else
			fuzz_check_error(&err);
		import_set_free(&set);
	} else {
		struct import_uids u = { 0 };

		if (state(text, len, &u, &err) == 0)
			fuzz_check_uids(&u);
		else
			fuzz_check_error(&err);
		import_uids_free(&u);
	}
	free(text);
	return 0;
}

#endif
