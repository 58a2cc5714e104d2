/* test_pop3_reply.c - the pure reply parsers (pop3_reply.c) with valid,
 * edge and hostile server lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pop3_reply.h"

/* ---- status lines ---------------------------------------------------- */

static void status__ok_err_cont__classified_with_text(void **state)
{
	(void)state;
	const char *text = NULL;

	(void)state;
	assert_int_equal(pop3_reply_status("+OK ready", &text), POP3_OK);
	assert_string_equal(text, "ready");
	assert_int_equal(pop3_reply_status("+ok 2 messages", &text), POP3_OK);
	assert_string_equal(text, "2 messages");
	assert_int_equal(pop3_reply_status("+Ok", &text), POP3_OK);
	assert_string_equal(text, "");
	assert_int_equal(pop3_reply_status("-ERR [IN-USE] locked", &text), POP3_ERR);
	assert_string_equal(text, "[IN-USE] locked");
	assert_int_equal(pop3_reply_status("-err", &text), POP3_ERR);
	assert_string_equal(text, "");
	assert_int_equal(pop3_reply_status("+ dGVzdA==", &text), POP3_CONT);
	assert_string_equal(text, "dGVzdA==");
	/* RFC 5034: an empty challenge; some servers omit the space. */
	assert_int_equal(pop3_reply_status("+ ", &text), POP3_CONT);
	assert_string_equal(text, "");
	assert_int_equal(pop3_reply_status("+", &text), POP3_CONT);
	assert_string_equal(text, "");
	/* Only one separator is eaten; the rest is the server's text. */
	assert_int_equal(pop3_reply_status("+OK  two", &text), POP3_OK);
	assert_string_equal(text, " two");
	assert_int_equal(pop3_reply_status("+OK\tx", &text), POP3_OK);
	assert_string_equal(text, "x");
}

static void status__garbage__rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "OK", " +OK", "+OKAY", "+OKready", "-ERROR x", "-ER", "-", "*OK",
		"+\x01", "-ERR\x1b[31m", "\x80+OK", "+-ERR",
	};
	const char *text = "unset";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("line: %zu\n", i);
		assert_int_equal(pop3_reply_status(bad[i], &text), -1);
		assert_non_null(text);
	}
	assert_int_equal(pop3_reply_status(NULL, &text), -1);
}

/* ---- response codes -------------------------------------------------- */

static void code__known_codes__recognised_case_insensitively(void **state)
{
	(void)state;
	assert_int_equal(pop3_reply_code("[IN-USE] mailbox locked"), POP3_CODE_IN_USE);
	assert_int_equal(pop3_reply_code("[in-use]"), POP3_CODE_IN_USE);
	assert_int_equal(pop3_reply_code("[LOGIN-DELAY] wait"), POP3_CODE_LOGIN_DELAY);
	assert_int_equal(pop3_reply_code("[SYS/TEMP] try later"), POP3_CODE_SYS_TEMP);
	assert_int_equal(pop3_reply_code("[sys/perm] gone"), POP3_CODE_SYS_PERM);
	assert_int_equal(pop3_reply_code("[AUTH] bad password"), POP3_CODE_AUTH);
	assert_int_equal(pop3_reply_code("  [AUTH] leading blanks"), POP3_CODE_AUTH);
}

static void code__hierarchical__first_known_component(void **state)
{
	(void)state;
	assert_int_equal(pop3_reply_code("[SYS/TEMP/X] x"), POP3_CODE_SYS_TEMP);
	assert_int_equal(pop3_reply_code("[SYS/PERM/QUOTA/Y]"), POP3_CODE_SYS_PERM);
	assert_int_equal(pop3_reply_code("[IN-USE/EXTRA]"), POP3_CODE_IN_USE);
	assert_int_equal(pop3_reply_code("[AUTH/EXPIRED]"), POP3_CODE_AUTH);
	/* SYS needs TEMP or PERM as its second level, not a later one. */
	assert_int_equal(pop3_reply_code("[SYS]"), POP3_CODE_OTHER);
	assert_int_equal(pop3_reply_code("[SYS/OTHER/TEMP]"), POP3_CODE_OTHER);
	assert_int_equal(pop3_reply_code("[SYS/TEMPORARY]"), POP3_CODE_OTHER);
	assert_int_equal(pop3_reply_code("[X-VENDOR] hm"), POP3_CODE_OTHER);
	assert_int_equal(pop3_reply_code("[IN-USER]"), POP3_CODE_OTHER);
	assert_int_equal(pop3_reply_code("[UTF8]"), POP3_CODE_OTHER);
	/* '[' is an schar (RFC 2449 section 8): the level is "[IN-USE". */
	assert_int_equal(pop3_reply_code("[[IN-USE]]"), POP3_CODE_OTHER);
}

static void code__none_or_malformed__give_none(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "mailbox locked", "IN-USE", "[IN-USE", "[IN-USE mailbox", "[]",
		"[/TEMP]", "[SYS/]", "[SYS//TEMP]", "[SYS/TEMP/]", "[IN USE]",
		"[IN-USE\x01]", "[IN-USE\x80]", "x [IN-USE]", "[",
		"]IN-USE[",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("text: %zu\n", i);
		assert_int_equal(pop3_reply_code(bad[i]), POP3_CODE_NONE);
	}
	assert_int_equal(pop3_reply_code(NULL), POP3_CODE_NONE);
}

/* ---- CAPA ------------------------------------------------------------- */

static void capa__init__knows_nothing(void **state)
{
	(void)state;
	struct pop3_capa c;

	(void)state;
	memset(&c, 0x5a, sizeof c);
	pop3_capa_init(&c);
	assert_int_equal(c.have_capa, 0);
	assert_int_equal(c.uidl + c.top + c.user + c.pipelining + c.stls, 0);
	assert_int_equal(c.resp_codes + c.auth_resp_code, 0);
	assert_int_equal(c.sasl_plain + c.sasl_login + c.sasl_cram_md5, 0);
	assert_int_equal(c.sasl_xoauth2 + c.sasl_oauthbearer, 0);
	assert_int_equal(c.login_delay, -1);
}

static void capa__typical_listing__sets_each_flag(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"TOP", "user", "  UIDL  ", "Pipelining", "STLS", "RESP-CODES",
		"AUTH-RESP-CODE", "SASL PLAIN LOGIN XOAUTH2", "LOGIN-DELAY 900",
		"IMPLEMENTATION Dovecot", "EXPIRE NEVER",
	};
	struct pop3_capa c;
	size_t i;

	(void)state;
	pop3_capa_init(&c);
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		assert_int_equal(pop3_capa_line(&c, lines[i]), 0);
	assert_int_equal(c.top, 1);
	assert_int_equal(c.user, 1);
	assert_int_equal(c.uidl, 1);
	assert_int_equal(c.pipelining, 1);
	assert_int_equal(c.stls, 1);
	assert_int_equal(c.resp_codes, 1);
	assert_int_equal(c.auth_resp_code, 1);
	assert_int_equal(c.sasl_plain, 1);
	assert_int_equal(c.sasl_login, 1);
	assert_int_equal(c.sasl_xoauth2, 1);
	assert_int_equal(c.sasl_cram_md5, 0);
	assert_int_equal(c.sasl_oauthbearer, 0);
	assert_int_equal(c.login_delay, 900);
	assert_int_equal(c.have_capa, 0); /* set by the caller on +OK */
}

static void capa__sasl_with_tabs_and_case__all_mechanisms(void **state)
{
	(void)state;
	struct pop3_capa c;

	(void)state;
	pop3_capa_init(&c);
	assert_int_equal(pop3_capa_line(&c, "\tsasl\t cram-md5  OAuthBearer\tplain GSSAPI "), 0);
	assert_int_equal(c.sasl_cram_md5, 1);
	assert_int_equal(c.sasl_oauthbearer, 1);
	assert_int_equal(c.sasl_plain, 1);
	assert_int_equal(c.sasl_login, 0);
	assert_int_equal(c.sasl_xoauth2, 0);
	/* Mechanism names must match whole: no prefixes, no bare "SASL" args
	 * on other capabilities. */
	pop3_capa_init(&c);
	assert_int_equal(pop3_capa_line(&c, "SASL PLAINX LOGINLOGIN XOAUTH"), 0);
	assert_int_equal(pop3_capa_line(&c, "X-SASL PLAIN"), 0);
	assert_int_equal(pop3_capa_line(&c, "SASLPLAIN"), 0);
	assert_int_equal(c.sasl_plain + c.sasl_login + c.sasl_xoauth2, 0);
}

static void capa__unknown_and_near_miss__ignored(void **state)
{
	(void)state;
	struct pop3_capa c;

	(void)state;
	pop3_capa_init(&c);
	assert_int_equal(pop3_capa_line(&c, "UIDLX"), 0);
	assert_int_equal(pop3_capa_line(&c, "STL"), 0);
	assert_int_equal(pop3_capa_line(&c, "X-TOP"), 0);
	assert_int_equal(pop3_capa_line(&c, "RESP-CODES-2"), 0);
	assert_int_equal(pop3_capa_line(&c, "\x1b[2J"), 0);
	assert_int_equal(c.uidl + c.stls + c.top + c.resp_codes, 0);
	/* Arguments after a flag capability do not hide it. */
	assert_int_equal(pop3_capa_line(&c, "TOP extra args"), 0);
	assert_int_equal(c.top, 1);
}

static void capa__empty_line__malformed(void **state)
{
	(void)state;
	struct pop3_capa c;

	(void)state;
	pop3_capa_init(&c);
	assert_int_equal(pop3_capa_line(&c, ""), -1);
	assert_int_equal(pop3_capa_line(&c, " \t "), -1);
	assert_int_equal(pop3_capa_line(&c, NULL), -1);
}

static void capa__login_delay__bounded_number(void **state)
{
	(void)state;
	struct pop3_capa c;

	(void)state;
	pop3_capa_init(&c);
	assert_int_equal(pop3_capa_line(&c, "login-delay\t 0"), 0);
	assert_int_equal(c.login_delay, 0);
	/* RFC 2449 section 6.5: "USER" after login when it is per user. */
	assert_int_equal(pop3_capa_line(&c, "LOGIN-DELAY 300 USER"), 0);
	assert_int_equal(c.login_delay, 300);
	assert_int_equal(pop3_capa_line(&c, "LOGIN-DELAY 2147483647"), 0);
	assert_int_equal(c.login_delay, 2147483647);
	/* Malformed: -1 and the last good value is kept. */
	assert_int_equal(pop3_capa_line(&c, "LOGIN-DELAY 2147483648"), -1);
	assert_int_equal(pop3_capa_line(&c, "LOGIN-DELAY 99999999999999999999999"), -1);
	assert_int_equal(pop3_capa_line(&c, "LOGIN-DELAY -5"), -1);
	assert_int_equal(pop3_capa_line(&c, "LOGIN-DELAY"), -1);
	assert_int_equal(pop3_capa_line(&c, "LOGIN-DELAY 9x"), -1);
	assert_int_equal(pop3_capa_line(&c, "LOGIN-DELAY +9"), -1);
	assert_int_equal(c.login_delay, 2147483647);
}

/* ---- LIST / STAT ---------------------------------------------------- */

static void list__valid__num_and_size(void **state)
{
	(void)state;
	unsigned long n = 0;
	uint64_t size = 0;

	(void)state;
	assert_int_equal(pop3_parse_list("1 120", &n, &size), 0);
	assert_int_equal(n, 1);
	assert_int_equal(size, 120);
	assert_int_equal(pop3_parse_list("  42 \t  7 ", &n, &size), 0);
	assert_int_equal(n, 42);
	assert_int_equal(size, 7);
	/* RFC 1939 section 5: anything may follow the size. */
	assert_int_equal(pop3_parse_list("3 0 extra info", &n, &size), 0);
	assert_int_equal(n, 3);
	assert_int_equal(size, 0);
	assert_int_equal(pop3_parse_list("18446744073709551615 18446744073709551615", &n, &size), 0);
	assert_int_equal(n, 18446744073709551615UL);
	assert_true(size == UINT64_MAX);
}

static void list__hostile__rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "1", "1 ", "0 100", "-1 100", "1 -100", "+1 100", "1 +100", "a 1",
		"1 a", "1 12x", "1x 12", "1\x01 12", "18446744073709551616 1",
		"1 18446744073709551616", "1 99999999999999999999999999", "1,2",
		" ", "1\t", "00 5",
	};
	unsigned long n = 77;
	uint64_t size = 77;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("line: %zu\n", i);
		assert_int_equal(pop3_parse_list(bad[i], &n, &size), -1);
	}
	assert_int_equal(pop3_parse_list(NULL, &n, &size), -1);
	assert_int_equal(n, 77); /* untouched on failure */
	assert_int_equal(size, 77);
}

static void stat__valid_and_empty_maildrop(void **state)
{
	(void)state;
	unsigned long count = 9;
	uint64_t size = 9;

	(void)state;
	assert_int_equal(pop3_parse_stat("0 0", &count, &size), 0);
	assert_int_equal(count, 0);
	assert_int_equal(size, 0);
	assert_int_equal(pop3_parse_stat("2  320 octets", &count, &size), 0);
	assert_int_equal(count, 2);
	assert_int_equal(size, 320);
	assert_int_equal(pop3_parse_stat("5 8589934592", &count, &size), 0);
	assert_true(size == 8589934592ULL);
	assert_int_equal(pop3_parse_stat("", &count, &size), -1);
	assert_int_equal(pop3_parse_stat("2", &count, &size), -1);
	assert_int_equal(pop3_parse_stat("-2 10", &count, &size), -1);
	assert_int_equal(pop3_parse_stat("2 10x", &count, &size), -1);
	assert_int_equal(pop3_parse_stat("2 184467440737095516160", &count, &size), -1);
	assert_int_equal(pop3_parse_stat(NULL, &count, &size), -1);
	assert_int_equal(count, 5);
}

/* ---- UIDs and UIDL ---------------------------------------------------- */

static void uid_valid__rfc1939_range(void **state)
{
	(void)state;
	char uid[PF_UID_MAX + 2];

	(void)state;
	assert_true(pop3_uid_valid("a", 1));
	assert_true(pop3_uid_valid("!~", 2));
	/* '/' and '.' are legal: callers never use uids in paths. */
	assert_true(pop3_uid_valid("../../etc/passwd", 16));
	assert_true(pop3_uid_valid("a/b", 3));
	memset(uid, 'x', sizeof uid);
	assert_true(pop3_uid_valid(uid, PF_UID_MAX));
	assert_false(pop3_uid_valid(uid, PF_UID_MAX + 1));
	assert_false(pop3_uid_valid(uid, 0));
	assert_false(pop3_uid_valid("a b", 3));
	assert_false(pop3_uid_valid("a\tb", 3));
	assert_false(pop3_uid_valid("a\nb", 3));
	assert_false(pop3_uid_valid("a\x7f", 2));
	assert_false(pop3_uid_valid("\x80", 1));
	assert_false(pop3_uid_valid("\xff", 1));
	assert_false(pop3_uid_valid("a\0b", 3));
	assert_false(pop3_uid_valid(NULL, 1));
}

static void uidl__valid__num_and_uid(void **state)
{
	(void)state;
	char uid[PF_UID_MAX + 1];
	char line[PF_UID_MAX + 16];
	unsigned long n = 0;

	(void)state;
	assert_int_equal(pop3_parse_uidl("1 whqtswO00WBw418f9t5JxYwZ", &n, uid), 0);
	assert_int_equal(n, 1);
	assert_string_equal(uid, "whqtswO00WBw418f9t5JxYwZ");
	assert_int_equal(pop3_parse_uidl("  12 \t a/b  ", &n, uid), 0);
	assert_int_equal(n, 12);
	assert_string_equal(uid, "a/b");
	/* Exactly 70 octets fits uid_r. */
	(void)snprintf(line, sizeof line, "7 %0*d", PF_UID_MAX, 5);
	assert_int_equal(pop3_parse_uidl(line, &n, uid), 0);
	assert_int_equal(strlen(uid), PF_UID_MAX);
	assert_int_equal(uid[PF_UID_MAX - 1], '5');
}

static void uidl__hostile__rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "1", "1 ", "0 abc", "-1 abc", "+1 abc", "x abc", "1x abc", "1abc",
		"1 abc def", "1 abc\x01", "1 ab\x7f", "1 \xc3\xa9t\xc3\xa9", "1 a\x1b[2J",
		"18446744073709551616 abc", " 1", "1 abc\r",
	};
	char uid[PF_UID_MAX + 1] = "untouched";
	char line[PF_LINE_MAX];
	unsigned long n = 5;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("line: %zu\n", i);
		assert_int_equal(pop3_parse_uidl(bad[i], &n, uid), -1);
	}
	/* 71 octets: one too many. */
	(void)snprintf(line, sizeof line, "7 %0*d", PF_UID_MAX + 1, 5);
	assert_int_equal(pop3_parse_uidl(line, &n, uid), -1);
	/* A whole line of uid. */
	memset(line, 'u', sizeof line - 1);
	line[0] = '1';
	line[1] = ' ';
	line[sizeof line - 1] = '\0';
	assert_int_equal(pop3_parse_uidl(line, &n, uid), -1);
	assert_int_equal(pop3_parse_uidl(NULL, &n, uid), -1);
	assert_string_equal(uid, "untouched");
	assert_int_equal(n, 5);
}

/* Issue 12: a line that names a message with a bad uid costs that message
 * (1), a line that names no message costs the listing (-1). */
static void uidl_entry__bad_uid__names_the_message(void **state)
{
	static const char *const bad_uid[] = {
		"3", "3 ", "3 abc def", "3 abc\x01", "3 ab\x7f", "3 \xc3\xa9t\xc3\xa9",
		"3 a\x1b[2J", " 3", "3 abc\r", "  3 \t uid x",
	};
	char uid[PF_UID_MAX + 1];
	char line[PF_LINE_MAX];
	unsigned long n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad_uid / sizeof bad_uid[0]; i++) {
		print_message("line: %zu\n", i);
		n = 0;
		strcpy(uid, "untouched");
		assert_int_equal(pop3_parse_uidl_entry(bad_uid[i], &n, uid), 1);
		assert_int_equal(n, 3);
		assert_string_equal(uid, "");
	}
	/* 71 octets, and 200. */
	(void)snprintf(line, sizeof line, "7 %0*d", PF_UID_MAX + 1, 5);
	assert_int_equal(pop3_parse_uidl_entry(line, &n, uid), 1);
	assert_int_equal(n, 7);
	(void)snprintf(line, sizeof line, "8 %0*d", 200, 5);
	assert_int_equal(pop3_parse_uidl_entry(line, &n, uid), 1);
	assert_int_equal(n, 8);
	/* A whole line of uid. */
	memset(line, 'u', sizeof line - 1);
	line[0] = '9';
	line[1] = ' ';
	line[sizeof line - 1] = '\0';
	assert_int_equal(pop3_parse_uidl_entry(line, &n, uid), 1);
	assert_int_equal(n, 9);
}

static void uidl_entry__valid__as_parse_uidl(void **state)
{
	char uid[PF_UID_MAX + 1];
	unsigned long n = 0;

	(void)state;
	assert_int_equal(pop3_parse_uidl_entry("12 ../../a/b", &n, uid), 0);
	assert_int_equal(n, 12);
	assert_string_equal(uid, "../../a/b");
	assert_int_equal(pop3_parse_uidl_entry("  4 \t /  ", &n, uid), 0);
	assert_int_equal(n, 4);
	assert_string_equal(uid, "/");
}

static void uidl_entry__no_message_number__is_not_a_listing_line(void **state)
{
	static const char *const garbage[] = {
		"", "0 abc", "-1 abc", "+1 abc", "x abc", "1x abc", "1abc",
		"18446744073709551616 abc", "this is not a listing line", ".", " ",
	};
	char uid[PF_UID_MAX + 1] = "untouched";
	unsigned long n = 5;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		print_message("line: %zu\n", i);
		assert_int_equal(pop3_parse_uidl_entry(garbage[i], &n, uid), -1);
	}
	assert_int_equal(pop3_parse_uidl_entry(NULL, &n, uid), -1);
	assert_int_equal(n, 5);
	assert_string_equal(uid, "untouched");
}

/* ---- APOP timestamp --------------------------------------------------- */

static void timestamp__rfc1939_example__copied_with_brackets(void **state)
{
	(void)state;
	char ts[128];

	(void)state;
	assert_int_equal(pop3_greeting_timestamp(
				 "POP3 server ready <1896.697170952@dbc.mtview.ca.us>", ts, sizeof ts), 0);
	assert_string_equal(ts, "<1896.697170952@dbc.mtview.ca.us>");
	/* The first well-formed one wins; malformed candidates are skipped. */
	assert_int_equal(pop3_greeting_timestamp("<no-at> <a@b> <c@d>", ts, sizeof ts), 0);
	assert_string_equal(ts, "<a@b>");
	assert_int_equal(pop3_greeting_timestamp("<<x@y>", ts, sizeof ts), 0);
	assert_string_equal(ts, "<x@y>");
	assert_int_equal(pop3_greeting_timestamp("<a\x01@b> <1.2@h>", ts, sizeof ts), 0);
	assert_string_equal(ts, "<1.2@h>");
}

static void timestamp__missing_or_malformed__rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "Dovecot ready.", "<>", "<abc>", "<@b>", "<a@>", "<a@b", "a@b>",
		"<a@b\x01>", "<a\x1b@b>", "<a@\xc3\xa9>", "<a@b\n>", "><a@b",
	};
	char ts[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("greeting: %zu\n", i);
		strcpy(ts, "junk");
		assert_int_equal(pop3_greeting_timestamp(bad[i], ts, sizeof ts), -1);
		assert_string_equal(ts, "");
	}
	assert_int_equal(pop3_greeting_timestamp(NULL, ts, sizeof ts), -1);
}

static void timestamp__cap__refused_not_cut(void **state)
{
	(void)state;
	char ts[8], big[PF_LINE_MAX];

	(void)state;
	/* "<a@bcd>" is 7 octets + NUL: fits exactly. */
	assert_int_equal(pop3_greeting_timestamp("hi <a@bcd>", ts, sizeof ts), 0);
	assert_string_equal(ts, "<a@bcd>");
	assert_int_equal(pop3_greeting_timestamp("hi <a@bcde>", ts, sizeof ts), -1);
	assert_string_equal(ts, "");
	assert_int_equal(pop3_greeting_timestamp("<a@b>", ts, 0), -1);
	/* A greeting that is one long unterminated timestamp. */
	memset(big, 'x', sizeof big - 1);
	big[0] = '<';
	big[10] = '@';
	big[sizeof big - 1] = '\0';
	assert_int_equal(pop3_greeting_timestamp(big, ts, sizeof ts), -1);
	/* Many '<' in a row stay linear and find nothing. */
	memset(big, '<', sizeof big - 1);
	assert_int_equal(pop3_greeting_timestamp(big, ts, sizeof ts), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status__ok_err_cont__classified_with_text),
		cmocka_unit_test(status__garbage__rejected),
		cmocka_unit_test(code__known_codes__recognised_case_insensitively),
		cmocka_unit_test(code__hierarchical__first_known_component),
		cmocka_unit_test(code__none_or_malformed__give_none),
		cmocka_unit_test(capa__init__knows_nothing),
		cmocka_unit_test(capa__typical_listing__sets_each_flag),
		cmocka_unit_test(capa__sasl_with_tabs_and_case__all_mechanisms),
		cmocka_unit_test(capa__unknown_and_near_miss__ignored),
		cmocka_unit_test(capa__empty_line__malformed),
		cmocka_unit_test(capa__login_delay__bounded_number),
		cmocka_unit_test(list__valid__num_and_size),
		cmocka_unit_test(list__hostile__rejected),
		cmocka_unit_test(stat__valid_and_empty_maildrop),
		cmocka_unit_test(uid_valid__rfc1939_range),
		cmocka_unit_test(uidl__valid__num_and_uid),
		cmocka_unit_test(uidl__hostile__rejected),
		cmocka_unit_test(uidl_entry__bad_uid__names_the_message),
		cmocka_unit_test(uidl_entry__valid__as_parse_uidl),
		cmocka_unit_test(uidl_entry__no_message_number__is_not_a_listing_line),
		cmocka_unit_test(timestamp__rfc1939_example__copied_with_brackets),
		cmocka_unit_test(timestamp__missing_or_malformed__rejected),
		cmocka_unit_test(timestamp__cap__refused_not_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
