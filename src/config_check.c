/* config_check.c - the checks that relate several keys of one account
 * (DESIGN.md sections 3, 5 and 8): its name, the required keys, one secret
 * source, plaintext only to loopback, a client key with its certificate, a
 * complete oauth2 block.
 *
 * Promises: config_check_account() runs at the account's closing brace
 * (the validate callback of the "account" section, installed by
 * config_opts.c) and reports through config_fail(), so every message names
 * the file and the line of that brace.  A new cross-key rule is one
 * function here plus one entry in account_checks[]. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <confuse.h>

#include "config.h"
#include "config_int.h"

/* --- destinations (DESIGN.md section 9) --------------------------------- */

const char *const config_dest_keys[4] = {
	[DEST_MAILDIR] = "maildir",
	[DEST_MBOX] = "mbox",
	[DEST_MDA] = "mda",
	[DEST_LMTP] = "lmtp",
};

int config_one_destination(cfg_t *sec, cfg_opt_t *opt)
{
	for (size_t i = 0; i < sizeof config_dest_keys / sizeof config_dest_keys[0]; i++)
		if (strcmp(config_dest_keys[i], opt->name) != 0 &&
		    config_is_set(sec, config_dest_keys[i]))
			return config_fail(sec, "account '%s' sets both '%s' and '%s': exactly one "
					"destination (maildir, mbox, mda or lmtp)", cfg_title(sec),
					config_dest_keys[i], opt->name);
	return 0;
}

enum dest_kind config_dest_of(cfg_t *sec)
{
	for (size_t i = 0; i < sizeof config_dest_keys / sizeof config_dest_keys[0]; i++)
		if (config_is_set(sec, config_dest_keys[i]))
			return (enum dest_kind)i;
	return DEST_MAILDIR;
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
	return config_fail(root, "invalid account name '%.80s' (letters, digits and ._@+- only, "
			"starting with a letter or digit, at most %d)", cfg_title(sec),
			CONFIG_NAME_MAX);
}

/* host may come from the preset (check_provider made sure it has one). */
static int check_required(cfg_t *root, cfg_t *sec)
{
	static const char *const required[] = { "host", "user" };
	int dest = 0;

	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (cfg_getstr(sec, required[i]) == NULL &&
		    !(i == 0 && config_is_set(sec, "provider")))
			return config_fail(root, "account '%s' has no '%s'", cfg_title(sec),
					required[i]);
	for (size_t i = 0; i < sizeof config_dest_keys / sizeof config_dest_keys[0]; i++)
		dest |= config_is_set(sec, config_dest_keys[i]);
	if (!dest)
		return config_fail(root, "account '%s' has no 'maildir' (nor another destination: "
				"mbox, mda or lmtp)", cfg_title(sec));
	return 0;
}

/* LMTP needs to know for whom (RCPT TO, RFC 2033 section 4.2). */
static int check_lmtp_recipient(cfg_t *root, cfg_t *sec)
{
	if (!config_is_set(sec, "lmtp") || config_is_set(sec, "lmtp_recipient"))
		return 0;
	return config_fail(root, "account '%s' sets 'lmtp' without 'lmtp_recipient'",
			cfg_title(sec));
}

static int check_secret_source(cfg_t *root, cfg_t *sec)
{
	if (cfg_getstr(sec, "password") == NULL || cfg_getstr(sec, "password_command") == NULL)
		return 0;
	return config_fail(root, "account '%s' sets both 'password' and 'password_command'",
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
	return config_fail(root, "account '%s': tls = none would send the password unencrypted "
			"to %s; use tls = implicit or starttls, or set allow_plaintext = true",
			cfg_title(sec), host);
}

static int check_client_cert(cfg_t *root, cfg_t *sec)
{
	if (cfg_getstr(sec, "tls_key_file") == NULL || cfg_getstr(sec, "tls_cert_file") != NULL)
		return 0;
	return config_fail(root, "account '%s' sets 'tls_key_file' without 'tls_cert_file'",
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
		return config_fail(root, "account '%s': the oauth2 block has no client_id (register "
				"your own OAuth2 client, see popfetch.conf(5))", t);
	if (config_is_set(sec, "auth") && auth != AUTH_AUTO && auth != AUTH_XOAUTH2 &&
	    auth != AUTH_OAUTHBEARER)
		return config_fail(root, "account '%s': an oauth2 block needs auth = xoauth2 or "
				"oauthbearer", t);
	if (config_is_set(sec, "password") || config_is_set(sec, "password_command"))
		return config_fail(root, "account '%s' sets both an oauth2 block and a password or "
				"password_command; remove one", t);
	if (config_oauth2_key(sec, "token_endpoint") == NULL)
		return config_fail(root, "account '%s': the oauth2 block has no token_endpoint", t);
	flow = config_oauth2_flow(sec);
	if (flow == OAUTH2_FLOW_DEVICE && config_oauth2_key(sec, "device_authorization_endpoint") == NULL)
		return config_fail(root, "account '%s': flow = device needs "
				"device_authorization_endpoint", t);
	if (flow == OAUTH2_FLOW_LOOPBACK && config_oauth2_key(sec, "authorization_endpoint") == NULL)
		return config_fail(root, "account '%s': flow = loopback needs "
				"authorization_endpoint", t);
	return 0;
}

static int (*const account_checks[])(cfg_t *root, cfg_t *sec) = {
	check_name, check_required, check_secret_source, check_plaintext, check_client_cert,
	check_oauth2, check_lmtp_recipient,
};

int config_check_account(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);

	if (sec == NULL)
		return config_fail(cfg, "internal error: no account section");
	for (size_t i = 0; i < sizeof account_checks / sizeof account_checks[0]; i++)
		if (account_checks[i](cfg, sec) < 0)
			return -1;
	return 0;
}
