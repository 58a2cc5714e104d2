/* config.c - see config.h.
 *
 * The grammar is a libconfuse option table; every check that can fail runs
 * as a libconfuse validate or parse callback, because only then does
 * libconfuse still know the line (after cfg_parse() returns, only the line of
 * a section's closing brace is left).  libconfuse reports through our error
 * function, which turns its message into "FILE:LINE: sentence" in the
 * pf_error of the load in progress.  Each file gets its own cfg_t so every
 * account remembers the file that defined it. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <confuse.h>
#include <openssl/tls1.h>

#include "bounds.h"
#include "util.h"

#include "config.h"
#include "config_int.h"
#include "config_text.h"
#include "provider.h"

/* Value limits (not buffer caps): a week between polls is already odd, and
 * more parallel jobs than this only trips servers' connection limits. */
#define CONFIG_POLL_MAX (7 * 24 * 3600L)
#define CONFIG_JOBS_MAX 64
#define CONFIG_DELETE_AFTER_MAX 36500 /* days: a hundred years */
/* Account names become file names: DESIGN.md section 8. */
#define CONFIG_NAME_MAX 64
#define CONFIG_TEXT_MAX PF_NAME_MAX   /* host, user, provider */
#define CONFIG_COMMAND_MAX PF_LINE_MAX
#define CONFIG_URL_MAX 1024           /* an OAuth2 endpoint */

/* The pf_error of the config_load() in progress.  libconfuse's error
 * callback has no user pointer; thread-local keeps a reload in one thread
 * from writing into another's error. */
static _Thread_local struct pf_error *cur_err;

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
	CFG_STR("user", NULL, CFGF_NODEFAULT),
	CFG_STR("password", NULL, CFGF_NODEFAULT),
	CFG_STR("password_command", NULL, CFGF_NODEFAULT),
	CFG_INT_CB("auth", AUTH_AUTO, CFGF_NODEFAULT, parse_enum),
	CFG_STR("maildir", NULL, CFGF_NODEFAULT),
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
	CFG_SEC("account", account_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
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

/* --- error reporting -------------------------------------------------- */

/* libconfuse 3.3's own sentences, reworded to name what the user wrote.
 * Its texts go through gettext only after setlocale(), which popfetch never
 * calls; an unknown text is passed through unchanged. */
static const struct {
	const char *from;
	const char *before;
	const char *after;
	int name_section;
} rewrites[] = {
	{ "no such option '%s'", "unknown option '", "'", 1 },
	{ "found duplicate title '%s'", "account '", "' is defined twice", 0 },
	{ "invalid integer value for option '%s'", "invalid value for option '",
	  "' (expected a whole number)", 0 },
	{ "integer value for option '%s' is out of range", "value for option '",
	  "' is out of range", 0 },
	{ "invalid boolean value for option '%s'", "invalid value for option '",
	  "' (expected true or false)", 0 },
	{ "missing title for section '%s'", "section '",
	  "' needs a name, as in: account NAME { ... }", 0 },
};

static int rewrite(cfg_t *cfg, const char *fmt, va_list ap, char *out, size_t cap)
{
	for (size_t i = 0; i < sizeof rewrites / sizeof rewrites[0]; i++) {
		const char *arg;
		int in_sec = rewrites[i].name_section && cfg != NULL &&
			     strcmp(cfg->name, "root") != 0;

		if (strcmp(fmt, rewrites[i].from) != 0)
			continue;
		arg = va_arg(ap, const char *);
		(void)snprintf(out, cap, "%s%s%s%s%s%s", rewrites[i].before, arg,
			       rewrites[i].after, in_sec ? " in section '" : "",
			       in_sec ? cfg->name : "", in_sec ? "'" : "");
		return 1;
	}
	return 0;
}

static void on_cfg_error(cfg_t *cfg, const char *fmt, va_list ap) PF_PRINTF(2, 0);

static void on_cfg_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[PF_ERRMSG_MAX];
	va_list aq;
	int done;

	va_copy(aq, ap);
	done = rewrite(cfg, fmt, aq, msg, sizeof msg);
	va_end(aq);
	if (!done)
		(void)vsnprintf(msg, sizeof msg, fmt, ap);
	if (cfg != NULL && cfg->filename != NULL && cfg->line > 0)
		(void)pf_error_set(cur_err, PF_ERR_CONFIG, "%s:%d: %s", cfg->filename,
				   cfg->line, msg);
	else if (cfg != NULL && cfg->filename != NULL)
		(void)pf_error_set(cur_err, PF_ERR_CONFIG, "%s: %s", cfg->filename, msg);
	else
		(void)pf_error_set(cur_err, PF_ERR_CONFIG, "%s", msg);
}

/* Reports through libconfuse so the message gets the file and line. */
static int cfg_fail(cfg_t *cfg, const char *fmt, ...) PF_PRINTF(2, 3);

static int cfg_fail(cfg_t *cfg, const char *fmt, ...)
{
	char msg[PF_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cfg_error(cfg, "%s", msg);
	return -1;
}

/* --- per-option checks ------------------------------------------------ */

static int check_range(cfg_t *cfg, cfg_opt_t *opt);
static int check_path(cfg_t *cfg, cfg_opt_t *opt);
static int check_text(cfg_t *cfg, cfg_opt_t *opt);
static int check_secret(cfg_t *cfg, cfg_opt_t *opt);
static int check_command(cfg_t *cfg, cfg_opt_t *opt);
static int check_fingerprint(cfg_t *cfg, cfg_opt_t *opt);
static int check_account(cfg_t *cfg, cfg_opt_t *opt);
static int check_provider(cfg_t *cfg, cfg_opt_t *opt);
static int check_url(cfg_t *cfg, cfg_opt_t *opt);

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
	{ "root", "account", check_account, 0, 0, 0 },
	{ "account", "host", check_text, 0, 0, 0 },
	{ "account", "port", check_range, 1, 65535, 0 },
	{ "account", "tls_ca_file", check_path, 0, 0, 0 },
	{ "account", "tls_ca_dir", check_path, 0, 0, 0 },
	{ "account", "tls_fingerprint", check_fingerprint, 0, 0, 0 },
	{ "account", "tls_cert_file", check_path, 0, 0, 0 },
	{ "account", "tls_key_file", check_path, 0, 0, 0 },
	{ "account", "timeout", check_range, 1, PF_TIMEOUT_MAX, 0 },
	{ "account", "user", check_text, 0, 0, 0 },
	{ "account", "password", check_secret, 0, 0, 0 },
	{ "account", "password_command", check_command, 0, 0, 0 },
	{ "account", "maildir", check_path, 0, 0, 0 },
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
	return cfg_fail(cfg, "invalid value %ld for option '%s' (expected %ld to %ld)", v,
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
		return cfg_fail(cfg, "option '%s' is empty", opt->name);
	rc = config_expand_path(s, out, sizeof out, var, sizeof var);
	if (rc == EXP_UNSET)
		return cfg_fail(cfg, "option '%s': environment variable '%s' is not set",
				opt->name, var);
	if (rc != EXP_OK)
		return cfg_fail(cfg, "option '%s': %s in '%.200s'", opt->name,
				expand_problem(rc), s);
	if (out[0] != '/')
		return cfg_fail(cfg, "option '%s': '%.200s' is not an absolute path "
				"(start it with / or ~/)", opt->name, out);
	if (cfg_opt_setnstr(opt, out, 0) != CFG_SUCCESS)
		return cfg_fail(cfg, "option '%s': out of memory", opt->name);
	return 0;
}

static int has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Host names and user names end up in protocol lines: a CR or LF would
 * inject a command (RFC 1939 commands end with CRLF). */
static int check_text(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);

	if (s == NULL || s[0] == '\0')
		return cfg_fail(cfg, "option '%s' is empty", opt->name);
	if (strlen(s) > CONFIG_TEXT_MAX)
		return cfg_fail(cfg, "option '%s' is longer than %d bytes", opt->name,
				CONFIG_TEXT_MAX);
	if (has_ctl(s))
		return cfg_fail(cfg, "option '%s' contains a control character", opt->name);
	return 0;
}

/* Never quotes the value. */
static int check_secret(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);

	if (s == NULL || s[0] == '\0')
		return cfg_fail(cfg, "option '%s' is empty", opt->name);
	if (strlen(s) > PF_SECRET_MAX)
		return cfg_fail(cfg, "option '%s' is longer than %d bytes", opt->name,
				PF_SECRET_MAX);
	if (strpbrk(s, "\r\n") != NULL)
		return cfg_fail(cfg, "option '%s' contains a line break", opt->name);
	return 0;
}

static int check_command(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);

	if (s == NULL || s[0] == '\0')
		return cfg_fail(cfg, "option '%s' is empty", opt->name);
	if (strlen(s) > CONFIG_COMMAND_MAX)
		return cfg_fail(cfg, "option '%s' is longer than %d bytes", opt->name,
				CONFIG_COMMAND_MAX);
	return 0;
}

/* The syntax conn_tls accepts: "sha256:" (optional), then 32 bytes in hex,
 * colons optional but only between bytes.  Checked here too so a typo is a
 * config error with a line, not a TLS failure at the first poll. */
static int check_fingerprint(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0), *p = s;
	size_t nib = 0;
	int prev_colon = 1, ok = 1;

	if (strncasecmp(p, "sha256:", 7) == 0)
		p += 7;
	for (; *p != '\0' && ok; p++) {
		if (*p == ':') {
			ok = !prev_colon && nib % 2 == 0;
			prev_colon = 1;
			continue;
		}
		ok = isxdigit((unsigned char)*p) && nib < 64;
		nib++;
		prev_colon = 0;
	}
	if (ok && nib == 64 && !prev_colon)
		return 0;
	return cfg_fail(cfg, "invalid value '%.120s' for option 'tls_fingerprint' "
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
		return cfg_fail(cfg, "unknown provider '%.64s' (known: %s)", s, names);
	}
	if (p->host == NULL)
		return cfg_fail(cfg, "provider '%s': %s (see %s)", p->name, p->note,
				p->source_url);
	return 0;
}

/* OAuth2 endpoints carry the client's codes and tokens: TLS only
 * (RFC 6749 section 3.1 and 3.2), and nothing a form body could break. */
static int check_url(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *s = cfg_opt_getnstr(opt, 0);

	if (s == NULL || strncasecmp(s, "https://", 8) != 0 || s[8] == '\0')
		return cfg_fail(cfg, "option '%s' must be an https:// URL", opt->name);
	if (strlen(s) > CONFIG_URL_MAX)
		return cfg_fail(cfg, "option '%s' is longer than %d bytes", opt->name,
				CONFIG_URL_MAX);
	if (has_ctl(s) || strpbrk(s, " \"<>") != NULL)
		return cfg_fail(cfg, "option '%s' contains a blank, quote or control character",
				opt->name);
	return 0;
}

static int reject_global(cfg_t *cfg, cfg_opt_t *opt)
{
	return cfg_fail(cfg, "global option '%s' is only allowed in the main config", opt->name);
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
	return cfg_fail(cfg, "invalid value '%.64s' for option '%s' (expected %s)",
			value ? value : "", opt->name, expected);
}

/* --- per-account checks (run at the section's closing brace) ---------- */

static int name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || !isalnum((unsigned char)s[0]))
		return 0;
	for (; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && strchr("._@+-", s[n]) == NULL)
			return 0;
	return n <= CONFIG_NAME_MAX;
}

/* The title names the state files (DESIGN.md section 8): no '/', no
 * leading '.', nothing a shell or a file system would mangle. */
static int check_name(cfg_t *root, cfg_t *sec)
{
	if (name_ok(cfg_title(sec)))
		return 0;
	return cfg_fail(root, "invalid account name '%.80s' (letters, digits and ._@+- only, "
			"starting with a letter or digit, at most %d)", cfg_title(sec),
			CONFIG_NAME_MAX);
}

/* host may come from the preset (check_provider made sure it has one). */
static int check_required(cfg_t *root, cfg_t *sec)
{
	static const char *const required[] = { "host", "user", "maildir" };

	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (cfg_getstr(sec, required[i]) == NULL &&
		    !(i == 0 && config_is_set(sec, "provider")))
			return cfg_fail(root, "account '%s' has no '%s'", cfg_title(sec),
					required[i]);
	return 0;
}

static int check_secret_source(cfg_t *root, cfg_t *sec)
{
	if (cfg_getstr(sec, "password") == NULL || cfg_getstr(sec, "password_command") == NULL)
		return 0;
	return cfg_fail(root, "account '%s' sets both 'password' and 'password_command'",
			cfg_title(sec));
}

/* 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and "localhost". */
static int is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

/* DESIGN.md sections 3 and 8: plaintext only to loopback, unless asked. */
static int check_plaintext(cfg_t *root, cfg_t *sec)
{
	const char *host = cfg_getstr(sec, "host");

	if (cfg_getint(sec, "tls") != TLS_NONE || cfg_getbool(sec, "allow_plaintext") ||
	    host == NULL || is_loopback(host))
		return 0;
	return cfg_fail(root, "account '%s': tls = none would send the password unencrypted "
			"to %s; use tls = implicit or starttls, or set allow_plaintext = true",
			cfg_title(sec), host);
}

static int check_client_cert(cfg_t *root, cfg_t *sec)
{
	if (cfg_getstr(sec, "tls_key_file") == NULL || cfg_getstr(sec, "tls_cert_file") != NULL)
		return 0;
	return cfg_fail(root, "account '%s' sets 'tls_key_file' without 'tls_cert_file'",
			cfg_title(sec));
}

/* An oauth2 block makes popfetch fetch the token itself: it needs our own
 * client_id (no borrowed IDs), a mechanism that carries a token, no
 * second secret source, and the endpoints its flow uses. */
static int check_oauth2(cfg_t *root, cfg_t *sec)
{
	const char *t = cfg_title(sec);
	cfg_t *o = config_oauth2_sec(sec);
	long auth = cfg_getint(sec, "auth");
	enum oauth2_flow flow;

	if (o == NULL)
		return 0;
	if (!config_is_set(o, "client_id"))
		return cfg_fail(root, "account '%s': the oauth2 block has no client_id (register "
				"your own OAuth2 client, see popfetch.conf(5))", t);
	if (config_is_set(sec, "auth") && auth != AUTH_AUTO && auth != AUTH_XOAUTH2 &&
	    auth != AUTH_OAUTHBEARER)
		return cfg_fail(root, "account '%s': an oauth2 block needs auth = xoauth2 or "
				"oauthbearer", t);
	if (config_is_set(sec, "password") || config_is_set(sec, "password_command"))
		return cfg_fail(root, "account '%s' sets both an oauth2 block and a password or "
				"password_command; remove one", t);
	if (config_oauth2_key(sec, "token_endpoint") == NULL)
		return cfg_fail(root, "account '%s': the oauth2 block has no token_endpoint", t);
	flow = config_oauth2_flow(sec);
	if (flow == OAUTH2_FLOW_DEVICE && config_oauth2_key(sec, "device_authorization_endpoint") == NULL)
		return cfg_fail(root, "account '%s': flow = device needs "
				"device_authorization_endpoint", t);
	if (flow == OAUTH2_FLOW_LOOPBACK && config_oauth2_key(sec, "authorization_endpoint") == NULL)
		return cfg_fail(root, "account '%s': flow = loopback needs "
				"authorization_endpoint", t);
	return 0;
}

static int (*const account_checks[])(cfg_t *root, cfg_t *sec) = {
	check_name, check_required, check_secret_source, check_plaintext, check_client_cert,
	check_oauth2,
};

static int check_account(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);

	if (sec == NULL)
		return cfg_fail(cfg, "internal error: no account section");
	for (size_t i = 0; i < sizeof account_checks / sizeof account_checks[0]; i++)
		if (account_checks[i](cfg, sec) < 0)
			return -1;
	return 0;
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

static void wipe_secrets(cfg_t *cfg)
{
	unsigned n = cfg_size(cfg, "account");

	for (unsigned i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "account", i), *o = config_oauth2_sec(sec);
		char *pw = cfg_getstr(sec, "password");
		char *cs = config_is_set(o, "client_secret") ? cfg_getstr(o, "client_secret") : NULL;

		if (pw != NULL)
			pf_wipe(pw, strlen(pw));
		if (cs != NULL)
			pf_wipe(cs, strlen(cs));
	}
}

static int has_password(cfg_t *cfg)
{
	unsigned n = cfg_size(cfg, "account");

	for (unsigned i = 0; i < n; i++)
		if (cfg_getstr(cfg_getnsec(cfg, "account", i), "password") != NULL)
			return 1;
	return 0;
}

/* Like fetchmail: a password readable by anyone else is refused (exit 6). */
static int check_perm(cfg_t *cfg, const struct stat *st, const char *path, struct pf_error *err)
{
	if ((st->st_mode & 077) == 0 || !has_password(cfg))
		return 0;
	return pf_error_set(err, PF_ERR_CONFIG_PERM,
			    "%s holds a password and is readable by others; run: chmod 600 %s",
			    path, path);
}

/* Parses text (the contents of path) into a new cfg_t, or NULL. */
static cfg_t *parse_text(char *text, size_t len, const char *path, int main_file,
			 struct pf_error *err)
{
	cfg_t *cfg = cfg_init(root_opts, CFGF_NONE);
	FILE *fp = NULL;
	int rc;

	if (cfg == NULL || install_checks(cfg, main_file) < 0) {
		pf_error_set(err, PF_ERR_INTERNAL, "cannot set up the config parser");
		goto fail;
	}
	/* cfg_parse_fp() names the file by cfg->filename; libconfuse frees it. */
	cfg->filename = xstrdup(path);
	(void)cfg_set_error_function(cfg, on_cfg_error);
	fp = fmemopen(text, len, "r");
	if (fp == NULL) {
		pf_error_errno(err, PF_ERR_INTERNAL, errno, "cannot parse %s: fmemopen", path);
		goto fail;
	}
	/* Unbuffered: no stdio copy of the password is left to wipe. */
	(void)setvbuf(fp, NULL, _IONBF, 0);
	cur_err = err;
	rc = cfg_parse_fp(cfg, fp);
	cur_err = NULL;
	fclose(fp);
	if (rc == CFG_SUCCESS)
		return cfg;
	pf_error_set(err, PF_ERR_CONFIG, "%s: syntax error", path);
fail:
	if (cfg != NULL) {
		wipe_secrets(cfg);
		cfg_free(cfg);
	}
	return NULL;
}

static int load_file(struct config *c, const char *path, int main_file, struct pf_error *err)
{
	struct stat st;
	size_t len = 0;
	char *text = config_read_file(path, &st, &len, err);
	cfg_t *cfg = NULL;
	int rc = -1;

	if (text == NULL)
		return -1;
	if (config_prescan(text, path, err) < 0)
		goto fail;
	cfg = parse_text(text, len, path, main_file, err);
	if (cfg == NULL || check_perm(cfg, &st, path, err) < 0)
		goto fail;
	if (main_file && config_copy_globals(c, cfg, err) < 0)
		goto fail;
	rc = config_add_accounts(c, cfg, path, err);
fail:
	if (cfg != NULL) {
		wipe_secrets(cfg);
		cfg_free(cfg);
	}
	pf_wipe(text, len);
	free(text);
	return rc;
}

/* --- accounts.d ------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_conf_name(const char *name)
{
	size_t n = strlen(name);

	/* "*.conf" as a shell glob matches it: no dot files. */
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* The *.conf names in d that are regular files (symlinks followed; a name
 * that cannot be stat'ed is kept so that load_file reports why). */
static int list_conf(DIR *d, const char *dir, char ***names_r, size_t *n_r, struct pf_error *err)
{
	struct dirent *de;
	struct stat st;

	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_conf_name(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && !S_ISREG(st.st_mode))
			continue;
		if (*n_r >= PF_CONFIG_ACCOUNTS_MAX)
			return pf_error_set(err, PF_ERR_CONFIG, "%s holds more than %d files", dir,
					    PF_CONFIG_ACCOUNTS_MAX);
		*names_r = xrealloc(*names_r, (*n_r + 1) * sizeof **names_r);
		(*names_r)[(*n_r)++] = xstrdup(de->d_name);
		errno = 0;
	}
	if (errno != 0)
		return pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot list %s", dir);
	return 0;
}

/* accounts.d beside the main file; "config" alone means the current dir. */
static char *accounts_dir(const char *main_path)
{
	const char *slash = strrchr(main_path, '/');
	char buf[PF_PATH_MAX];
	int n;

	if (slash == NULL)
		n = snprintf(buf, sizeof buf, "accounts.d");
	else
		n = snprintf(buf, sizeof buf, "%.*s/accounts.d", (int)(slash - main_path),
			     main_path);
	if (n < 0 || (size_t)n >= sizeof buf)
		return NULL;
	return xstrdup(buf);
}

static int load_accounts_d(struct config *c, struct pf_error *err)
{
	char *dir = accounts_dir(c->path), **names = NULL;
	size_t n = 0;
	DIR *d = NULL;
	int rc = -1;

	if (dir == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "config path too long: %s", c->path);
	d = opendir(dir);
	if (d == NULL) {
		rc = errno == ENOENT ? 0 : pf_error_errno(err, PF_ERR_CONFIG, errno, "cannot open %s",
							   dir);
		goto fail;
	}
	if (list_conf(d, dir, &names, &n, err) < 0)
		goto fail;
	/* names is NULL for an empty accounts.d/, and qsort(NULL, 0) undefined. */
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		char *path = pf_join_path(dir, names[i]);
		int r = path != NULL ? load_file(c, path, 0, err)
				     : pf_error_set(err, PF_ERR_CONFIG, "path too long in %s", dir);

		free(path);
		if (r < 0)
			goto fail;
	}
	rc = 0;
fail:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d != NULL)
		closedir(d);
	free(dir);
	return rc;
}

/* --- the interface ---------------------------------------------------- */

int config_load(const char *path, struct config **cfg_r, struct pf_error *err)
{
	struct config *c = xcalloc(1, sizeof *c);

	*cfg_r = NULL;
	c->path = path != NULL ? xstrdup(path) : config_default_path();
	if (c->path == NULL) {
		pf_error_set(err, PF_ERR_CONFIG, "cannot find the config file: HOME is not set "
			     "(use --config FILE)");
		goto fail;
	}
	if (load_file(c, c->path, 1, err) < 0 || load_accounts_d(c, err) < 0)
		goto fail;
	if (c->naccounts == 0) {
		pf_error_set(err, PF_ERR_CONFIG, "no account defined in %s", c->path);
		goto fail;
	}
	*cfg_r = c;
	return 0;
fail:
	config_free(c);
	return -1;
}
