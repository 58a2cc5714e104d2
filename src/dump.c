/* dump.c - see dump.h.  The values come from struct config; where each
 * was written comes from dump_origin.h; what a preset supplies from
 * provider.h.  The key tables follow popfetch.conf(5). */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/tls1.h>

#include "dump.h"
#include "dump_origin.h"
#include "provider.h"

/* "key = value" is padded to this column before its "# origin". */
#define DUMP_COLUMN 44
#define DUMP_VALUE_MAX 1200
#define DUMP_MASK "\"********\""

enum kind { K_STR, K_BARE, K_SECRET, K_INT, K_BOOL, K_U64, K_ULONG, K_TLS, K_AUTH, K_TLSVER, K_FLOW };

/* Which preset value can supply a key. */
enum from_preset { P_NONE, P_HOST, P_PORT, P_TLS, P_TIMEOUT, P_AUTH, P_AUTHZ, P_DEVICE, P_TOKEN,
		   P_SCOPE, P_FLOW };

struct key {
	const char *name;
	enum kind kind;
	size_t off;     /* in struct account, or struct oauth2_settings */
	enum from_preset preset;
	int dest;       /* shown only for this destination (enum dest_kind); -1: always */
};

#define A(n, k, p) { #n, k, offsetof(struct account, n), p, -1 }
#define AD(n, k, d) { #n, k, offsetof(struct account, n), P_NONE, d }
#define O(n, k, p) { #n, k, offsetof(struct oauth2_settings, n), p, -1 }

static const struct key account_keys[] = {
	A(provider, K_STR, P_NONE), A(host, K_STR, P_HOST), A(port, K_BARE, P_PORT),
	A(tls, K_TLS, P_TLS), A(allow_plaintext, K_BOOL, P_NONE),
	A(tls_ca_file, K_STR, P_NONE), A(tls_ca_dir, K_STR, P_NONE),
	A(tls_fingerprint, K_STR, P_NONE), A(tls_min_version, K_TLSVER, P_NONE),
	A(tls_cert_file, K_STR, P_NONE), A(tls_key_file, K_STR, P_NONE),
	A(timeout, K_INT, P_TIMEOUT), A(min_rate, K_ULONG, P_NONE), A(user, K_STR, P_NONE), A(password, K_SECRET, P_NONE),
	A(password_command, K_STR, P_NONE), A(auth, K_AUTH, P_AUTH), A(maildir, K_STR, P_NONE),
	A(mbox, K_STR, P_NONE), AD(mbox_lock_timeout, K_INT, DEST_MBOX), A(mda, K_STR, P_NONE),
	AD(mda_timeout, K_INT, DEST_MDA), AD(mda_from_line, K_BOOL, DEST_MDA), A(lmtp, K_STR, P_NONE),
	A(lmtp_recipient, K_STR, P_NONE), A(post_command, K_STR, P_NONE),
	A(keep, K_BOOL, P_NONE), A(delete_after, K_INT, P_NONE), A(max_size, K_U64, P_NONE),
	A(fetch_limit, K_ULONG, P_NONE), A(poll_interval, K_INT, P_NONE),
};

static const struct key oauth2_keys[] = {
	O(client_id, K_STR, P_NONE), O(client_secret, K_SECRET, P_NONE),
	O(authorization_endpoint, K_STR, P_AUTHZ),
	O(device_authorization_endpoint, K_STR, P_DEVICE), O(token_endpoint, K_STR, P_TOKEN),
	O(scope, K_STR, P_SCOPE), O(tls_ca_file, K_STR, P_NONE), O(flow, K_FLOW, P_FLOW),
};

struct dump {
	FILE *out;
	const struct config *cfg;
	const struct account *a;
	const struct provider *preset;
	const struct origin_map *map; /* of a->source_file */
};

/* --- values ------------------------------------------------------------- */

/* A config string: quoted, '"' and '\' escaped, control bytes as '?'. */
static void quote(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	out[n++] = '"';
	for (; *s != '\0' && n + 4 < cap; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	}
	out[n++] = '"';
	out[n] = '\0';
}

static const char *enum_name(enum kind k, int v)
{
	static const char *const tls[] = { "implicit", "starttls", "none" };
	static const char *const auth[] = { "auto", "user", "plain", "login", "cram-md5",
					    "apop", "xoauth2", "oauthbearer" };

	if (k == K_TLS && v >= 0 && v < 3)
		return tls[v];
	if (k == K_AUTH && v >= 0 && v < 8)
		return auth[v];
	if (k == K_FLOW)
		return v == OAUTH2_FLOW_LOOPBACK ? "loopback" : "device";
	if (k == K_TLSVER)
		return v == TLS1_3_VERSION ? "1.3" : "1.2";
	return "?";
}

/* The value of k in base as config text; 0, or -1 when it is unset. */
static int value(const struct key *k, const void *base, char *out, size_t cap)
{
	const char *p = (const char *)base + k->off;
	const char *s;

	switch (k->kind) {
	case K_STR:
	case K_BARE: /* a number kept as text (port) */
	case K_SECRET:
		memcpy(&s, p, sizeof s);
		if (s == NULL)
			return -1;
		if (k->kind == K_SECRET)
			(void)snprintf(out, cap, "%s", DUMP_MASK);
		else if (k->kind == K_BARE && s[strspn(s, "0123456789")] == '\0')
			(void)snprintf(out, cap, "%s", s);
		else
			quote(s, out, cap);
		return 0;
	case K_BOOL:
		(void)snprintf(out, cap, "%s", *(const int *)(const void *)p ? "true" : "false");
		return 0;
	case K_INT:
		(void)snprintf(out, cap, "%d", *(const int *)(const void *)p);
		return 0;
	case K_U64:
		(void)snprintf(out, cap, "%" PRIu64, *(const uint64_t *)(const void *)p);
		return 0;
	case K_ULONG:
		(void)snprintf(out, cap, "%lu", *(const unsigned long *)(const void *)p);
		return 0;
	default:
		(void)snprintf(out, cap, "%s", enum_name(k->kind, *(const int *)(const void *)p));
		return 0;
	}
}

/* --- origins ------------------------------------------------------------ */

static int preset_gives(const struct provider *pr, enum from_preset f, const struct account *a)
{
	switch (f) {
	case P_HOST: return pr->host != NULL;
	case P_PORT: return pr->port != 0;
	case P_TLS: return 1;
	case P_TIMEOUT: return pr->timeout > 0;
	/* The preset's mechanism applies only when OAuth2 is configured. */
	case P_AUTH: return a->oauth2.enabled && pr->oauth2_auth != AUTH_AUTO;
	case P_AUTHZ: return pr->authorization_endpoint != NULL;
	case P_DEVICE: return pr->device_authorization_endpoint != NULL;
	case P_TOKEN: return pr->token_endpoint != NULL;
	case P_SCOPE: return pr->scope != NULL;
	case P_FLOW: return pr->token_endpoint != NULL;
	default: return 0;
	}
}

static void origin(const struct dump *d, const char *block, const struct key *k, char *out,
		   size_t cap)
{
	int line = d->map != NULL ? origin_line(d->map, d->a->name, block, k->name) : 0;

	if (line > 0)
		(void)snprintf(out, cap, "%s:%d", d->a->source_file, line);
	else if (d->preset != NULL && preset_gives(d->preset, k->preset, d->a))
		(void)snprintf(out, cap, "preset %s", d->preset->name);
	else if (block == NULL && strcmp(k->name, "port") == 0)
		(void)snprintf(out, cap, "default for tls = %s", enum_name(K_TLS, (int)d->a->tls));
	else if (block == NULL && strcmp(k->name, "post_command") == 0 && d->cfg->post_command != NULL)
		(void)snprintf(out, cap, "the global post_command");
	else if (block != NULL && strcmp(k->name, "tls_ca_file") == 0)
		(void)snprintf(out, cap, "default: the account's tls_ca_file");
	else
		(void)snprintf(out, cap, "default");
	if (k->kind == K_SECRET)
		(void)snprintf(out + strlen(out), cap - strlen(out), ", masked");
}

/* --- output ------------------------------------------------------------- */

static void row(FILE *out, const char *indent, const char *key, const char *val, const char *from)
{
	char kv[DUMP_VALUE_MAX + 64];

	(void)snprintf(kv, sizeof kv, "%s%s = %s", indent, key, val);
	fprintf(out, "%-*s # %s\n", DUMP_COLUMN, kv, from);
}

static void keys(const struct dump *d, const char *block, const struct key *tab, size_t n,
		 const void *base)
{
	char val[DUMP_VALUE_MAX], from[PF_PATH_MAX + 32];
	size_t i;

	for (i = 0; i < n; i++) {
		if ((tab[i].dest >= 0 && (int)d->a->dest != tab[i].dest) ||
		    value(&tab[i], base, val, sizeof val) < 0)
			continue;
		origin(d, block, &tab[i], from, sizeof from);
		row(d->out, block != NULL ? "        " : "    ", tab[i].name, val, from);
	}
}

static void account(FILE *out, const struct config *cfg, const struct account *a,
		    const struct origin_map *map)
{
	struct dump d = { .out = out, .cfg = cfg, .a = a, .map = map };
	char head[PF_NAME_MAX + 32], from[PF_PATH_MAX + 32];
	int line = map != NULL ? origin_account_line(map, a->name) : 0;

	d.preset = a->provider != NULL ? provider_find(a->provider) : NULL;
	(void)snprintf(head, sizeof head, "account %s {", a->name);
	(void)snprintf(from, sizeof from, "%s:%d", a->source_file, line);
	fprintf(out, "\n%-*s # %s\n", DUMP_COLUMN, head, line > 0 ? from : a->source_file);
	keys(&d, NULL, account_keys, sizeof account_keys / sizeof account_keys[0], a);
	if (a->oauth2.enabled) {
		fprintf(out, "    oauth2 {\n");
		keys(&d, "oauth2", oauth2_keys, sizeof oauth2_keys / sizeof oauth2_keys[0],
		     &a->oauth2);
		fprintf(out, "    }\n");
	}
	fprintf(out, "}\n");
}

static void globals(FILE *out, const struct config *cfg, const struct origin_map *map)
{
	static const char *const names[] = { "state_dir", "poll_interval", "jobs", "post_command" };
	char val[DUMP_VALUE_MAX], from[PF_PATH_MAX + 32];
	size_t i;
	int line;

	fprintf(out, "# popfetch --dump: the effective configuration, secrets masked\n");
	for (i = 0; i < 4; i++) {
		if (i == 3 && cfg->post_command == NULL)
			break;
		if (i == 0 || i == 3)
			quote(i == 0 ? cfg->state_dir : cfg->post_command, val, sizeof val);
		else
			(void)snprintf(val, sizeof val, "%d", i == 1 ? cfg->poll_interval : cfg->jobs);
		line = map != NULL ? origin_line(map, NULL, NULL, names[i]) : 0;
		if (line > 0)
			(void)snprintf(from, sizeof from, "%s:%d", cfg->path, line);
		else
			(void)snprintf(from, sizeof from, "%s", i == 0 ? "default ($XDG_STATE_HOME/popfetch)"
									: "default");
		row(out, "", names[i], val, from);
	}
}

/* The origins of the file that defined a: the main file's map, else
 * its own (scanned here, freed by the caller through *own_r). */
static int map_for(const struct config *cfg, const struct account *a, struct origin_map **own_r,
		   struct pf_error *err)
{
	*own_r = NULL;
	if (strcmp(a->source_file, cfg->path) == 0)
		return 0;
	*own_r = origin_scan(a->source_file, err);
	return *own_r != NULL ? 0 : -1;
}

int dump_config(const struct config *cfg, const char *name, FILE *out, struct pf_error *err)
{
	struct origin_map *main_map, *own;
	size_t i;
	int rc = 0;

	if (name != NULL && config_find(cfg, name) == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "no account '%s' in %s", name, cfg->path);
	main_map = origin_scan(cfg->path, err);
	if (main_map == NULL)
		return -1;
	globals(out, cfg, main_map);
	for (i = 0; rc == 0 && i < cfg->naccounts; i++) {
		const struct account *a = &cfg->accounts[i];

		if (name != NULL && strcmp(a->name, name) != 0)
			continue;
		rc = map_for(cfg, a, &own, err);
		if (rc == 0)
			account(out, cfg, a, own != NULL ? own : main_map);
		origin_free(own);
	}
	origin_free(main_map);
	if (rc == 0 && fflush(out) != 0)
		rc = pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot write the configuration");
	return rc;
}
