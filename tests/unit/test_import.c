/* test_import.c - popfetch --import's pure parts: the fetchmail, mpop and
 * getmail parsers, the UID state parsers, shell quoting and the account
 * text (loaded back with config_load, so what is written is what popfetch
 * reads). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "import.h"
#include "import_int.h"
#include "import_write.h"
#include "provider.h"

/* --- helpers ------------------------------------------------------------------ */

static struct import_set set;
static struct pf_error err;

static int reset(void **state)
{
	(void)state;
	memset(&set, 0, sizeof set);
	memset(&err, 0, sizeof err);
	return 0;
}

static int release(void **state)
{
	(void)state;
	import_set_free(&set);
	return 0;
}

static int parse(enum import_peer peer, const char *text)
{
	size_t n = strlen(text);

	switch (peer) {
	case IMPORT_FETCHMAIL: return import_parse_fetchmail(text, n, &set, &err);
	case IMPORT_MPOP: return import_parse_mpop(text, n, &set, &err);
	default: return import_parse_getmail(text, n, &set, &err);
	}
}

/* 1 when one of a's notes contains s. */
static int noted(const struct import_account *a, const char *s)
{
	for (size_t i = 0; i < a->notes.n; i++)
		if (strstr(a->notes.v[i], s) != NULL)
			return 1;
	return 0;
}

/* --- fetchmail ------------------------------------------------------------------ */

static void fetchmail__maps_a_poll_with_two_users(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_FETCHMAIL,
		"# comment\n"
		"set idfile \"~/ids\"\n"
		"poll pop.example.com with proto POP3 and port 995:\n"
		"  user 'alice@example.com' there with password \"s3\\\"cr\\x41t\" is alice here\n"
		"    options ssl keep limit 100000, fetchlimit 10\n"
		"    mda \"/usr/bin/procmail -d %T\"\n"
		"  user bob pass pw; nokeep\n"), 0);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.idfile, "~/ids");
	assert_string_equal(set.acc[0].host, "pop.example.com");
	assert_int_equal(set.acc[0].port, 995);
	assert_int_equal(set.acc[0].tls, TLS_IMPLICIT);
	assert_string_equal(set.acc[0].user, "alice@example.com");
	assert_string_equal(set.acc[0].password, "s3\"crAt");
	assert_int_equal(set.acc[0].keep, 1);
	assert_int_equal(set.acc[0].max_size, 100000);
	assert_int_equal(set.acc[0].fetch_limit, 10);
	assert_int_equal(set.acc[0].dest, IMPORT_DEST_MDA);
	assert_string_equal(set.acc[0].dest_arg, "/usr/bin/procmail -d %T");
	assert_true(noted(&set.acc[0], "%T"));
	/* The second user shares the server options, not the first's. */
	assert_string_equal(set.acc[1].host, "pop.example.com");
	assert_int_equal(set.acc[1].port, 995);
	assert_string_equal(set.acc[1].user, "bob");
	assert_int_equal(set.acc[1].keep, 0);
	assert_int_equal(set.acc[1].dest, IMPORT_DEST_NONE);
	assert_true(noted(&set.acc[1], "SMTP"));
	assert_true(noted(&set.acc[1], "STARTTLS"));
	assert_int_equal(set.acc[1].tls, TLS_STARTTLS);
}

static void fetchmail__imap_skip_and_multidrop_are_named(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_FETCHMAIL,
		"defaults proto pop3 keep\n"
		"poll imap.example.com proto imap user carol pass x\n"
		"skip old.example.com user dave pass y\n"
		"poll multi.example.com localdomains example.com user '*' is a b c here\n"), 0);
	assert_int_equal(set.n, 3);
	assert_true(set.acc[0].skip);
	assert_true(noted(&set.acc[0], "IMAP"));
	assert_true(set.acc[1].skip);
	assert_true(noted(&set.acc[1], "skip"));
	assert_false(set.acc[2].skip);
	assert_true(noted(&set.acc[2], "multidrop"));
	/* defaults carry over into every poll */
	assert_int_equal(set.acc[2].keep, 1);
}

/* fetchmail's noise words and the options popfetch has no use for are
 * read with their arguments and raise no "unknown word" note; a word that
 * is neither still does. */
static void fetchmail__noise_and_ignored_words_are_known(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_FETCHMAIL,
		"poll pop.example.com with proto pop3 and options uidl dns\n"
		"  user u there has password p here wants warnings 3600 BatchLimit 5\n"
		"  expunge 10 stripcr idle frobnicate\n"), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.acc[0].user, "u");
	assert_string_equal(set.acc[0].password, "p");
	assert_true(noted(&set.acc[0], "'frobnicate'"));
	assert_false(noted(&set.acc[0], "'with'"));
	assert_false(noted(&set.acc[0], "'options'"));
	assert_false(noted(&set.acc[0], "'uidl'"));
	assert_false(noted(&set.acc[0], "'3600'"));
	assert_false(noted(&set.acc[0], "'5'"));
	assert_false(noted(&set.acc[0], "'10'"));
	assert_false(noted(&set.acc[0], "'idle'"));
}

static void fetchmail__disabled_check_is_imported_checked(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_FETCHMAIL,
		"poll pop.example.com via 192.0.2.7 user u password p ssl no sslcertck "
		"sslcertfile /etc/ca.pem sslfingerprint \"AA:BB\"\n"), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.acc[0].host, "192.0.2.7");
	assert_true(set.acc[0].no_certcheck);
	assert_true(noted(&set.acc[0], "WITH verification"));
	assert_true(noted(&set.acc[0], "tls_fingerprint"));
	assert_true(noted(&set.acc[0], "MD5"));
	assert_string_equal(set.acc[0].tls_ca_file, "/etc/ca.pem");
}

static void fetchmail__plaintext_is_never_silently_kept(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_FETCHMAIL,
		"poll pop.example.com user u pass p sslproto ''\n"
		"poll 127.0.0.1 user v pass p sslproto \"\"\n"), 0);
	assert_int_equal(set.acc[0].tls, TLS_STARTTLS);
	assert_true(noted(&set.acc[0], "no TLS"));
	assert_int_equal(set.acc[1].tls, TLS_NONE);
}

static void fetchmail__bad_input_names_its_line(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_FETCHMAIL, "poll a user u\n\npass \"open\n"), -1);
	assert_non_null(strstr(err.msg, "line 3"));
	release(state);
	reset(state);
	assert_int_equal(parse(IMPORT_FETCHMAIL, "user u\n"), -1);
	assert_non_null(strstr(err.msg, "outside a poll"));
	release(state);
	reset(state);
	assert_int_equal(parse(IMPORT_FETCHMAIL, "poll a port notanumber\n"), -1);
	release(state);
	reset(state);
	assert_int_equal(import_parse_fetchmail("poll a\0b", 8, &set, &err), -1);
}

/* --- mpop ------------------------------------------------------------------ */

static void mpop__defaults_inheritance_and_tls(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_MPOP,
		"defaults\n"
		"tls on\n"
		"keep on\n"
		"uidls_file ~/uidls/%U_at_%H\n"
		"\n"
		"account work\n"
		"host pop.work.example\n"
		"user \"jo \\\"x\\\"\"\n"
		"passwordeval pass show work\n"
		"delivery maildir ~/Mail/work\n"
		"tls_starttls off\n"
		"skipsize 2m\n"
		"tls_fingerprint 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF\n"
		"account copy : work\n"
		"keep off\n"
		"account plain\n"
		"host mail.example\n"
		"tls off\n"
		"user me\n"
		"delivery mda /usr/bin/procmail -f '%F'\n"
		"killsize 10k\n"
		"filter /bin/true\n"
		"eval echo host x\n"), 0);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.acc[0].name, "work");
	assert_int_equal(set.acc[0].tls, TLS_IMPLICIT);
	assert_string_equal(set.acc[0].user, "jo \"x\"");
	assert_string_equal(set.acc[0].password_command, "pass show work");
	assert_int_equal(set.acc[0].dest, IMPORT_DEST_MAILDIR);
	assert_string_equal(set.acc[0].dest_arg, "~/Mail/work");
	assert_int_equal(set.acc[0].max_size, 2 * 1024 * 1024);
	assert_int_equal(set.acc[0].keep, 1);
	assert_string_equal(set.acc[0].state_file, "~/uidls/%U_at_%H");
	assert_non_null(set.acc[0].tls_fingerprint);
	assert_int_equal(strncmp(set.acc[0].tls_fingerprint, "sha256:01:23", 12), 0);
	/* inherited, then changed */
	assert_string_equal(set.acc[1].host, "pop.work.example");
	assert_int_equal(set.acc[1].tls, TLS_IMPLICIT);
	assert_int_equal(set.acc[1].keep, 0);
	/* no TLS at all: STARTTLS, said so */
	assert_int_equal(set.acc[2].tls, TLS_STARTTLS);
	assert_true(noted(&set.acc[2], "no TLS"));
	assert_int_equal(set.acc[2].dest, IMPORT_DEST_MDA);
	assert_true(noted(&set.acc[2], "%F"));
	assert_true(noted(&set.acc[2], "killsize"));
	assert_true(noted(&set.acc[2], "filter"));
	assert_true(noted(&set.acc[2], "eval"));
}

static void mpop__certcheck_off_and_starttls(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_MPOP,
		"account a\nhost h.example\nuser u\ntls\ntls_certcheck off\n"
		"delivery mbox ~/mbox\ntls_trust_file system\n"), 0);
	assert_int_equal(set.acc[0].tls, TLS_STARTTLS);
	assert_true(set.acc[0].no_certcheck);
	assert_true(noted(&set.acc[0], "-starttls pop3"));
	assert_null(set.acc[0].tls_ca_file);
	assert_int_equal(set.acc[0].dest, IMPORT_DEST_MBOX);
}

static void mpop__errors(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_MPOP, "account b : a\n"), -1);
	assert_non_null(strstr(err.msg, "line 1"));
	release(state);
	reset(state);
	assert_int_equal(parse(IMPORT_MPOP, "account a\nkeep maybe\n"), -1);
	assert_non_null(strstr(err.msg, "line 2"));
	release(state);
	reset(state);
	assert_int_equal(parse(IMPORT_MPOP, "account a\nuser \"open\n"), -1);
	release(state);
	reset(state);
	assert_int_equal(parse(IMPORT_MPOP, "account a\ndelivery carrier-pigeon x\n"), -1);
}

/* --- getmail --------------------------------------------------------------- */

static void getmail__ssl_with_ca_and_command_tuple(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_GETMAIL,
		"[retriever]\n"
		"type = SimplePOP3SSLRetriever\n"
		"server = pop.example.com\n"
		"username: me@example.com\n"
		"password_command = (\"pass\", \"show\",\n"
		"    \"mail it's\")\n"
		"ca_certs = /etc/ca.pem\n"
		"; comment\n"
		"[destination]\n"
		"type = MDA_external\n"
		"path = /usr/bin/maildrop\n"
		"arguments = (\"-d\", \"%(recipient)s\")\n"
		"[options]\n"
		"delete = false\n"
		"read_all = false\n"
		"delete_after = 30\n"
		"max_message_size = 5000\n"
		"max_messages_per_session = 7\n"
		"[filter-1]\n"
		"type = Filter_external\n"), 0);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.acc[0].tls, TLS_IMPLICIT);
	assert_false(set.acc[0].no_certcheck);
	assert_string_equal(set.acc[0].user, "me@example.com");
	assert_string_equal(set.acc[0].password_command, "pass show 'mail it'\\''s'");
	assert_int_equal(set.acc[0].dest, IMPORT_DEST_MDA);
	assert_string_equal(set.acc[0].dest_arg, "/usr/bin/maildrop -d '%(recipient)s'");
	assert_true(noted(&set.acc[0], "%(...)s"));
	assert_int_equal(set.acc[0].keep, 1);
	assert_int_equal(set.acc[0].delete_after, 30);
	assert_int_equal(set.acc[0].max_size, 5000);
	assert_int_equal(set.acc[0].fetch_limit, 7);
	assert_true(noted(&set.acc[0], "filter"));
}

static void getmail__unverified_ssl_and_read_all(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_GETMAIL,
		"[retriever]\ntype = SimplePOP3SSLRetriever\nserver = h.example\nusername = u\n"
		"[destination]\ntype = Mboxrd\npath = ~/mbox\n"), 0);
	assert_true(set.acc[0].no_certcheck);
	assert_true(noted(&set.acc[0], "WITH verification"));
	assert_true(noted(&set.acc[0], "read_all"));
	assert_int_equal(set.acc[0].dest, IMPORT_DEST_MBOX);
	release(state);
	reset(state);
	/* a pinned fingerprint is a check too */
	assert_int_equal(parse(IMPORT_GETMAIL,
		"[retriever]\ntype = SimplePOP3SSLRetriever\nserver = h.example\nusername = u\n"
		"ssl_fingerprints = ('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',)\n"), 0);
	assert_false(set.acc[0].no_certcheck);
	assert_string_equal(set.acc[0].tls_fingerprint,
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

static void getmail__imap_broken_uidl_and_sorters(void **state)
{
	(void)state;
	assert_int_equal(parse(IMPORT_GETMAIL,
		"[retriever]\ntype = SimpleIMAPSSLRetriever\nserver = h\nusername = u\n"), 0);
	assert_true(set.acc[0].skip);
	assert_true(noted(&set.acc[0], "IMAP"));
	release(state);
	reset(state);
	assert_int_equal(parse(IMPORT_GETMAIL,
		"[retriever]\ntype = BrokenUIDLPOP3Retriever\nserver = h\nusername = u\n"
		"[destination]\ntype = MultiSorter\ndefault = [x]\n"), 0);
	assert_non_null(set.acc[0].no_state);
	assert_true(noted(&set.acc[0], "MultiSorter"));
	assert_int_equal(set.acc[0].dest, IMPORT_DEST_NONE);
	release(state);
	reset(state);
	assert_int_equal(parse(IMPORT_GETMAIL, "[options]\ndelete = true\n"), -1);
	assert_non_null(strstr(err.msg, "retriever"));
	release(state);
	reset(state);
	assert_int_equal(parse(IMPORT_GETMAIL, "server = h\n"), -1);
	assert_non_null(strstr(err.msg, "line 1"));
}

/* --- UID state -------------------------------------------------------------- */

static void state__fetchmail_idfile(void **state)
{
	struct import_uids u = { 0 };
	const char *ids = "a@b.example@Pop.Example.com <1.2@x>\n"
			  "other@pop.example.com X\n"
			  "  a@b.example@pop.example.com   UID-2  \n"
			  "\n";

	(void)state;
	assert_int_equal(import_state_fetchmail(ids, strlen(ids), "a@b.example", "pop.example.com",
						&u, &err), 0);
	assert_true(u.found);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.v[0], "<1.2@x>");
	assert_string_equal(u.v[1], "UID-2");
	import_uids_free(&u);
	assert_int_equal(import_state_fetchmail("no-at-sign X\n", 13, "a", "b", &u, &err), -1);
	assert_non_null(strstr(err.msg, "line 1"));
	import_uids_free(&u);
	memset(&err, 0, sizeof err);
	assert_int_equal(import_state_fetchmail("a@b\n", 4, "a", "b", &u, &err), -1);
	import_uids_free(&u);
}

static void state__mpop_uidls(void **state)
{
	struct import_uids u = { 0 };
	const char *f = "# generated\n 2 h1 alice\nA\nB\n 1 h2 alice\nC\n";

	(void)state;
	assert_int_equal(import_state_mpop(f, strlen(f), "h2", "alice", &u, &err), 0);
	assert_true(u.found);
	assert_int_equal(u.n, 1);
	assert_string_equal(u.v[0], "C");
	import_uids_free(&u);
	assert_int_equal(import_state_mpop(f, strlen(f), "h3", "alice", &u, &err), 0);
	assert_false(u.found);
	import_uids_free(&u);
	/* cut short, or a UID where a header belongs */
	assert_int_equal(import_state_mpop(" 3 h a\nA\n", 9, "h", "a", &u, &err), -1);
	import_uids_free(&u);
	assert_int_equal(import_state_mpop("A\n", 2, "h", "a", &u, &err), -1);
	import_uids_free(&u);
	assert_int_equal(import_state_mpop(" 1 h a\nbad uid\n", 15, "h", "a", &u, &err), -1);
	import_uids_free(&u);
}

static void state__getmail_oldmail(void **state)
{
	struct import_uids u = { 0 };
	const char f[] = "abc\0" "1700000000\n" "x-y\0" "1\r\n" "\n";
	char name[128];

	(void)state;
	assert_int_equal(import_state_getmail(f, sizeof f - 1, &u, &err), 0);
	assert_int_equal(u.n, 3);
	assert_string_equal(u.v[0], "abc");
	assert_string_equal(u.v[1], "x-y");
	assert_string_equal(u.v[2], "x/y"); /* getmail stored '/' as '-' */
	import_uids_free(&u);
	assert_int_equal(import_state_getmail("abc 17\n", 7, &u, &err), -1);
	import_uids_free(&u);
	assert_int_equal(import_state_getmail("abc\0x\n", 6, &u, &err), -1);
	import_uids_free(&u);
	assert_int_equal(import_getmail_oldmail_name("h:/x", 995, "a|<b", name, sizeof name), 0);
	assert_string_equal(name, "oldmail-h-x-995-a-b");
	assert_int_equal(import_getmail_oldmail_name("h", 1, "u", name, 8), -1);
}

/* --- writing ---------------------------------------------------------------- */

static void shell_join__quotes_what_needs_it(void **state)
{
	char *argv[] = { "pass", "show", "it's here", "" };
	char *s = import_shell_join(argv, 4);

	(void)state;
	assert_string_equal(s, "pass show 'it'\\''s here' ''");
	free(s);
}

/* The section loads as popfetch reads it, masked or not. */
static void section__loads_back(void **state)
{
	struct import_account a = { .label = "poll x\nevil", .host = "pop.gmail.com",
				    .tls = TLS_IMPLICIT, .user = "me@gmail.com",
				    .password = "p\"$x", .keep = 1, .max_size = 5000,
				    .fetch_limit = 3, .delete_after = 9, .timeout = 60,
				    .tls_ca_file = "/etc/ca.pem" };
	struct import_write w = { .a = &a, .name = "me", .source = "/home/x/.fetchmailrc",
				  .preset = provider_find("gmail"), .maildir = "/tmp/md",
				  .keep = -1 };
	char path[] = "/tmp/pf-test-import-XXXXXX";
	struct config *cfg = NULL;
	const struct account *acct;
	char *text;
	int fd;

	(void)state;
	text = import_section_text(&w, &err);
	assert_non_null(text);
	assert_null(strstr(text, "\nevil")); /* the label cannot end the comment */
	assert_non_null(strstr(text, "provider = \"gmail\""));
	assert_null(strstr(text, "host ="));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	free(text);
	assert_int_equal(config_load(path, &cfg, &err), 0);
	acct = config_find(cfg, "me");
	assert_non_null(acct);
	assert_string_equal(acct->host, "pop.gmail.com");
	assert_string_equal(acct->password, "p\"$x");
	assert_string_equal(acct->maildir, "/tmp/md");
	assert_int_equal(acct->keep, 1);
	assert_int_equal(acct->max_size, 5000);
	assert_int_equal(acct->fetch_limit, 3);
	assert_int_equal(acct->delete_after, 9);
	assert_int_equal(acct->timeout, 60);
	config_free(cfg);
	unlink(path);
	w.mask = 1;
	text = import_section_text(&w, &err);
	assert_non_null(text);
	assert_null(strstr(text, "p\\\"\\$x"));
	assert_non_null(strstr(text, "********"));
	free(text);
}

/* What the section writer refuses (setup_text_start, setup_add_str): a
 * name popfetch cannot load, a value a config file cannot hold.  No text
 * comes back, and the message says what is wrong. */
static void section__refusals_name_what_is_wrong(void **state)
{
	struct import_account a = { .label = "x", .host = "pop.example.org",
				    .tls = TLS_IMPLICIT, .user = "me\001" };
	struct import_write w = { .a = &a, .name = "bad name", .source = "/x", .keep = -1 };

	(void)state;
	assert_null(import_section_text(&w, &err));
	assert_non_null(strstr(err.msg, "invalid account name"));
	w.name = "me";
	memset(&err, 0, sizeof err);
	assert_null(import_section_text(&w, &err));
	assert_non_null(strstr(err.msg, "control character"));
	a.user = "me";
	memset(&err, 0, sizeof err);
	free(import_section_text(&w, &err));
	assert_string_equal(err.msg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fetchmail__maps_a_poll_with_two_users, reset, release),
		cmocka_unit_test_setup_teardown(fetchmail__imap_skip_and_multidrop_are_named, reset,
						release),
		cmocka_unit_test_setup_teardown(fetchmail__noise_and_ignored_words_are_known, reset,
						release),
		cmocka_unit_test_setup_teardown(fetchmail__disabled_check_is_imported_checked, reset,
						release),
		cmocka_unit_test_setup_teardown(fetchmail__plaintext_is_never_silently_kept, reset,
						release),
		cmocka_unit_test_setup_teardown(fetchmail__bad_input_names_its_line, reset, release),
		cmocka_unit_test_setup_teardown(mpop__defaults_inheritance_and_tls, reset, release),
		cmocka_unit_test_setup_teardown(mpop__certcheck_off_and_starttls, reset, release),
		cmocka_unit_test_setup_teardown(mpop__errors, reset, release),
		cmocka_unit_test_setup_teardown(getmail__ssl_with_ca_and_command_tuple, reset, release),
		cmocka_unit_test_setup_teardown(getmail__unverified_ssl_and_read_all, reset, release),
		cmocka_unit_test_setup_teardown(getmail__imap_broken_uidl_and_sorters, reset, release),
		cmocka_unit_test_setup_teardown(state__fetchmail_idfile, reset, release),
		cmocka_unit_test_setup_teardown(state__mpop_uidls, reset, release),
		cmocka_unit_test_setup_teardown(state__getmail_oldmail, reset, release),
		cmocka_unit_test(shell_join__quotes_what_needs_it),
		cmocka_unit_test_setup_teardown(section__loads_back, reset, release),
		cmocka_unit_test_setup_teardown(section__refusals_name_what_is_wrong, reset, release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
