/* test_setup.c - guided setup (popfetch --add-account): account names from
 * addresses, quoting for libconfuse (checked by loading the result with
 * config_load), the section text, questions read from a FILE*, and the
 * file handling of setup_add_account without a server (--no-test). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "provider.h"
#include "setup.h"

static char dir[64], path[160];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/pf-test-setup-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(path, sizeof path, "%s/cfg/config", dir);
	setenv("HOME", dir, 1);
	unsetenv("XDG_STATE_HOME");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- names ---------------------------------------------------------------- */

static void derive(const char *address, const char *const *taken, size_t n, const char *want)
{
	char out[SETUP_NAME_MAX + 1];

	assert_int_equal(setup_derive_name(address, taken, n, out), 0);
	assert_string_equal(out, want);
	assert_true(setup_name_ok(out));
}

static void name__local_part_sanitized(void **state)
{
	char longer[200], want[SETUP_NAME_MAX + 1];

	(void)state;
	derive("alice@example.com", NULL, 0, "alice");
	derive("John.Doe+news@example.com", NULL, 0, "John.Doe+news");
	derive("..x y!z%@example.com", NULL, 0, "xyz");
	derive("!!!@example.com", NULL, 0, "mail");
	derive("a@b@example.com", NULL, 0, "a@b");
	memset(longer, 'k', 100);
	strcpy(longer + 100, "@example.com");
	memset(want, 'k', SETUP_NAME_MAX);
	want[SETUP_NAME_MAX] = '\0';
	derive(longer, NULL, 0, want);
}

static void name__unique_against_taken(void **state)
{
	const char *taken[] = { "ALICE", "alice-2", "bob" };
	char local[SETUP_NAME_MAX + 1], addr[SETUP_NAME_MAX + 8], want[SETUP_NAME_MAX + 1];
	const char *taken64[] = { local };

	(void)state;
	derive("alice@gmail.com", taken, 1, "alice-2");
	derive("alice@gmail.com", taken, 3, "alice-3");
	derive("carol@gmail.com", taken, 3, "carol");
	/* A 64-character base loses its tail, not the suffix. */
	memset(local, 'z', SETUP_NAME_MAX);
	local[SETUP_NAME_MAX] = '\0';
	(void)snprintf(addr, sizeof addr, "%s@x.org", local);
	memcpy(want, local, SETUP_NAME_MAX - 2);
	strcpy(want + SETUP_NAME_MAX - 2, "-2");
	derive(addr, taken64, 1, want);
}

static void name_ok__follows_the_account_rule(void **state)
{
	char s[SETUP_NAME_MAX + 2];

	(void)state;
	assert_true(setup_name_ok("a"));
	assert_true(setup_name_ok("9a._@+-"));
	assert_false(setup_name_ok(""));
	assert_false(setup_name_ok(".a"));
	assert_false(setup_name_ok("-a"));
	assert_false(setup_name_ok("a/b"));
	assert_false(setup_name_ok("a b"));
	memset(s, 'a', SETUP_NAME_MAX);
	s[SETUP_NAME_MAX] = '\0';
	assert_true(setup_name_ok(s));
	s[SETUP_NAME_MAX] = 'a';
	s[SETUP_NAME_MAX + 1] = '\0';
	assert_false(setup_name_ok(s));
}

/* --- quoting ------------------------------------------------------------- */

static void quote__escapes_quote_backslash_dollar(void **state)
{
	char out[64];
	struct pf_error err = { 0 };

	(void)state;
	assert_int_equal(setup_quote("password", "a\"b\\c${HOME}#d", out, sizeof out, &err), 0);
	assert_string_equal(out, "\"a\\\"b\\\\c\\${HOME}#d\"");
	assert_int_equal(setup_quote("password", "", out, sizeof out, &err), 0);
	assert_string_equal(out, "\"\"");
}

static void quote__refuses_control_chars_and_overflow(void **state)
{
	char out[16];
	struct pf_error err = { 0 };

	(void)state;
	assert_int_equal(setup_quote("password", "sec\nret", out, sizeof out, &err), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "password contains a control character"));
	assert_null(strstr(err.msg, "sec"));
	pf_error_clear(&err);
	assert_int_equal(setup_quote("maildir", "0123456789abcdef", out, sizeof out, &err), -1);
	assert_non_null(strstr(err.msg, "maildir is too long"));
	pf_error_clear(&err);
	/* Escapes count: 6 quotes need 12 bytes + 2 + NUL. */
	assert_int_equal(setup_quote("x", "\"\"\"\"\"\"", out, sizeof out, &err), 0);
	assert_int_equal(strlen(out), 14);
}

/* --- the section, loaded by config_load ---------------------------------- */

static struct config *load_text(const char *text)
{
	struct config *cfg = NULL;
	struct pf_error err = { 0 };
	FILE *f;

	(void)mkdir(dir, 0700);
	(void)snprintf(path, sizeof path, "%s/config", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
	if (config_load(path, &cfg, &err) < 0)
		fail_msg("config_load: %s", err.msg);
	return cfg;
}

static void section__password_survives_libconfuse(void **state)
{
	static char pw[] = "p\"w\\x${HOME}$y#z'//q";
	struct setup_account a = {
		.name = "alice", .host = "127.0.0.1", .port = "1995", .tls = "starttls",
		.tls_ca_file = "/etc/ca.pem", .user = "alice@example.org", .maildir = "~/Mail/al ice",
		.keep = 1, .password = pw,
	};
	struct pf_error err = { 0 };
	char *text = setup_section_text(&a, &err);
	struct config *cfg;
	const struct account *acct;
	char md[200];

	(void)state;
	assert_non_null(text);
	assert_non_null(strstr(text, "account alice {\n"));
	assert_non_null(strstr(text, "    port = 1995\n    tls = starttls\n"));
	cfg = load_text(text);
	acct = config_find(cfg, "alice");
	assert_non_null(acct);
	assert_string_equal(acct->password, pw);
	assert_string_equal(acct->host, "127.0.0.1");
	assert_string_equal(acct->port, "1995");
	assert_int_equal(acct->tls, TLS_STARTTLS);
	assert_string_equal(acct->user, "alice@example.org");
	(void)snprintf(md, sizeof md, "%s/Mail/al ice", dir);
	assert_string_equal(acct->maildir, md);
	assert_int_equal(acct->keep, 1);
	config_free(cfg);
	free(text);
}

static void section__preset_and_oauth2_block(void **state)
{
	const struct provider *p = provider_find("outlook");
	struct setup_account a = {
		.name = "me", .provider = "outlook", .user = "me@outlook.com",
		.maildir = "/m", .keep = 0, .client_id = "0000-my-app",
	};
	struct pf_error err = { 0 };
	char *text = setup_section_text(&a, &err);
	struct config *cfg;
	const struct account *acct;

	(void)state;
	assert_non_null(text);
	assert_null(strstr(text, "password"));
	assert_non_null(strstr(text, "    keep = false\n"));
	cfg = load_text(text);
	acct = config_find(cfg, "me");
	assert_non_null(acct);
	assert_string_equal(acct->host, p->host);
	assert_int_equal(acct->oauth2.enabled, 1);
	assert_string_equal(acct->oauth2.client_id, "0000-my-app");
	assert_string_equal(acct->oauth2.token_endpoint, p->token_endpoint);
	assert_string_equal(acct->oauth2.device_authorization_endpoint,
			    p->device_authorization_endpoint);
	assert_string_equal(acct->oauth2.scope, p->scope);
	config_free(cfg);
	free(text);
}

static void section__refuses_bad_name_and_ctl(void **state)
{
	struct setup_account a = { .name = ".x", .user = "u", .maildir = "/m" };
	struct pf_error err = { 0 };

	(void)state;
	assert_null(setup_section_text(&a, &err));
	assert_non_null(strstr(err.msg, "invalid account name"));
	pf_error_clear(&err);
	strcpy(a.name, "x");
	a.user = "u\r\nDELE 1";
	assert_null(setup_section_text(&a, &err));
	assert_non_null(strstr(err.msg, "user contains a control character"));
}

/* --- questions ----------------------------------------------------------- */

static void ask__answer_default_and_eof(void **state)
{
	char in_text[] = "pop.example.org\n\r\n", buf[64];
	FILE *in = fmemopen(in_text, strlen(in_text), "r");
	FILE *out = tmpfile();
	struct setup_io io = { .in = in, .out = out, .echo_fd = -1 };
	struct pf_error err = { 0 };
	char shown[128] = "";

	(void)state;
	assert_int_equal(setup_ask(&io, "POP3 server", "pop.x", "--host", 0, buf, sizeof buf,
				   &err), 0);
	assert_string_equal(buf, "pop.example.org");
	assert_int_equal(setup_ask(&io, "Maildir", "~/Mail/a", "--maildir", 0, buf, sizeof buf,
				   &err), 0);
	assert_string_equal(buf, "~/Mail/a");
	assert_int_equal(setup_ask(&io, "User", NULL, "--user", 0, buf, sizeof buf, &err), -1);
	assert_non_null(strstr(err.msg, "end of input"));
	rewind(out);
	assert_non_null(fgets(shown, sizeof shown, out));
	assert_string_equal(shown, "POP3 server [pop.x]: Maildir [~/Mail/a]: User: ");
	fclose(in);
	fclose(out);
}

static void ask__without_input_names_the_option(void **state)
{
	struct setup_io io = { .in = NULL, .out = stdout, .echo_fd = -1 };
	struct pf_error err = { 0 };
	char buf[16];

	(void)state;
	assert_int_equal(setup_ask(&io, "POP3 server", "pop.x", "--host", 0, buf, sizeof buf,
				   &err), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "give --host"));
}

static void ask__overlong_answer_is_an_error(void **state)
{
	char in_text[] = "0123456789abcdef\n", buf[8];
	FILE *in = fmemopen(in_text, strlen(in_text), "r"), *out = tmpfile();
	struct setup_io io = { .in = in, .out = out, .echo_fd = -1 };
	struct pf_error err = { 0 };

	(void)state;
	assert_int_equal(setup_ask(&io, "Q", NULL, "--q", 1, buf, sizeof buf, &err), -1);
	assert_non_null(strstr(err.msg, "longer than"));
	fclose(in);
	fclose(out);
}

/* --- setup_add_account without a server ---------------------------------- */

static int add(const char *address, const char *pw, int keep, const char *cmd,
	       char name[SETUP_NAME_MAX + 1], struct pf_error *err)
{
	char in_text[128];
	FILE *sin, *out = tmpfile();
	struct setup_opts o = {
		.config_path = path, .address = address, .keep = keep, .no_test = 1,
		.host = "127.0.0.1", .tls_ca_file = "/etc/ssl/certs/ca-certificates.crt",
		.secret = cmd ? SETUP_SECRET_COMMAND : SETUP_SECRET_STDIN, .password_command = cmd,
	};
	struct setup_io io = { .out = out, .echo_fd = -1 };
	char *written = NULL;
	int oauth2 = -1, rc;

	(void)snprintf(in_text, sizeof in_text, "%s\n", pw ? pw : "");
	sin = fmemopen(in_text, strlen(in_text), "r");
	io.secret_in = sin;
	rc = setup_add_account(&o, &io, name, &written, &oauth2, err);
	if (rc == 0) {
		assert_int_equal(oauth2, 0);
		assert_non_null(written);
	}
	free(written);
	fclose(sin);
	fclose(out);
	return rc;
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static void add__creates_then_appends_unique(void **state)
{
	char name[SETUP_NAME_MAX + 1], cfgdir[128];
	struct pf_error err = { 0 };
	struct config *cfg = NULL;

	(void)state;
	(void)snprintf(path, sizeof path, "%s/cfg/config", dir);
	(void)snprintf(cfgdir, sizeof cfgdir, "%s/cfg", dir);
	if (add("alice@lab.test", "s3cret\"$x", 1, NULL, name, &err) < 0)
		fail_msg("first add: %s", err.msg);
	assert_string_equal(name, "alice");
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(mode_of(cfgdir), 0700);
	if (add("alice@other.test", NULL, 0, "pass show mail", name, &err) < 0)
		fail_msg("second add: %s", err.msg);
	assert_string_equal(name, "alice-2");
	assert_int_equal(config_load(path, &cfg, &err), 0);
	assert_int_equal(cfg->naccounts, 2);
	assert_string_equal(cfg->accounts[0].password, "s3cret\"$x");
	assert_int_equal(cfg->accounts[0].keep, 1);
	assert_string_equal(cfg->accounts[1].password_command, "pass show mail");
	assert_int_equal(cfg->accounts[1].keep, 0);
	assert_string_equal(cfg->accounts[1].user, "alice@other.test");
	config_free(cfg);
}

static void add__missing_answers_write_nothing(void **state)
{
	char name[SETUP_NAME_MAX + 1];
	struct pf_error err = { 0 };

	(void)state;
	(void)snprintf(path, sizeof path, "%s/cfg/config", dir);
	assert_int_equal(add("alice@lab.test", "pw", -1, NULL, name, &err), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "--keep or --no-keep"));
	pf_error_clear(&err);
	assert_int_equal(add("alice@lab.test", "", 1, NULL, name, &err), -1);
	assert_non_null(strstr(err.msg, "--password-stdin: no password"));
	pf_error_clear(&err);
	assert_int_equal(add("not-an-address", "pw", 1, NULL, name, &err), -1);
	assert_non_null(strstr(err.msg, "not an e-mail address"));
	assert_int_equal(access(path, F_OK), -1);
}

static void add__uses_accounts_d_when_present(void **state)
{
	char name[SETUP_NAME_MAX + 1], dpath[200];
	struct pf_error err = { 0 };
	struct config *cfg = NULL;

	(void)state;
	(void)snprintf(path, sizeof path, "%s/cfg/config", dir);
	if (add("bob@lab.test", "pw", 1, NULL, name, &err) < 0)
		fail_msg("first add: %s", err.msg);
	(void)snprintf(dpath, sizeof dpath, "%s/cfg/accounts.d", dir);
	assert_int_equal(mkdir(dpath, 0700), 0);
	if (add("bob@lab.test", "pw2", 0, NULL, name, &err) < 0)
		fail_msg("second add: %s", err.msg);
	assert_string_equal(name, "bob-2");
	(void)snprintf(dpath, sizeof dpath, "%s/cfg/accounts.d/bob-2.conf", dir);
	assert_int_equal(mode_of(dpath), 0600);
	assert_int_equal(config_load(path, &cfg, &err), 0);
	assert_int_equal(cfg->naccounts, 2);
	assert_non_null(config_find(cfg, "bob-2"));
	assert_string_equal(config_find(cfg, "bob-2")->password, "pw2");
	config_free(cfg);
}

static void add__broken_config_is_left_alone(void **state)
{
	static const char broken[] = "account x {\n  host = \"h\"\n  bogus = 1\n}\n";
	char name[SETUP_NAME_MAX + 1], cfgdir[128], back[128] = "";
	struct pf_error err = { 0 };
	FILE *f;

	(void)state;
	(void)snprintf(cfgdir, sizeof cfgdir, "%s/cfg", dir);
	assert_int_equal(mkdir(cfgdir, 0700), 0);
	(void)snprintf(path, sizeof path, "%s/cfg/config", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(broken, f);
	fclose(f);
	assert_int_equal(add("carol@lab.test", "pw", 1, NULL, name, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_null(strstr(err.msg, ".popfetch-new"));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(back, 1, sizeof back - 1, f), strlen(broken));
	fclose(f);
	assert_string_equal(back, broken);
}

/* The questions a person at the terminal answers, in order: the Gmail
 * preset comes from the domain, so only the Maildir (default taken), keep
 * (no), OAuth2 (default: no, Google has no device flow) and the app
 * password are asked. */
static void add__interactive_recognises_gmail(void **state)
{
	char answers[] = "\nn\n\nabcd efgh ijkl mnop\n", name[SETUP_NAME_MAX + 1], *written = NULL;
	char shown[4096] = "";
	FILE *in = fmemopen(answers, strlen(answers), "r"), *out = tmpfile();
	struct setup_opts o = { .config_path = path, .address = "Jane.Roe@gmail.com", .keep = -1,
				.no_test = 1 };
	struct setup_io io = { .in = in, .out = out, .echo_fd = -1 };
	struct pf_error err = { 0 };
	struct config *cfg = NULL;
	const struct account *a;
	int oauth2 = -1;

	(void)state;
	(void)snprintf(path, sizeof path, "%s/cfg/config", dir);
	if (setup_add_account(&o, &io, name, &written, &oauth2, &err) < 0)
		fail_msg("interactive add: %s", err.msg);
	assert_string_equal(name, "Jane.Roe");
	assert_int_equal(oauth2, 0);
	rewind(out);
	assert_true(fread(shown, 1, sizeof shown - 1, out) > 0);
	assert_non_null(strstr(shown, "Provider: gmail (pop.gmail.com)"));
	assert_non_null(strstr(shown, "Maildir folder [~/Mail/Jane.Roe]: "));
	assert_non_null(strstr(shown, "(keep) [Y/n]: "));
	assert_non_null(strstr(shown, "instead of a password [y/N]: "));
	assert_non_null(strstr(shown, "Password (or app password) for Jane.Roe@gmail.com"));
	assert_null(strstr(shown, "abcd efgh"));
	assert_int_equal(config_load(path, &cfg, &err), 0);
	a = config_find(cfg, "Jane.Roe");
	assert_non_null(a);
	assert_string_equal(a->host, "pop.gmail.com");
	assert_string_equal(a->user, "Jane.Roe@gmail.com");
	assert_string_equal(a->password, "abcd efgh ijkl mnop");
	assert_int_equal(a->keep, 0);
	assert_int_equal(a->timeout, 300);
	assert_non_null(strstr(a->maildir, "/Mail/Jane.Roe"));
	config_free(cfg);
	free(written);
	fclose(in);
	fclose(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name__local_part_sanitized),
		cmocka_unit_test(name__unique_against_taken),
		cmocka_unit_test(name_ok__follows_the_account_rule),
		cmocka_unit_test(quote__escapes_quote_backslash_dollar),
		cmocka_unit_test(quote__refuses_control_chars_and_overflow),
		cmocka_unit_test_setup_teardown(section__password_survives_libconfuse, setup,
						teardown),
		cmocka_unit_test_setup_teardown(section__preset_and_oauth2_block, setup, teardown),
		cmocka_unit_test(section__refuses_bad_name_and_ctl),
		cmocka_unit_test(ask__answer_default_and_eof),
		cmocka_unit_test(ask__without_input_names_the_option),
		cmocka_unit_test(ask__overlong_answer_is_an_error),
		cmocka_unit_test_setup_teardown(add__creates_then_appends_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(add__missing_answers_write_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(add__uses_accounts_d_when_present, setup, teardown),
		cmocka_unit_test_setup_teardown(add__broken_config_is_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(add__interactive_recognises_gmail, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
