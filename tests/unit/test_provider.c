/* test_provider.c - provider presets: the table's documented values, name
 * and domain lookup, and how config.c merges a preset and the oauth2
 * block into an account (explicit keys win, DESIGN.md section 8 defaults,
 * errors with file and line). */
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

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/pf-test-provider-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(path, sizeof path, "%s/config", dir);
	setenv("HOME", dir, 1);
	unsetenv("XDG_STATE_HOME");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return rmdir(dir);
}

/* Loads text as the main config; returns the config or NULL with *err. */
static struct config *load(const char *text, struct pf_error *err)
{
	struct config *c = NULL;
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
	memset(err, 0, sizeof *err);
	if (config_load(path, &c, err) < 0)
		return NULL;
	return c;
}

static const struct account *load_one(const char *text, struct config **c)
{
	struct pf_error err;

	*c = load(text, &err);
	if (*c == NULL)
		fail_msg("config did not load: %s", err.msg);
	assert_int_equal((*c)->naccounts, 1);
	return &(*c)->accounts[0];
}

static void expect_error(const char *text, const char *a, const char *b)
{
	struct pf_error err;
	struct config *c = load(text, &err);

	assert_null(c);
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	if (strstr(err.msg, a) == NULL || (b != NULL && strstr(err.msg, b) == NULL))
		fail_msg("'%s' / '%s' not in: %s", a, b ? b : "", err.msg);
}

/* --- the table ------------------------------------------------------------ */

static void gmail__has_google_settings(void **state)
{
	(void)state;
	const struct provider *p = provider_find("gmail");

	assert_non_null(p);
	assert_string_equal(p->host, "pop.gmail.com");
	assert_int_equal(p->port, 995);
	assert_int_equal(p->tls, TLS_IMPLICIT);
	assert_true(p->timeout >= 60);
	assert_int_equal(p->oauth2_auth, AUTH_XOAUTH2);
	assert_string_equal(p->authorization_endpoint,
			    "https://accounts.google.com/o/oauth2/v2/auth");
	assert_string_equal(p->token_endpoint, "https://oauth2.googleapis.com/token");
	assert_string_equal(p->scope, "https://mail.google.com/");
	assert_null(p->device_authorization_endpoint);
	assert_int_equal(p->flow, OAUTH2_FLOW_LOOPBACK);
}

static void outlook__has_microsoft_settings_and_aliases(void **state)
{
	(void)state;
	const struct provider *p = provider_find("outlook");

	assert_non_null(p);
	assert_string_equal(p->host, "outlook.office365.com");
	assert_int_equal(p->port, 995);
	assert_string_equal(p->authorization_endpoint,
			    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
	assert_string_equal(p->token_endpoint,
			    "https://login.microsoftonline.com/common/oauth2/v2.0/token");
	assert_string_equal(p->device_authorization_endpoint,
			    "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode");
	assert_string_equal(p->scope,
			    "https://outlook.office.com/POP.AccessAsUser.All offline_access");
	assert_int_equal(p->flow, OAUTH2_FLOW_DEVICE);
	assert_ptr_equal(provider_find("office365"), p);
	assert_ptr_equal(provider_find("Microsoft"), p);
	assert_ptr_equal(provider_find("OUTLOOK"), p);
	assert_null(provider_find("outlook2"));
	assert_null(provider_find(NULL));
}

static void others__published_pop3_hosts(void **state)
{
	(void)state;
	static const struct { const char *name, *host; } want[] = {
		{ "yahoo", "pop.mail.yahoo.com" }, { "gmx", "pop.gmx.net" },
		{ "gmx.com", "pop.gmx.com" }, { "web.de", "pop3.web.de" },
		{ "aol", "pop.aol.com" }, { "zoho", "pop.zoho.com" },
		{ "mail.com", "pop.mail.com" },
	};

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct provider *p = provider_find(want[i].name);

		assert_non_null(p);
		assert_string_equal(p->host, want[i].host);
		assert_int_equal(p->port, 995);
		assert_int_equal(p->tls, TLS_IMPLICIT);
		assert_null(p->token_endpoint);
	}
	/* Apple documents IMAP only: a preset without a host, with a reason. */
	assert_null(provider_find("icloud")->host);
	assert_non_null(strstr(provider_find("icloud")->note, "IMAP only"));
}

/* --- login advice and quirks (DESIGN.md section 9) ------------------------ */

static void advice__gmail__names_pop_app_password_2sv_and_oauth2(void **state)
{
	(void)state;
	char buf[PF_ERRMSG_MAX];

	assert_int_equal(provider_login_advice(provider_find("gmail"), "home", buf, sizeof buf), 0);
	assert_non_null(strstr(buf, "POP is turned on in Gmail's settings"));
	assert_non_null(strstr(buf, "app password"));
	assert_non_null(strstr(buf, "2-Step Verification"));
	assert_non_null(strstr(buf, "OAuth2"));
	assert_non_null(strstr(buf, "popfetch --authorize home)"));
	assert_null(strstr(buf, "%A"));
}

static void advice__microsoft__oauth2_only_with_authorize(void **state)
{
	(void)state;
	char buf[PF_ERRMSG_MAX];
	const char *names[] = { "outlook", "office365", "microsoft", "hotmail" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(provider_login_advice(provider_find(names[i]), "work@x", buf,
						       sizeof buf), 0);
		assert_non_null(strstr(buf, "Microsoft accepts only OAuth2"));
		assert_non_null(strstr(buf, "popfetch --authorize work@x"));
	}
}

static void advice__when_none_or_too_small__then_empty(void **state)
{
	(void)state;
	char buf[PF_ERRMSG_MAX] = "x";

	/* A preset without advice, and no preset at all: the server's text
	 * alone is shown. */
	assert_int_equal(provider_login_advice(provider_find("gmx"), "a", buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	assert_int_equal(provider_login_advice(NULL, "a", buf, sizeof buf), -1);
	/* Never a cut sentence: a buffer one byte short gets nothing. */
	assert_int_equal(provider_login_advice(provider_find("outlook"), "a", buf, sizeof buf), 0);
	size_t need = strlen(buf) + 1;
	assert_int_equal(provider_login_advice(provider_find("outlook"), "a", buf, need), 0);
	assert_int_equal(provider_login_advice(provider_find("outlook"), "a", buf, need - 1), -1);
	assert_string_equal(buf, "");
	assert_int_equal(provider_login_advice(provider_find("outlook"), "a", buf, 0), -1);
}

static void quirks__only_gmail_lists_part_of_the_maildrop(void **state)
{
	(void)state;
	const struct provider *g = provider_find("gmail");

	assert_true(g->sessions_max > 1);
	assert_int_equal(g->listing_cap, 250);
	for (size_t i = 0; provider_at(i) != NULL; i++) {
		const struct provider *p = provider_at(i);

		if (p == g)
			continue;
		assert_true(p->sessions_max <= 1);
		assert_int_equal(p->listing_cap, 0);
	}
}

static void every_preset__cites_its_source(void **state)
{
	(void)state;
	size_t i;

	for (i = 0; provider_at(i) != NULL; i++) {
		const struct provider *p = provider_at(i);

		assert_int_equal(strncmp(p->source_url, "https://", 8), 0);
		assert_ptr_equal(provider_find(p->name), p);
		assert_true(p->host != NULL || p->note != NULL);
	}
	assert_true(i >= 9);
}

static void address__maps_domains(void **state)
{
	(void)state;
	static const struct { const char *addr, *name; } want[] = {
		{ "a@gmail.com", "gmail" }, { "a@googlemail.com", "gmail" },
		{ "a@outlook.com", "outlook" }, { "a@hotmail.com", "outlook" },
		{ "a@live.com", "outlook" }, { "a@msn.com", "outlook" },
		{ "a@yahoo.com", "yahoo" }, { "a@ymail.com", "yahoo" },
		{ "a@icloud.com", "icloud" }, { "a@me.com", "icloud" }, { "a@mac.com", "icloud" },
		{ "a@gmx.de", "gmx" }, { "a@gmx.net", "gmx" }, { "a@gmx.com", "gmx.com" },
		{ "a@web.de", "web.de" }, { "First.Last@GMAIL.COM", "gmail" },
		{ "we@ird@aol.com", "aol" },
	};

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct provider *p = provider_from_address(want[i].addr);

		if (p == NULL)
			fail_msg("%s: no provider", want[i].addr);
		assert_string_equal(p->name, want[i].name);
	}
	assert_null(provider_from_address("a@example.com"));
	assert_null(provider_from_address("a@mail.gmail.com"));
	assert_null(provider_from_address("gmail.com"));
	assert_null(provider_from_address("a@"));
	assert_null(provider_from_address(NULL));
}

static void names__lists_every_preset(void **state)
{
	(void)state;
	char buf[512], tiny[8];

	assert_int_equal(provider_list_names(buf, sizeof buf), 0);
	assert_non_null(strstr(buf, "gmail, outlook, "));
	assert_non_null(strstr(buf, "office365"));
	assert_int_equal(provider_list_names(tiny, sizeof tiny), -1);
}

/* --- config.c with presets ------------------------------------------------- */

#define ACCT(body) "state_dir = \"/tmp/s\"\naccount a {\n user = \"u@gmail.com\"\n" \
	" maildir = \"/tmp/m\"\n" body "}\n"

static void preset__fills_unset_keys(void **state)
{
	(void)state;
	struct config *c;
	const struct account *a = load_one(ACCT(" provider = gmail\n password = \"app\"\n"), &c);

	assert_string_equal(a->host, "pop.gmail.com");
	assert_string_equal(a->port, "995");
	assert_int_equal(a->tls, TLS_IMPLICIT);
	assert_int_equal(a->timeout, 300);
	/* no oauth2 block: auth stays auto so an app password works */
	assert_int_equal(a->auth, AUTH_AUTO);
	assert_false(a->oauth2.enabled);
	assert_string_equal(a->provider, "gmail");
	config_free(c);
}

static void preset__explicit_keys_win(void **state)
{
	(void)state;
	struct config *c;
	const struct account *a = load_one(ACCT(" provider = outlook\n host = \"pop.example.org\"\n"
						" tls = starttls\n timeout = 300\n auth = plain\n"
						" password = \"x\"\n"), &c);

	assert_string_equal(a->host, "pop.example.org");
	/* tls set explicitly: the port follows it, not the preset */
	assert_int_equal(a->tls, TLS_STARTTLS);
	assert_string_equal(a->port, "110");
	assert_int_equal(a->timeout, 300);
	assert_int_equal(a->auth, AUTH_PLAIN);
	config_free(c);
	a = load_one(ACCT(" provider = yahoo\n port = 1995\n timeout = 20\n password = \"x\"\n"), &c);
	assert_string_equal(a->host, "pop.mail.yahoo.com");
	assert_string_equal(a->port, "1995");
	assert_int_equal(a->timeout, 20);
	config_free(c);
}

static void preset__oauth2_block_takes_endpoints(void **state)
{
	(void)state;
	struct config *c;
	const struct account *a = load_one(ACCT(" provider = gmail\n tls_ca_file = \"/etc/ca.pem\"\n"
						" oauth2 {\n  client_id = \"id.apps\"\n }\n"), &c);

	assert_true(a->oauth2.enabled);
	assert_int_equal(a->auth, AUTH_XOAUTH2);
	assert_string_equal(a->oauth2.client_id, "id.apps");
	assert_null(a->oauth2.client_secret);
	assert_string_equal(a->oauth2.token_endpoint, "https://oauth2.googleapis.com/token");
	assert_string_equal(a->oauth2.scope, "https://mail.google.com/");
	assert_int_equal(a->oauth2.flow, OAUTH2_FLOW_LOOPBACK);
	/* oauth2.tls_ca_file defaults to the account's */
	assert_string_equal(a->oauth2.tls_ca_file, "/etc/ca.pem");
	config_free(c);
	a = load_one(ACCT(" provider = office365\n auth = oauthbearer\n oauth2 {\n"
			  "  client_id = \"c\"\n  client_secret = \"s\"\n"
			  "  scope = \"x y\"\n  tls_ca_file = \"/o/ca.pem\"\n }\n"), &c);
	assert_int_equal(a->auth, AUTH_OAUTHBEARER);
	assert_int_equal(a->oauth2.flow, OAUTH2_FLOW_DEVICE);
	assert_string_equal(a->oauth2.scope, "x y");
	assert_string_equal(a->oauth2.client_secret, "s");
	assert_string_equal(a->oauth2.tls_ca_file, "/o/ca.pem");
	assert_string_equal(a->host, "outlook.office365.com");
	config_free(c);
}

static void oauth2__flow_defaults_without_preset(void **state)
{
	(void)state;
	struct config *c;
	const struct account *a = load_one(ACCT(" host = \"h\"\n oauth2 {\n  client_id = \"c\"\n"
						"  token_endpoint = \"https://t/token\"\n"
						"  device_authorization_endpoint = \"https://t/dev\"\n"
						"  authorization_endpoint = \"https://t/auth\"\n }\n"), &c);

	assert_int_equal(a->oauth2.flow, OAUTH2_FLOW_DEVICE);
	assert_int_equal(a->auth, AUTH_XOAUTH2);
	assert_null(a->oauth2.tls_ca_file);
	assert_null(a->oauth2.scope);
	config_free(c);
	a = load_one(ACCT(" host = \"h\"\n oauth2 {\n  client_id = \"c\"\n"
			  "  token_endpoint = \"https://t/token\"\n"
			  "  authorization_endpoint = \"https://t/auth\"\n }\n"), &c);
	assert_int_equal(a->oauth2.flow, OAUTH2_FLOW_LOOPBACK);
	config_free(c);
	/* an explicit flow beats the preset's choice */
	a = load_one(ACCT(" provider = outlook\n oauth2 {\n  client_id = \"c\"\n"
			  "  flow = loopback\n }\n"), &c);
	assert_int_equal(a->oauth2.flow, OAUTH2_FLOW_LOOPBACK);
	config_free(c);
}

static void errors__name_file_line_and_reason(void **state)
{
	(void)state;
	expect_error(ACCT(" provider = gmial\n"), "config:5: unknown provider 'gmial'",
		     "gmail, outlook");
	expect_error(ACCT(" provider = icloud\n"), "config:5:", "IMAP only");
	expect_error(ACCT(" password = \"x\"\n"), "account 'a' has no 'host'", NULL);
	expect_error(ACCT(" provider = gmail\n oauth2 {\n }\n"), "has no client_id", NULL);
	expect_error(ACCT(" provider = gmail\n auth = plain\n oauth2 {\n client_id = \"c\"\n }\n"),
		     "needs auth = xoauth2 or oauthbearer", NULL);
	expect_error(ACCT(" provider = gmail\n password = \"p\"\n oauth2 {\n client_id = \"c\"\n"
			  " }\n"), "remove one", NULL);
	expect_error(ACCT(" host = \"h\"\n oauth2 {\n client_id = \"c\"\n }\n"),
		     "no token_endpoint", NULL);
	expect_error(ACCT(" provider = gmail\n oauth2 {\n client_id = \"c\"\n flow = device\n }\n"),
		     "flow = device needs device_authorization_endpoint", NULL);
	expect_error(ACCT(" provider = gmail\n oauth2 {\n client_id = \"c\"\n"
			  " token_endpoint = \"http://t/token\"\n }\n"),
		     "config:8:", "must be an https:// URL");
	expect_error(ACCT(" provider = gmail\n oauth2 {\n client_id = \"c\"\n flow = browser\n }\n"),
		     "config:8:", "expected device or loopback");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gmail__has_google_settings),
		cmocka_unit_test(outlook__has_microsoft_settings_and_aliases),
		cmocka_unit_test(others__published_pop3_hosts),
		cmocka_unit_test(advice__gmail__names_pop_app_password_2sv_and_oauth2),
		cmocka_unit_test(advice__microsoft__oauth2_only_with_authorize),
		cmocka_unit_test(advice__when_none_or_too_small__then_empty),
		cmocka_unit_test(quirks__only_gmail_lists_part_of_the_maildrop),
		cmocka_unit_test(every_preset__cites_its_source),
		cmocka_unit_test(address__maps_domains),
		cmocka_unit_test(names__lists_every_preset),
		cmocka_unit_test_setup_teardown(preset__fills_unset_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(preset__explicit_keys_win, setup, teardown),
		cmocka_unit_test_setup_teardown(preset__oauth2_block_takes_endpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(oauth2__flow_defaults_without_preset, setup, teardown),
		cmocka_unit_test_setup_teardown(errors__name_file_line_and_reason, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
