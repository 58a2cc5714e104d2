/* config_opts.c - the grammar of the config file (DESIGN.md sections 5
 * and 8): the libconfuse option tables, the enum words, and one validate
 * callback per option, installed by config_parser_new().
 *
 * Promises: every check that concerns one value runs here, as a libconfuse
 * validate or parse callback, because only then does libconfuse still know
 * the line (after cfg_parse() returns, only the line of a section's closing
 * brace is left).  A new key is one line in a table below plus one line in
 * checks[]; checks that relate several keys of an account live in
 * config_check.c, copying the values out in config_build.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <confuse.h>
#include <openssl/tls1.h>

#include "bounds.h"
#include "util.h"

#include "config.h"
#include "config_int.h"
#include "config_text.h"
#include "provider.h"
#include "tls_cert.h"

/* Value limits (not buffer caps): a week between polls is already odd, and
 * more parallel jobs than this only trips servers' connection limits. */
#define CONFIG_POLL_MAX (7 * 24 * 3600L)
#define CONFIG_JOBS_MAX 64
#define CONFIG_DELETE_AFTER_MAX 36500 /* days: a hundred years */
#define CONFIG_TEXT_MAX PF_NAME_MAX   /* host, user, provider */
#define CONFIG_COMMAND_MAX PF_LINE_MAX
#define CONFIG_URL_MAX 1024           /* an OAuth2 endpoint */

/* --- the grammar (DESIGN.md sections 5 and 8) ------------------------- */

static int parse_enum(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result);

/* Keys a provider preset can fill have CFGF_NODEFAULT, so cfg_size() is 0
 * exactly when the file did not set them: an explicit key wins over the
 * preset even when it repeats the default value (cfg_size(), unlike
 * comparing with a sentinel, cannot confuse "unset" with "set to the
 * default").  Their defaults are applied in copy_account(). */
static cfg_opt_t oauth2_opts[] = {
	CFG_STR("client_id", NULL, CFGF_NODEFAULT),
	CFG_STR("client_secret", NULL, CFGF_NODEFAULT),
	CFG_STR("authorization_endpoint", NULL, CFGF_NODEFAULT),
	CFG_STR("device_authorization_endpoint", NULL, CFGF_NODEFAULT),
	CFG_STR("token_endpoint", NULL, CFGF_NODEFAULT),
	CFG_STR("scope", NULL, CFGF_NODEFAULT),
	CFG_STR("tls_ca_file", NULL, CFGF_NODEFAULT),
	CFG_INT_CB("flow", OAUTH2_FLOW_DEVICE, CFGF_NODEFAULT, parse_enum),
	CFG_END()
};

static cfg_opt_t account_opts[] = {
	CFG_STR("host", NULL, CFGF_NODEFAULT),
	CFG_INT("port", 0, CFGF_NODEFAULT),
	CFG_INT_CB("tls", TLS_IMPLICIT, CFGF_NODEFAULT, parse_enum),
	CFG_BOOL("allow_plaintext", cfg_false, CFGF_NONE),
	CFG_STR("tls_ca_file", NULL, CFGF_NODEFAULT),
	CFG_STR("tls_ca_dir", NULL, CFGF_NODEFAULT),
	CFG_STR("tls_fingerprint", NULL, CFGF_NODEFAULT),
	CFG_INT_CB("tls_min_version", 0, CFGF_NONE, parse_enum),
	CFG_STR("tls_cert_file", NULL, CFGF_NODEFAULT),
	CFG_STR("tls_key_file", NULL, CFGF_NODEFAULT),
	CFG_INT("timeout", CONFIG_TIMEOUT_DEFAULT, CFGF_NODEFAULT),
	CFG_INT("min_rate", (long)PF_MIN_RATE_DEFAULT, CFGF_NONE),
	CFG_STR("user", NULL, CFGF_NODEFAULT),
	CFG_STR("password", NULL, CFGF_NODEFAULT),
	CFG_STR("password_command", NULL, CFGF_NODEFAULT),
	CFG_INT_CB("auth", AUTH_AUTO, CFGF_NODEFAULT, parse_enum),
	CFG_STR("maildir", NULL, CFGF_NODEFAULT),
	/* The other destinations (delivery.h); exactly one per account. */
	CFG_STR("mbox", NULL, CFGF_NODEFAULT),
	CFG_INT("mbox_lock_timeout", CONFIG_MBOX_LOCK_TIMEOUT_DEFAULT, CFGF_NONE),
	CFG_STR("mda", NULL, CFGF_NODEFAULT),
	CFG_INT("mda_timeout", CONFIG_MDA_TIMEOUT_DEFAULT, CFGF_NONE),
	CFG_BOOL("mda_from_line", cfg_false, CFGF_NONE),
	CFG_STR("lmtp", NULL, CFGF_NODEFAULT),
	CFG_STR("lmtp_recipient", NULL, CFGF_NODEFAULT),
	CFG_STR("post_command", NULL, CFGF_NODEFAULT),
	CFG_BOOL("keep", cfg_false, CFGF_NONE),
	CFG_INT("delete_after", 0, CFGF_NONE),
	CFG_INT("max_size", 0, CFGF_NONE),
	CFG_INT("fetch_limit", 0, CFGF_NONE),
	CFG_INT("poll_interval", 0, CFGF_NONE),
	CFG_STR("provider", NULL, CFGF_NODEFAULT),
	CFG_SEC("oauth2", oauth2_opts, CFGF_NODEFAULT),
	CFG_END()
};

/* The same table serves accounts.d files: there the global options get
 * reject_global as their validator (install_checks). */
static cfg_opt_t root_opts[] = {
	CFG_STR("state_dir", NULL, CFGF_NODEFAULT),
	CFG_INT("poll_interval", 300, CFGF_NONE),
	CFG_INT("jobs", 4, CFGF_NONE),
	CFG_STR("post_command", NULL, CFGF_NODEFAULT),
	CFG_SEC("account", account_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

/* Keys that make the file that sets them need trust (trust.h): a secret
 * (secret names it for the message) or a command popfetch runs (secret
 * NULL).  A new key that holds either is one line here. */
static const struct {
	const char *section;         /* "account" or "oauth2" (its block) */
	const char *name;
	const char *secret;
} trusted_keys[] = {
	{ "account", "password", "a password" },
	{ "account", "password_command", NULL },
	{ "account", "mda", NULL },
	{ "account", "post_command", NULL },
	{ "oauth2", "client_secret", "an OAuth2 client_secret" },
};

struct enum_word {
	const char *opt;
	const char *word;
	long value;
};

static const struct enum_word enum_words[] = {
	{ "tls", "implicit", TLS_IMPLICIT },
	{ "tls", "starttls", TLS_STARTTLS },
	{ "tls", "none", TLS_NONE },
	{ "auth", "auto", AUTH_AUTO },
	{ "auth", "user", AUTH_USER },
	{ "auth", "plain", AUTH_PLAIN },
	{ "auth", "login", AUTH_LOGIN },
	{ "auth", "cram-md5", AUTH_CRAM_MD5 },
	{ "auth", "apop", AUTH_APOP },
	{ "auth", "xoauth2", AUTH_XOAUTH2 },
	{ "auth", "oauthbearer", AUTH_OAUTHBEARER },
	/* RFC 8996: nothing below TLS 1.2 can be asked for. */
	{ "tls_min_version", "1.2", TLS1_2_VERSION },
	{ "tls_min_version", "1.3", TLS1_3_VERSION },
	{ "flow", "device", OAUTH2_FLOW_DEVICE },
	{ "flow", "loopback", OAUTH2_FLOW_LOOPBACK },
};

/* --- per-option checks ------------------------------------------------ */

static int check_range(cfg_t *cfg, cfg_opt_t *opt);
static int check_path(cfg_t *cfg, cfg_opt_t *opt);
static int check_text(cfg_t *cfg, cfg_opt_t *opt);
static int check_secret(cfg_t *cfg, cfg_opt_t *opt);
static int check_command(cfg_t *cfg, cfg_opt_t *opt);
static int check_fingerprint(cfg_t *cfg, cfg_opt_t *opt);
static int check_provider(cfg_t *cfg, cfg_opt_t *opt);
static int check_url(cfg_t *cfg, cfg_opt_t *opt);
static int check_dest_path(cfg_t *cfg, cfg_opt_t *opt);
static int check_dest_command(cfg_t *cfg, cfg_opt_t *opt);
static int check_lmtp(cfg_t *cfg, cfg_opt_t *opt);

struct check {
	const char *section;         /* "root" or "account" */
	const char *name;
	cfg_validate_callback_t fn;
	long min, max;               /* check_range only */
	int global;                  /* main file only */
};

static const struct check checks[] = {
	{ "root", "state_dir", check_path, 0, 0, 1 },
	{ "root", "poll_interval", check_range, 1, CONFIG_POLL_MAX, 1 },
	{ "root", "jobs", check_range, 1, CONFIG_JOBS_MAX, 1 },
	{ "root", "post_command", check_command, 0, 0, 1 },
	{ "root", "account", config_check_account, 0, 0, 0 },
	{ "account", "host", check_text, 0, 0, 0 },
	{ "account", "port", check_range, 1, 65535, 0 },
	{ "account", "tls_ca_file", check_path, 0, 0, 0 },
	{ "account", "tls_ca_dir", check_path, 0, 0, 0 },
	{ "account", "tls_fingerprint", check_fingerprint, 0, 0, 0 },
	{ "account", "tls_cert_file", check_path, 0, 0, 0 },
	{ "account", "tls_key_file", check_path, 0, 0, 0 },
	{ "account", "timeout", check_range, 1, PF_TIMEOUT_MAX, 0 },
	{ "account", "min_rate", check_range, 1, (long)PF_MIN_RATE_MAX, 0 },
	{ "account", "user", check_text, 0, 0, 0 },
	{ "account", "password", check_secret, 0, 0, 0 },
	{ "account", "password_command", check_command, 0, 0, 0 },
	{ "account", "maildir", check_dest_path, 0, 0, 0 },
	{ "account", "mbox", check_dest_path, 0, 0, 0 },
	{ "account", "mbox_lock_timeout", check_range, 0, PF_TIMEOUT_MAX, 0 },
	{ "account", "mda", check_dest_command, 0, 0, 0 },
	{ "account", "mda_timeout", check_range, 1, PF_TIMEOUT_MAX, 0 },
	{ "account", "lmtp", check_lmtp, 0, 0, 0 },
	{ "account", "lmtp_recipient", check_text, 0, 0, 0 },
	{ "account", "post_command", check_command, 0, 0, 0 },
	{ "account", "delete_after", check_range, 0, CONFIG_DELETE_AFTER_MAX, 0 },
	{ "account", "max_size", check_range, 0, (long)PF_MSG_HARD_MAX, 0 },
	{ "account", "fetch_limit", check_range, 0, (long)PF_LISTING_MAX, 0 },
	{ "account", "poll_interval", check_range, 0, CONFIG_POLL_MAX, 0 },
	{ "account", "provider", check_provider, 0, 0, 0 },
	/* cfg->name of the block is "oauth2": only install_checks reads
	 * these two-level section names, find_check never needs them. */
	{ "account|oauth2", "client_id", check_text, 0, 0, 0 },
	{ "account|oauth2", "client_secret", check_secret, 0, 0, 0 },
	{ "account|oauth2", "authorization_endpoint", check_url, 0, 0, 0 },
	{ "account|oauth2", "device_authorization_endpoint", check_url, 0, 0, 0 },
	{ "account|oauth2", "token_endpoint", check_url, 0, 0, 0 },
	{ "account|oauth2", "scope", check_text, 0, 0, 0 },
	{ "account|oauth2", "tls_ca_file", check_path, 0, 0, 0 },
};

static const struct check *find_check(cfg_t *cfg, cfg_opt_t *opt)
{
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
		if (strcmp(checks[i].section, cfg->name) == 0 &&
		    strcmp(checks[i].name, opt->name) == 0)
			return &checks[i];
	return NULL;
}

static int check_range(cfg_t *cfg, cfg_opt_t *opt)
{
	const struct check *c = find_check(cfg, opt);
	long v = cfg_opt_getnint(opt, 0);

	if (c == NULL || (v >= c->min && v <= c->max))
		return 0;
	return config_fail(cfg, "invalid value %ld for option '%s' (expected %ld to %ld)", v,
			opt->name, c->min, c->max);
}

static const char *expand_problem(enum expand_rc rc)
{
	switch (rc) {
	case EXP_UNSET: return "environment variable is not set";
	case EXP_SYNTAX: return "malformed $VARIABLE or ${VARIABLE}";
	case EXP_TOO_LONG: return "path too long";
	case EXP_NO_HOME: return "cannot expand '~': HOME is not set";
	case EXP_OK: break;
	}
	return "cannot expand";
}

/* Expands in place: libconfuse keeps the expanded value, so the copy-out
 * cannot fail on it later. */
static int check_path(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);
	char out[PF_PATH_MAX], var[PF_NAME_MAX + 1];
	enum expand_rc rc;

	if (s == NULL || s[0] == '\0')
		return config_fail(cfg, "option '%s' is empty", opt->name);
	rc = config_expand_path(s, out, sizeof out, var, sizeof var);
	if (rc == EXP_UNSET)
		return config_fail(cfg, "option '%s': environment variable '%s' is not set",
				opt->name, var);
	if (rc != EXP_OK)
		return config_fail(cfg, "option '%s': %s in '%.200s'", opt->name,
				expand_problem(rc), s);
	if (out[0] != '/')
		return config_fail(cfg, "option '%s': '%.200s' is not an absolute path "
				"(start it with / or ~/)", opt->name, out);
	if (cfg_opt_setnstr(opt, out, 0) != CFG_SUCCESS)
		return config_fail(cfg, "option '%s': out of memory", opt->name);
	return 0;
}

/* The value of opt, or NULL after reporting it empty or longer than max
 * octets (never quoting it: it may be a secret). */
static const char *value_within(cfg_t *cfg, cfg_opt_t *opt, size_t max)
{
	const char *s = cfg_opt_getnstr(opt, 0);

	if (s == NULL || s[0] == '\0') {
		(void)config_fail(cfg, "option '%s' is empty", opt->name);
		return NULL;
	}
	if (strlen(s) > max) {
		(void)config_fail(cfg, "option '%s' is longer than %zu bytes", opt->name, max);
		return NULL;
	}
	return s;
}

/* Host names and user names end up in protocol lines: a CR or LF would
 * inject a command (RFC 1939 commands end with CRLF). */
static int check_text(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = value_within(cfg, opt, CONFIG_TEXT_MAX);

	if (s != NULL && pf_has_ctl(s))
		return config_fail(cfg, "option '%s' contains a control character", opt->name);
	return s != NULL ? 0 : -1;
}

static int check_secret(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = value_within(cfg, opt, PF_SECRET_MAX);

	if (s != NULL && strpbrk(s, "\r\n") != NULL)
		return config_fail(cfg, "option '%s' contains a line break", opt->name);
	return s != NULL ? 0 : -1;
}

static int check_command(cfg_t *cfg, cfg_opt_t *opt)
{
	return value_within(cfg, opt, CONFIG_COMMAND_MAX) != NULL ? 0 : -1;
}

/* The syntax conn_tls pins with (tls_cert.h), checked here too so a typo
 * is a config error with a line, not a TLS failure at the first poll. */
static int check_fingerprint(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);
	unsigned char md[TLS_CERT_FP_LEN];

	if (tls_cert_fp_parse(s, md) == 0)
		return 0;
	return config_fail(cfg, "invalid value '%.120s' for option 'tls_fingerprint' "
			"(expected sha256:AB:CD:... with 32 bytes in hex)", s);
}

/* Unknown names are errors at the line of `provider =`, listing the known
 * ones; a preset without POP3 (iCloud) says so instead of failing later. */
static int check_provider(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);
	const struct provider *p;
	char names[PF_ERRMSG_MAX / 2];

	if (check_text(cfg, opt) < 0)
		return -1;
	p = provider_find(s);
	if (p == NULL) {
		if (provider_list_names(names, sizeof names) < 0)
			names[0] = '\0';
		return config_fail(cfg, "unknown provider '%.64s' (known: %s)", s, names);
	}
	if (p->host == NULL)
		return config_fail(cfg, "provider '%s': %s (see %s)", p->name, p->note,
				p->source_url);
	return 0;
}

/* OAuth2 endpoints carry the client's codes and tokens: TLS only
 * (RFC 6749 section 3.1 and 3.2), and nothing a form body could break. */
static int check_url(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);

	if (s == NULL || strncasecmp(s, "https://", 8) != 0 || s[8] == '\0')
		return config_fail(cfg, "option '%s' must be an https:// URL", opt->name);
	if (strlen(s) > CONFIG_URL_MAX)
		return config_fail(cfg, "option '%s' is longer than %d bytes", opt->name,
				CONFIG_URL_MAX);
	if (pf_has_ctl(s) || strpbrk(s, " \"<>") != NULL)
		return config_fail(cfg, "option '%s' contains a blank, quote or control character",
				opt->name);
	return 0;
}

/* Destinations: the value's own check, then exactly one per account,
 * reported at the line of the second. */
static int check_dest_path(cfg_t *cfg, cfg_opt_t *opt)
{
	return check_path(cfg, opt) < 0 ? -1 : config_one_destination(cfg, opt);
}

static int check_dest_command(cfg_t *cfg, cfg_opt_t *opt)
{
	return check_command(cfg, opt) < 0 ? -1 : config_one_destination(cfg, opt);
}

/* "unix:/absolute/path" or "HOST:PORT" (an IPv6 address in brackets). */
static int check_lmtp(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0), *colon;
	char *end;
	long port;

	if (check_text(cfg, opt) < 0)
		return -1;
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] != '/')
			return config_fail(cfg, "option 'lmtp': '%.120s' needs an absolute socket path "
					"(unix:/run/dovecot/lmtp)", s);
		return config_one_destination(cfg, opt);
	}
	colon = strrchr(s, ':');
	port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
	if (colon == NULL || colon == s || colon[1] == '\0' || *end != '\0' || port < 1 ||
	    port > 65535 || strchr(s, ' ') != NULL)
		return config_fail(cfg, "invalid value '%.120s' for option 'lmtp' (expected "
				"unix:/PATH or HOST:PORT)", s);
	return config_one_destination(cfg, opt);
}

static int reject_global(cfg_t *cfg, cfg_opt_t *opt)
{
	return config_fail(cfg, "global option '%s' is only allowed in the main config", opt->name);
}

static int parse_enum(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	char expected[PF_ERRMSG_MAX / 2] = "";
	size_t n = 0, count = 0, seen = 0;

	for (size_t i = 0; i < sizeof enum_words / sizeof enum_words[0]; i++) {
		if (strcmp(enum_words[i].opt, opt->name) != 0)
			continue;
		if (value != NULL && strcasecmp(enum_words[i].word, value) == 0) {
			*(long *)result = enum_words[i].value;
			return 0;
		}
		count++;
	}
	/* "a, b or c" for the message */
	for (size_t i = 0; i < sizeof enum_words / sizeof enum_words[0]; i++) {
		const char *w = enum_words[i].word;
		const char *sep = seen == 0 ? "" : seen + 1 == count ? " or " : ", ";

		if (strcmp(enum_words[i].opt, opt->name) != 0)
			continue;
		seen++;
		if (config_append(expected, sizeof expected, &n, sep, strlen(sep)) < 0 ||
		    config_append(expected, sizeof expected, &n, w, strlen(w)) < 0)
			break;
	}
	return config_fail(cfg, "invalid value '%.64s' for option '%s' (expected %s)",
			value ? value : "", opt->name, expected);
}

static int install_checks(cfg_t *cfg, int main_file)
{
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
		const struct check *c = &checks[i];
		char path[64];
		int n = strcmp(c->section, "root") == 0
			? snprintf(path, sizeof path, "%s", c->name)
			: snprintf(path, sizeof path, "%s|%s", c->section, c->name);

		if (n < 0 || (size_t)n >= sizeof path)
			return -1;
		(void)cfg_set_validate_func(cfg, path, c->global && !main_file ? reject_global : c->fn);
	}
	return 0;
}

cfg_t *config_parser_new(int main_file)
{
	cfg_t *cfg = cfg_init(root_opts, CFGF_NONE);

	if (cfg != NULL && install_checks(cfg, main_file) < 0) {
		cfg_free(cfg);
		cfg = NULL;
	}
	return cfg;
}

/* The section of account sec where key k lives, or NULL. */
static cfg_t *trusted_key_sec(cfg_t *sec, size_t k)
{
	return strcmp(trusted_keys[k].section, "oauth2") == 0 ? config_oauth2_sec(sec) : sec;
}

int config_trust_needs(cfg_t *cfg, const char **secret_r)
{
	unsigned n = cfg_size(cfg, "account");
	int needs = 0;

	*secret_r = NULL;
	for (unsigned i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "account", i);

		for (size_t k = 0; k < sizeof trusted_keys / sizeof trusted_keys[0]; k++) {
			if (!config_is_set(trusted_key_sec(sec, k), trusted_keys[k].name))
				continue;
			needs = 1;
			if (*secret_r == NULL)
				*secret_r = trusted_keys[k].secret;
		}
	}
	return needs;
}

void config_wipe_secrets(cfg_t *cfg)
{
	unsigned n = cfg_size(cfg, "account");

	for (unsigned i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "account", i);

		for (size_t k = 0; k < sizeof trusted_keys / sizeof trusted_keys[0]; k++) {
			cfg_t *where = trusted_key_sec(sec, k);
			char *v;

			if (trusted_keys[k].secret == NULL || !config_is_set(where, trusted_keys[k].name))
				continue;
			v = cfg_getstr(where, trusted_keys[k].name);
			if (v != NULL)
				pf_wipe(v, strlen(v));
		}
	}
}
