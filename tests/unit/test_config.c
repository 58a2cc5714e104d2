/* test_config.c - the configuration file: defaults, every key, every error
 * with its file and line, accounts.d, permissions, ~ and $VAR expansion,
 * the plaintext rule, and the shipped example. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/tls1.h>

#include "config.h"

struct fx {
	char dir[64];
	char path[128];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	struct fx *fx = calloc(1, sizeof *fx);

	if (fx == NULL)
		return -1;
	strcpy(fx->dir, "/tmp/pf-test-config-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof fx->path, "%s/config", fx->dir);
	setenv("HOME", fx->dir, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_STATE_HOME");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct fx *fx = *state;

	(void)nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* Writes dir/rel with mode; rel may contain one level of directory. */
static void put(const struct fx *fx, const char *rel, mode_t mode, const char *text)
{
	char path[256], *slash;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", fx->dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	(void)mkdir(path, 0700);
	*slash = '/';
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static struct config *load_ok(const struct fx *fx)
{
	struct config *c = NULL;
	struct pf_error err = { 0 };

	if (config_load(fx->path, &c, &err) < 0)
		fail_msg("config_load: %s", err.msg);
	return c;
}

/* Loads text as the main config and expects an error of class cls whose
 * message holds each of the NULL-terminated needles. */
static void expect_error(const struct fx *fx, const char *text, enum pf_errclass cls, ...)
{
	struct config *c = NULL;
	struct pf_error err = { 0 };
	const char *needle;
	va_list ap;

	if (text != NULL)
		put(fx, "config", 0600, text);
	if (config_load(fx->path, &c, &err) == 0)
		fail_msg("config_load accepted:\n%s", text ? text : "(files as written)");
	assert_null(c);
	if (err.cls != cls)
		fail_msg("class %d, want %d: %s", err.cls, cls, err.msg);
	va_start(ap, cls);
	while ((needle = va_arg(ap, const char *)) != NULL)
		if (strstr(err.msg, needle) == NULL)
			fail_msg("'%s' not in: %s", needle, err.msg);
	va_end(ap);
}

#define MINIMAL "account work {\n" \
		"  host = \"pop.example.com\"\n" \
		"  user = \"me@example.com\"\n" \
		"  password_command = \"pass show work\"\n" \
		"  maildir = \"/var/mail/work\"\n" \
		"}\n"

static void minimal__loads_with_every_default(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct config *c;
	const struct account *a;
	char want[256];

	put(fx, "config", 0600, MINIMAL);
	c = load_ok(fx);
	assert_string_equal(c->path, fx->path);
	snprintf(want, sizeof want, "%s/.local/state/popfetch", fx->dir);
	assert_string_equal(c->state_dir, want);
	assert_int_equal(c->poll_interval, 300);
	assert_int_equal(c->jobs, 4);
	assert_int_equal(c->naccounts, 1);
	a = &c->accounts[0];
	assert_string_equal(a->name, "work");
	assert_string_equal(a->source_file, fx->path);
	assert_string_equal(a->host, "pop.example.com");
	assert_string_equal(a->port, "995");
	assert_int_equal(a->tls, TLS_IMPLICIT);
	assert_int_equal(a->allow_plaintext, 0);
	assert_null(a->tls_ca_file);
	assert_null(a->tls_ca_dir);
	assert_null(a->tls_fingerprint);
	assert_int_equal(a->tls_min_version, 0);
	assert_null(a->tls_cert_file);
	assert_null(a->tls_key_file);
	assert_int_equal(a->timeout, 300);
	assert_string_equal(a->user, "me@example.com");
	assert_null(a->password);
	assert_string_equal(a->password_command, "pass show work");
	assert_int_equal(a->auth, AUTH_AUTO);
	assert_string_equal(a->maildir, "/var/mail/work");
	assert_int_equal(a->keep, 0);
	assert_int_equal(a->delete_after, 0);
	assert_int_equal(a->max_size, 0);
	assert_int_equal(a->fetch_limit, 0);
	assert_int_equal(a->poll_interval, 0);
	assert_null(a->provider);
	assert_ptr_equal(config_find(c, "work"), a);
	assert_null(config_find(c, "Work"));
	config_free(c);
}

static void every_key__is_parsed(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct config *c;
	const struct account *a;

	put(fx, "config", 0600,
	    "state_dir = \"/srv/state\"\n"
	    "poll_interval = 120\n"
	    "jobs = 2\n"
	    "account 'a.b_c@d+e-f' {\n"
	    "  host = \"127.0.0.1\"\n"
	    "  port = 1995\n"
	    "  tls = starttls\n"
	    "  allow_plaintext = true\n"
	    "  tls_ca_file = \"/etc/ca.pem\"\n"
	    "  tls_ca_dir = \"/etc/ssl/certs\"\n"
	    "  tls_fingerprint = \"sha256:" "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
	    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff\"\n"
	    "  tls_min_version = \"1.3\"\n"
	    "  tls_cert_file = \"/etc/client.pem\"\n"
	    "  tls_key_file = \"/etc/client.key\"\n"
	    "  timeout = 60\n"
	    "  user = \"alice\"\n"
	    "  password = \"wonder land\"\n"
	    "  auth = cram-md5\n"
	    "  maildir = \"/m/a\"\n"
	    "  keep = true\n"
	    "  delete_after = 30\n"
	    "  max_size = 10000000\n"
	    "  fetch_limit = 50\n"
	    "  poll_interval = 90\n"
	    "  provider = \"gmail\"\n"
	    "}\n");
	c = load_ok(fx);
	assert_string_equal(c->state_dir, "/srv/state");
	assert_int_equal(c->poll_interval, 120);
	assert_int_equal(c->jobs, 2);
	a = config_find(c, "a.b_c@d+e-f");
	assert_non_null(a);
	assert_string_equal(a->host, "127.0.0.1");
	assert_string_equal(a->port, "1995");
	assert_int_equal(a->tls, TLS_STARTTLS);
	assert_int_equal(a->allow_plaintext, 1);
	assert_string_equal(a->tls_ca_file, "/etc/ca.pem");
	assert_string_equal(a->tls_ca_dir, "/etc/ssl/certs");
	assert_non_null(strstr(a->tls_fingerprint, "99:aa:bb"));
	assert_int_equal(a->tls_min_version, TLS1_3_VERSION);
	assert_string_equal(a->tls_cert_file, "/etc/client.pem");
	assert_string_equal(a->tls_key_file, "/etc/client.key");
	assert_int_equal(a->timeout, 60);
	assert_string_equal(a->user, "alice");
	assert_string_equal(a->password, "wonder land");
	assert_null(a->password_command);
	assert_int_equal(a->auth, AUTH_CRAM_MD5);
	assert_string_equal(a->maildir, "/m/a");
	assert_int_equal(a->keep, 1);
	assert_int_equal(a->delete_after, 30);
	assert_int_equal(a->max_size, 10000000);
	assert_int_equal(a->fetch_limit, 50);
	assert_int_equal(a->poll_interval, 90);
	assert_string_equal(a->provider, "gmail");
	config_free(c);
}

static void enums__every_word_maps(void **state)
{
	(void)state;
	static const struct { const char *word; int value; } auths[] = {
		{ "user", AUTH_USER }, { "plain", AUTH_PLAIN }, { "login", AUTH_LOGIN },
		{ "apop", AUTH_APOP }, { "xoauth2", AUTH_XOAUTH2 },
		{ "oauthbearer", AUTH_OAUTHBEARER }, { "auto", AUTH_AUTO },
	};
	struct fx *fx = *state;
	char text[512];

	for (size_t i = 0; i < sizeof auths / sizeof auths[0]; i++) {
		struct config *c;

		snprintf(text, sizeof text, "account x {\n host = \"localhost\"\n tls = none\n"
			 " user = \"u\"\n maildir = \"/m\"\n auth = %s\n"
			 " tls_min_version = 1.2\n}\n", auths[i].word);
		put(fx, "config", 0600, text);
		c = load_ok(fx);
		assert_int_equal(c->accounts[0].auth, auths[i].value);
		assert_int_equal(c->accounts[0].tls, TLS_NONE);
		assert_string_equal(c->accounts[0].port, "110");
		assert_int_equal(c->accounts[0].tls_min_version, TLS1_2_VERSION);
		config_free(c);
	}
}

static void port__defaults_to_110_for_starttls(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct config *c;

	put(fx, "config", 0600, "account s {\n host = \"h\"\n tls = starttls\n user = \"u\"\n"
	    " maildir = \"/m\"\n}\n");
	c = load_ok(fx);
	assert_string_equal(c->accounts[0].port, "110");
	config_free(c);
}

static void state_dir__defaults_to_xdg_state_home(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct config *c;

	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	put(fx, "config", 0600, MINIMAL);
	c = load_ok(fx);
	assert_string_equal(c->state_dir, "/xdg/state/popfetch");
	config_free(c);
	setenv("XDG_STATE_HOME", "relative/is/ignored", 1);
	c = load_ok(fx);
	assert_non_null(strstr(c->state_dir, "/.local/state/popfetch"));
	config_free(c);
}

static void default_path__follows_xdg_config_home(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char want[256], *p;
	struct config *c;
	struct pf_error err = { 0 };

	p = config_default_path();
	snprintf(want, sizeof want, "%s/.config/popfetch/config", fx->dir);
	assert_string_equal(p, want);
	free(p);
	setenv("XDG_CONFIG_HOME", "/elsewhere", 1);
	p = config_default_path();
	assert_string_equal(p, "/elsewhere/popfetch/config");
	free(p);
	unsetenv("XDG_CONFIG_HOME");

	/* NULL loads the default path */
	snprintf(want, sizeof want, "%s/.config", fx->dir);
	assert_int_equal(mkdir(want, 0700), 0);
	put(fx, ".config/popfetch/config", 0600, MINIMAL);
	snprintf(want, sizeof want, "%s/.config/popfetch/config", fx->dir);
	assert_int_equal(config_load(NULL, &c, &err), 0);
	assert_string_equal(c->path, want);
	config_free(c);
}

static void missing_file__names_it_and_the_man_page(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, NULL, PF_ERR_CONFIG, "cannot read config ", fx->path,
		     "No such file or directory", "popfetch.conf(5)", NULL);
}

/* --- errors, each with file and line --------------------------------- */

static void unknown_option__names_line_and_key(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "account work {\n  user = \"u\"\n\n  hots = \"x\"\n}\n", PF_ERR_CONFIG,
		     "config:4:", "unknown option 'hots' in section 'account'", NULL);
	expect_error(fx, "jobs = 2\nlimit = 3\n", PF_ERR_CONFIG, "config:2:",
		     "unknown option 'limit'", NULL);
	/* an oauth2 block is known, but unknown keys inside it are not */
	expect_error(fx, "account w {\n oauth2 {\n  client = \"x\"\n }\n}\n", PF_ERR_CONFIG,
		     "config:3:", "unknown option 'client' in section 'oauth2'", NULL);
}

static void bad_enum__lists_the_choices(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "# c\n\naccount work {\n host = \"h\"\n user = \"u\"\n maildir = \"/m\"\n"
		     " tls = implcit\n}\n", PF_ERR_CONFIG, "config:7:",
		     "invalid value 'implcit' for option 'tls' "
		     "(expected implicit, starttls or none)", NULL);
	expect_error(fx, "account w {\n auth = scram\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'scram'", "'auth'", "cram-md5", "oauthbearer", NULL);
	expect_error(fx, "account w {\n tls_min_version = 1.1\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'tls_min_version'", "1.2 or 1.3", NULL);
}

static void bad_numbers_and_booleans__name_line_and_key(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "account w {\n\n keep = maybe\n}\n", PF_ERR_CONFIG, "config:3:",
		     "'keep'", "true or false", NULL);
	expect_error(fx, "jobs = four\n", PF_ERR_CONFIG, "config:1:", "'jobs'", NULL);
	expect_error(fx, "jobs = 0\n", PF_ERR_CONFIG, "config:1:", "'jobs'", NULL);
	expect_error(fx, "poll_interval = 0\n", PF_ERR_CONFIG, "config:1:", "'poll_interval'",
		     NULL);
	expect_error(fx, "account w {\n timeout = 0\n}\n", PF_ERR_CONFIG, "config:2:",
		     "invalid value 0 for option 'timeout' (expected 1 to 3600)", NULL);
	expect_error(fx, "account w {\n host = \"h\"\n timeout = 3601\n}\n", PF_ERR_CONFIG,
		     "config:3:", "'timeout'", NULL);
	expect_error(fx, "account w {\n port = 65536\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'port'", NULL);
	expect_error(fx, "account w {\n max_size = -1\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'max_size'", NULL);
	expect_error(fx, "account w {\n delete_after = -1\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'delete_after'", NULL);
	expect_error(fx, "account w {\n fetch_limit = -5\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'fetch_limit'", NULL);
	expect_error(fx, "account w {\n poll_interval = -5\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'poll_interval'", NULL);
}

static void bad_strings__name_line_and_key(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "account w {\n host = \"\"\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'host' is empty", NULL);
	expect_error(fx, "account w {\n user = \"a\\r\\nDELE 1\"\n}\n", PF_ERR_CONFIG,
		     "config:2:", "'user' contains a control character", NULL);
	expect_error(fx, "account w {\n password = \"a\\nb\"\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'password' contains a line break", NULL);
	expect_error(fx, "account w {\n tls_fingerprint = \"sha256:AB:CD\"\n}\n", PF_ERR_CONFIG,
		     "config:2:", "'tls_fingerprint'", NULL);
	expect_error(fx, "account w {\n maildir = \"Mail/w\"\n}\n", PF_ERR_CONFIG, "config:2:",
		     "'maildir'", "not an absolute path", NULL);
	expect_error(fx, "state_dir = \"\"\n", PF_ERR_CONFIG, "config:1:", "'state_dir' is empty",
		     NULL);
}

static void password_value__never_in_the_message(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "account w {\n password = \"hunter2\\n\"\n}\n", PF_ERR_CONFIG,
		     "config:2:", NULL);
	{
		struct config *c = NULL;
		struct pf_error err = { 0 };

		assert_int_equal(config_load(fx->path, &c, &err), -1);
		assert_null(strstr(err.msg, "hunter2"));
	}
}

static void missing_required__names_file_and_account(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "account work {\n user = \"u\"\n maildir = \"/m\"\n}\n", PF_ERR_CONFIG,
		     fx->path, "account 'work' has no 'host'", NULL);
	expect_error(fx, "account work {\n host = \"h\"\n maildir = \"/m\"\n}\n", PF_ERR_CONFIG,
		     fx->path, "account 'work' has no 'user'", NULL);
	expect_error(fx, "account work {\n host = \"h\"\n user = \"u\"\n}\n", PF_ERR_CONFIG,
		     fx->path, "account 'work' has no 'maildir'", NULL);
}

static void account_name__must_be_a_safe_file_name(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char text[512];

	expect_error(fx, "account \"a/b\" {\n host = \"h\"\n user = \"u\"\n maildir = \"/m\"\n}\n",
		     PF_ERR_CONFIG, "config:5:", "invalid account name 'a/b'", NULL);
	expect_error(fx, "account \".hidden\" {\n host = \"h\"\n user = \"u\"\n maildir = \"/m\"\n}\n",
		     PF_ERR_CONFIG, "invalid account name '.hidden'", NULL);
	expect_error(fx, "account \"\" {\n host = \"h\"\n user = \"u\"\n maildir = \"/m\"\n}\n",
		     PF_ERR_CONFIG, "invalid account name ''", NULL);
	/* 64 characters are fine, 65 are not */
	snprintf(text, sizeof text, "account %.64s {\n host = \"h\"\n user = \"u\"\n"
		 " maildir = \"/m\"\n}\n", "a123456789012345678901234567890123456789012345678901234567890123456789");
	put(fx, "config", 0600, text);
	config_free(load_ok(fx));
	snprintf(text, sizeof text, "account %.65s {\n host = \"h\"\n user = \"u\"\n"
		 " maildir = \"/m\"\n}\n", "a123456789012345678901234567890123456789012345678901234567890123456789");
	expect_error(fx, text, PF_ERR_CONFIG, "invalid account name", NULL);
	expect_error(fx, "account {\n host = \"h\"\n}\n", PF_ERR_CONFIG, "config:1:",
		     "needs a name", NULL);
}

static void duplicate_account__same_file(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, MINIMAL "\naccount work {\n}\n", PF_ERR_CONFIG, "config:8:",
		     "account 'work' is defined twice", NULL);
}

static void both_secret_sources__refused(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "account w {\n host = \"h\"\n user = \"u\"\n maildir = \"/m\"\n"
		     " password = \"p\"\n password_command = \"c\"\n}\n", PF_ERR_CONFIG,
		     "config:7:", "account 'w' sets both 'password' and 'password_command'", NULL);
}

static void key_without_cert__refused(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "account w {\n host = \"h\"\n user = \"u\"\n maildir = \"/m\"\n"
		     " tls_key_file = \"/k\"\n}\n", PF_ERR_CONFIG, "config:6:", "'tls_key_file'",
		     NULL);
}

static void no_account__is_an_error(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "jobs = 2\n", PF_ERR_CONFIG, "no account defined in ", fx->path, NULL);
	expect_error(fx, "", PF_ERR_CONFIG, "no account defined in ", NULL);
}

static void syntax_error__names_the_line(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "account w {\n host = \"h\n", PF_ERR_CONFIG, "config:", NULL);
	expect_error(fx, "jobs 4\n", PF_ERR_CONFIG, "config:1:", NULL);
}

/* libconfuse 3.3 counts lines after a comment twice or more; config.c
 * blanks comments first so the line stays right. */
static void comments__do_not_shift_line_numbers(void **state)
{
	(void)state;
	struct fx *fx = *state;

	expect_error(fx, "# one\n## two\n// three\n/* four\n five */ jobs = 2 # six\n"
		     "account w { # seven\n  hots = 1\n}\n", PF_ERR_CONFIG, "config:7:",
		     "'hots'", NULL);
	expect_error(fx, "state_dir = \"/a#b//c\" # a comment\njobs = x\n", PF_ERR_CONFIG,
		     "config:2:", "'jobs'", NULL);
}

/* --- accounts.d ------------------------------------------------------ */

#define ACCT(name) "account " name " {\n host = \"h\"\n user = \"u\"\n maildir = \"/m/" name \
		   "\"\n}\n"

static void accounts_d__adds_accounts_in_name_order(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct config *c;
	char want[256];

	put(fx, "config", 0600, ACCT("main1") ACCT("main2"));
	put(fx, "accounts.d/b.conf", 0600, ACCT("b1"));
	put(fx, "accounts.d/a.conf", 0600, ACCT("a1") ACCT("a2"));
	put(fx, "accounts.d/c.conf.bak", 0600, ACCT("ignored1"));
	put(fx, "accounts.d/.hidden.conf", 0600, ACCT("ignored2"));
	put(fx, "accounts.d/d.conf/x", 0600, ACCT("ignored3"));
	c = load_ok(fx);
	assert_int_equal(c->naccounts, 5);
	assert_string_equal(c->accounts[0].name, "main1");
	assert_string_equal(c->accounts[1].name, "main2");
	assert_string_equal(c->accounts[2].name, "a1");
	assert_string_equal(c->accounts[3].name, "a2");
	assert_string_equal(c->accounts[4].name, "b1");
	assert_string_equal(c->accounts[4].maildir, "/m/b1");
	snprintf(want, sizeof want, "%s/accounts.d/a.conf", fx->dir);
	assert_string_equal(c->accounts[2].source_file, want);
	assert_string_equal(c->accounts[0].source_file, fx->path);
	config_free(c);
}

static void accounts_d__alone_is_enough(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct config *c;

	put(fx, "config", 0600, "jobs = 1\n");
	put(fx, "accounts.d/only.conf", 0600, ACCT("only"));
	c = load_ok(fx);
	assert_int_equal(c->naccounts, 1);
	assert_int_equal(c->jobs, 1);
	config_free(c);
}

static void accounts_d__global_option_refused(void **state)
{
	(void)state;
	struct fx *fx = *state;

	put(fx, "config", 0600, ACCT("main"));
	put(fx, "accounts.d/x.conf", 0600, ACCT("x") "\njobs = 3\n");
	expect_error(fx, NULL, PF_ERR_CONFIG, "accounts.d/x.conf:7:",
		     "global option 'jobs' is only allowed in the main config", NULL);
}

static void accounts_d__duplicate_names_both_files(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char other[256];

	snprintf(other, sizeof other, "%s/accounts.d/dup.conf", fx->dir);
	put(fx, "config", 0600, ACCT("same"));
	put(fx, "accounts.d/dup.conf", 0600, ACCT("same"));
	expect_error(fx, NULL, PF_ERR_CONFIG, "account 'same' is defined in both ", fx->path,
		     other, NULL);
}

static void accounts_d__errors_name_that_file(void **state)
{
	(void)state;
	struct fx *fx = *state;

	put(fx, "config", 0600, ACCT("main"));
	put(fx, "accounts.d/bad.conf", 0600, "account x {\n hots = 1\n}\n");
	expect_error(fx, NULL, PF_ERR_CONFIG, "accounts.d/bad.conf:2:", "'hots'", NULL);
}

/* --- permissions ----------------------------------------------------- */

#define WITH_PASSWORD "account p {\n host = \"h\"\n user = \"u\"\n password = \"pw\"\n" \
		      " maildir = \"/m\"\n}\n"

static void password_in_readable_file__refused(void **state)
{
	(void)state;
	struct fx *fx = *state;

	put(fx, "config", 0644, WITH_PASSWORD);
	expect_error(fx, NULL, PF_ERR_CONFIG_PERM, fx->path,
		     "holds a password and is readable by group or others; run: chmod 600 ", NULL);
	put(fx, "config", 0620, WITH_PASSWORD);
	expect_error(fx, NULL, PF_ERR_CONFIG_PERM, "chmod 600", NULL);
}

static void password_in_private_file__accepted(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct config *c;

	put(fx, "config", 0600, WITH_PASSWORD);
	c = load_ok(fx);
	assert_string_equal(c->accounts[0].password, "pw");
	config_free(c);
	put(fx, "config", 0400, WITH_PASSWORD);
	config_free(load_ok(fx));
}

static void readable_file_without_password__accepted(void **state)
{
	(void)state;
	struct fx *fx = *state;

	put(fx, "config", 0644, MINIMAL);
	config_free(load_ok(fx));
}

static void password_in_readable_accounts_d_file__refused(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char bad[256];

	snprintf(bad, sizeof bad, "%s/accounts.d/p.conf", fx->dir);
	put(fx, "config", 0644, MINIMAL);
	put(fx, "accounts.d/p.conf", 0640, WITH_PASSWORD);
	expect_error(fx, NULL, PF_ERR_CONFIG_PERM, bad, "chmod 600", NULL);
}

#define WITH_CLIENT_SECRET "account o {\n host = \"h\"\n user = \"u\"\n maildir = \"/m\"\n" \
			   " oauth2 {\n  client_id = \"id\"\n  client_secret = \"cs-value\"\n" \
			   "  token_endpoint = \"https://t.example/token\"\n" \
			   "  device_authorization_endpoint = \"https://t.example/device\"\n }\n}\n"

/* Issue 12 item 5: client_secret is a secret like password. */
static void client_secret_in_readable_file__refused(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char bad[256];
	struct config *c;

	put(fx, "config", 0644, WITH_CLIENT_SECRET);
	expect_error(fx, NULL, PF_ERR_CONFIG_PERM, fx->path, "holds an OAuth2 client_secret",
		     "readable by group or others", "chmod 600", NULL);
	put(fx, "config", 0600, WITH_CLIENT_SECRET);
	c = load_ok(fx);
	assert_string_equal(c->accounts[0].oauth2.client_secret, "cs-value");
	config_free(c);
	snprintf(bad, sizeof bad, "%s/accounts.d/o.conf", fx->dir);
	put(fx, "config", 0644, MINIMAL);
	put(fx, "accounts.d/o.conf", 0604, WITH_CLIENT_SECRET);
	expect_error(fx, NULL, PF_ERR_CONFIG_PERM, bad, "client_secret", "chmod 600", NULL);
}

/* The secret itself never reaches the message, whatever is refused. */
static void refused_secret__not_in_the_message(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct config *c = NULL;
	struct pf_error err = { 0 };

	put(fx, "config", 0666, WITH_CLIENT_SECRET);
	assert_int_equal(config_load(fx->path, &c, &err), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG_PERM);
	assert_null(strstr(err.msg, "cs-value"));
}

/* OpenSSH's rule: a file that can make us run a command is trusted only
 * when nobody but its owner (us or root) can change it. */
static void writable_main_config__refused(void **state)
{
	(void)state;
	struct fx *fx = *state;
	static const mode_t bad[] = { 0620, 0602, 0664, 0666 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		put(fx, "config", bad[i], MINIMAL);
		expect_error(fx, NULL, PF_ERR_CONFIG_PERM, fx->path, "writable by group or others",
			     "chmod go-w", NULL);
	}
	put(fx, "config", 0644, MINIMAL);
	config_free(load_ok(fx));
}

static void writable_accounts_d_file__refused_when_it_runs_a_command(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char bad[256];

	snprintf(bad, sizeof bad, "%s/accounts.d/c.conf", fx->dir);
	put(fx, "config", 0644, "jobs = 1\n");
	put(fx, "accounts.d/c.conf", 0664, MINIMAL);
	expect_error(fx, NULL, PF_ERR_CONFIG_PERM, bad, "chmod go-w", NULL);
	/* Nothing to run, nothing secret: the password comes from ~/.netrc. */
	put(fx, "accounts.d/c.conf", 0664, "account n {\n host = \"h\"\n user = \"u\"\n"
	    " maildir = \"/m\"\n}\n");
	config_free(load_ok(fx));
}

/* Only root can give a file away; as anyone else the rule is still
 * exercised by test_trust on made-up stat results. */
static void config_owned_by_another_user__refused(void **state)
{
	(void)state;
	struct fx *fx = *state;

	put(fx, "config", 0600, MINIMAL);
	if (getuid() != 0) {
		config_free(load_ok(fx));
		return;
	}
	assert_int_equal(chown(fx->path, 1, 1), 0);
	expect_error(fx, NULL, PF_ERR_CONFIG_PERM, fx->path, "owned by uid 1", "chown", NULL);
	assert_int_equal(chown(fx->path, 0, 0), 0);
	config_free(load_ok(fx));
}

static void state_dir_writable_by_others__refused(void **state)
{
	(void)state;
	struct fx *fx = *state;
	char text[512], dir[256];

	snprintf(dir, sizeof dir, "%s/st", fx->dir);
	snprintf(text, sizeof text, "state_dir = \"%s\"\n%s", dir, MINIMAL);
	put(fx, "config", 0600, text);
	config_free(load_ok(fx));               /* missing: created 0700 when used */
	assert_int_equal(mkdir(dir, 0700), 0);
	config_free(load_ok(fx));
	assert_int_equal(chmod(dir, 0770), 0);
	expect_error(fx, NULL, PF_ERR_CONFIG_PERM, dir, "writable by group or others", NULL);
	assert_int_equal(chmod(dir, 01777), 0);
	expect_error(fx, NULL, PF_ERR_CONFIG_PERM, dir, "only you can write to", NULL);
	assert_int_equal(chmod(dir, 0755), 0);
	config_free(load_ok(fx));
}

/* --- expansion ------------------------------------------------------- */

static void paths__expand_tilde_and_variables(void **state)
{
	(void)state;
	struct fx *fx = *state;
	struct config *c;
	char want[256];

	setenv("PF_TEST_ROOT", "/srv/mail", 1);
	put(fx, "config", 0600,
	    "state_dir = \"~/st\"\n"
	    "account e {\n host = \"h\"\n user = \"u\"\n"
	    " maildir = \"$PF_TEST_ROOT/x/${PF_TEST_ROOT}\"\n"
	    " tls_ca_file = '${PF_TEST_ROOT}/ca.pem'\n"
	    " tls_ca_dir = \"${PF_TEST_UNSET_VAR:-/fallback}/certs\"\n"
	    " tls_cert_file = \"~\"\n"
	    " password_command = \"echo ~/$PF_TEST_ROOT\"\n"
	    "}\n");
	c = load_ok(fx);
	snprintf(want, sizeof want, "%s/st", fx->dir);
	assert_string_equal(c->state_dir, want);
	assert_string_equal(c->accounts[0].maildir, "/srv/mail/x//srv/mail");
	assert_string_equal(c->accounts[0].tls_ca_file, "/srv/mail/ca.pem");
	assert_string_equal(c->accounts[0].tls_ca_dir, "/fallback/certs");
	assert_string_equal(c->accounts[0].tls_cert_file, fx->dir);
	/* not a path: left to the shell */
	assert_string_equal(c->accounts[0].password_command, "echo ~/$PF_TEST_ROOT");
	config_free(c);
	unsetenv("PF_TEST_ROOT");
}

static void unset_variable__names_it_and_the_line(void **state)
{
	(void)state;
	struct fx *fx = *state;

	unsetenv("PF_TEST_NOPE");
	expect_error(fx, "account e {\n host = \"h\"\n user = \"u\"\n"
		     " maildir = \"$PF_TEST_NOPE/work\"\n}\n", PF_ERR_CONFIG, "config:4:",
		     "'maildir'", "environment variable 'PF_TEST_NOPE' is not set", NULL);
	/* ${} is libconfuse's own syntax, which would expand to nothing */
	expect_error(fx, "# ${PF_TEST_NOPE} in a comment is fine\naccount e {\n host = \"h\"\n"
		     " user = \"u\"\n maildir = \"${PF_TEST_NOPE}/work\"\n}\n", PF_ERR_CONFIG,
		     "config:5:", "environment variable 'PF_TEST_NOPE' is not set", NULL);
	expect_error(fx, "account e {\n maildir = '/m/${PF_TEST_NOPE'\n}\n", PF_ERR_CONFIG,
		     "config:2:", "'maildir'", "malformed", NULL);
}

/* --- plaintext ------------------------------------------------------- */

static void plaintext__only_loopback_or_allowed(void **state)
{
	(void)state;
	static const char *const loopback[] = { "127.0.0.1", "127.3.2.1", "::1", "localhost",
						"LOCALHOST" };
	struct fx *fx = *state;
	char text[512];

	expect_error(fx, "account p {\n host = \"pop.example.com\"\n tls = none\n user = \"u\"\n"
		     " maildir = \"/m\"\n}\n", PF_ERR_CONFIG, "config:6:", "account 'p'",
		     "tls = none", "allow_plaintext", NULL);
	expect_error(fx, "account p {\n host = \"128.0.0.1\"\n tls = none\n user = \"u\"\n"
		     " maildir = \"/m\"\n}\n", PF_ERR_CONFIG, "allow_plaintext", NULL);
	put(fx, "config", 0600, "account p {\n host = \"pop.example.com\"\n tls = none\n"
	    " allow_plaintext = true\n user = \"u\"\n maildir = \"/m\"\n}\n");
	config_free(load_ok(fx));
	for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++) {
		snprintf(text, sizeof text, "account p {\n host = \"%s\"\n tls = none\n"
			 " user = \"u\"\n maildir = \"/m\"\n}\n", loopback[i]);
		put(fx, "config", 0600, text);
		config_free(load_ok(fx));
	}
}

/* --- destinations (issue 15: exactly one per account) ------------------ */

#define HU " host = \"h\"\n user = \"u\"\n"

static void destinations__each_kind_with_its_keys(void **state)
{
	struct fx *fx = *state;
	struct config *c;

	put(fx, "config", 0600,
	    "post_command = \"notmuch new\"\n"
	    "account m {\n" HU " maildir = \"/m\"\n}\n"
	    "account b {\n" HU " mbox = \"/var/mail/u\"\n mbox_lock_timeout = 5\n}\n"
	    "account d {\n" HU " mda = \"maildrop -d u\"\n mda_timeout = 30\n"
	    " mda_from_line = true\n post_command = \"true\"\n}\n"
	    "account l {\n" HU " lmtp = \"unix:/run/dovecot/lmtp\"\n lmtp_recipient = \"u\"\n}\n"
	    "account t {\n" HU " lmtp = \"[::1]:24\"\n lmtp_recipient = \"u@example.org\"\n}\n");
	c = load_ok(fx);
	assert_int_equal(c->naccounts, 5);
	assert_int_equal(c->accounts[0].dest, DEST_MAILDIR);
	assert_string_equal(c->accounts[0].maildir, "/m");
	assert_null(c->accounts[0].mbox);
	assert_int_equal(c->accounts[0].mda_timeout, 300);
	assert_int_equal(c->accounts[0].mbox_lock_timeout, 60);
	assert_int_equal(c->accounts[0].mda_from_line, 0);
	assert_string_equal(c->accounts[0].post_command, "notmuch new");
	assert_int_equal(c->accounts[1].dest, DEST_MBOX);
	assert_string_equal(c->accounts[1].mbox, "/var/mail/u");
	assert_null(c->accounts[1].maildir);
	assert_int_equal(c->accounts[1].mbox_lock_timeout, 5);
	assert_int_equal(c->accounts[2].dest, DEST_MDA);
	assert_string_equal(c->accounts[2].mda, "maildrop -d u");
	assert_int_equal(c->accounts[2].mda_timeout, 30);
	assert_int_equal(c->accounts[2].mda_from_line, 1);
	assert_string_equal(c->accounts[2].post_command, "true");
	assert_int_equal(c->accounts[3].dest, DEST_LMTP);
	assert_string_equal(c->accounts[3].lmtp, "unix:/run/dovecot/lmtp");
	assert_string_equal(c->accounts[3].lmtp_recipient, "u");
	assert_int_equal(c->accounts[4].dest, DEST_LMTP);
	assert_string_equal(c->post_command, "notmuch new");
	config_free(c);
}

static void destinations__two_refused_at_the_second_line(void **state)
{
	struct fx *fx = *state;

	expect_error(fx, "account w {\n" HU " maildir = \"/m\"\n\n mbox = \"/b\"\n}\n",
		     PF_ERR_CONFIG, "config:6:", "'maildir' and 'mbox'", "exactly one destination",
		     NULL);
	expect_error(fx, "account w {\n" HU " lmtp = \"unix:/s\"\n lmtp_recipient = \"u\"\n"
		     " mda = \"procmail\"\n}\n", PF_ERR_CONFIG, "config:6:", "'lmtp' and 'mda'",
		     NULL);
}

static void destinations__bad_values_refused(void **state)
{
	struct fx *fx = *state;

	expect_error(fx, "account w {\n" HU " mbox = \"inbox\"\n}\n", PF_ERR_CONFIG, "config:4:",
		     "'mbox'", "not an absolute path", NULL);
	expect_error(fx, "account w {\n" HU " lmtp = \"unix:run/lmtp\"\n lmtp_recipient = \"u\"\n}\n",
		     PF_ERR_CONFIG, "config:4:", "absolute socket path", NULL);
	expect_error(fx, "account w {\n" HU " lmtp = \"localhost\"\n lmtp_recipient = \"u\"\n}\n",
		     PF_ERR_CONFIG, "config:4:", "HOST:PORT", NULL);
	expect_error(fx, "account w {\n" HU " lmtp = \"h:99999\"\n lmtp_recipient = \"u\"\n}\n",
		     PF_ERR_CONFIG, "config:4:", "HOST:PORT", NULL);
	expect_error(fx, "account w {\n" HU " lmtp = \"h:24\"\n}\n", PF_ERR_CONFIG,
		     "'lmtp' without 'lmtp_recipient'", NULL);
	expect_error(fx, "account w {\n" HU " mda = \"\"\n}\n", PF_ERR_CONFIG, "config:4:",
		     "'mda' is empty", NULL);
	expect_error(fx, "account w {\n" HU " mbox = \"/b\"\n mda_timeout = 0\n}\n", PF_ERR_CONFIG,
		     "config:5:", "mda_timeout", NULL);
	expect_error(fx, "account w {\n" HU "}\n", PF_ERR_CONFIG, "has no 'maildir'",
		     "mbox, mda or lmtp", NULL);
}

/* --- the shipped example --------------------------------------------- */

static void example__loads(void **state)
{
	(void)state;
	struct fx *fx = *state;
	const char *srcdir = getenv("srcdir");
	char path[512], want[256];
	struct config *c = NULL;
	struct pf_error err = { 0 };

	snprintf(path, sizeof path, "%s/contrib/popfetch.conf.example", srcdir ? srcdir : ".");
	if (config_load(path, &c, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	assert_int_equal(c->naccounts, 2);
	assert_string_equal(c->accounts[0].name, "work");
	snprintf(want, sizeof want, "%s/Mail/work", fx->dir);
	assert_string_equal(c->accounts[0].maildir, want);
	assert_int_equal(c->accounts[1].tls, TLS_NONE);
	config_free(c);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(minimal__loads_with_every_default),
		T(every_key__is_parsed),
		T(enums__every_word_maps),
		T(port__defaults_to_110_for_starttls),
		T(state_dir__defaults_to_xdg_state_home),
		T(default_path__follows_xdg_config_home),
		T(missing_file__names_it_and_the_man_page),
		T(unknown_option__names_line_and_key),
		T(bad_enum__lists_the_choices),
		T(bad_numbers_and_booleans__name_line_and_key),
		T(bad_strings__name_line_and_key),
		T(password_value__never_in_the_message),
		T(missing_required__names_file_and_account),
		T(account_name__must_be_a_safe_file_name),
		T(duplicate_account__same_file),
		T(both_secret_sources__refused),
		T(key_without_cert__refused),
		T(no_account__is_an_error),
		T(syntax_error__names_the_line),
		T(comments__do_not_shift_line_numbers),
		T(accounts_d__adds_accounts_in_name_order),
		T(accounts_d__alone_is_enough),
		T(accounts_d__global_option_refused),
		T(accounts_d__duplicate_names_both_files),
		T(accounts_d__errors_name_that_file),
		T(password_in_readable_file__refused),
		T(password_in_private_file__accepted),
		T(readable_file_without_password__accepted),
		T(password_in_readable_accounts_d_file__refused),
		T(client_secret_in_readable_file__refused),
		T(refused_secret__not_in_the_message),
		T(writable_main_config__refused),
		T(writable_accounts_d_file__refused_when_it_runs_a_command),
		T(config_owned_by_another_user__refused),
		T(state_dir_writable_by_others__refused),
		T(paths__expand_tilde_and_variables),
		T(unset_variable__names_it_and_the_line),
		T(plaintext__only_loopback_or_allowed),
		T(destinations__each_kind_with_its_keys),
		T(destinations__two_refused_at_the_second_line),
		T(destinations__bad_values_refused),
		T(example__loads),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
