/* config_build.c - parsed libconfuse sections into struct config: presets
 * and defaults applied, paths and strings copied out (see config_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "config_int.h"
#include "config_text.h"
#include "provider.h"
#include "util.h"

/* A key the file set (CFGF_NODEFAULT options only, see account_opts). */
int config_is_set(cfg_t *sec, const char *name)
{
	return sec != NULL && cfg_size(sec, name) > 0;
}

/* The oauth2 block, or NULL when the account has none. */
cfg_t *config_oauth2_sec(cfg_t *sec)
{
	return config_is_set(sec, "oauth2") ? cfg_getsec(sec, "oauth2") : NULL;
}

/* An oauth2 key from the block, else from the account's preset. */
const char *config_oauth2_key(cfg_t *sec, const char *key)
{
	cfg_t *o = config_oauth2_sec(sec);
	const struct provider *p = provider_find(cfg_getstr(sec, "provider"));

	if (config_is_set(o, key))
		return cfg_getstr(o, key);
	if (p == NULL)
		return NULL;
	if (strcmp(key, "authorization_endpoint") == 0)
		return p->authorization_endpoint;
	if (strcmp(key, "device_authorization_endpoint") == 0)
		return p->device_authorization_endpoint;
	if (strcmp(key, "token_endpoint") == 0)
		return p->token_endpoint;
	if (strcmp(key, "scope") == 0)
		return p->scope;
	return NULL;
}

/* DESIGN.md section 8: flow set, else device when a device endpoint is
 * known, else loopback; a preset's own choice counts as "set". */
enum oauth2_flow config_oauth2_flow(cfg_t *sec)
{
	cfg_t *o = config_oauth2_sec(sec);
	const struct provider *p = provider_find(cfg_getstr(sec, "provider"));

	if (config_is_set(o, "flow"))
		return (enum oauth2_flow)cfg_getint(o, "flow");
	if (p != NULL && p->token_endpoint != NULL && !config_is_set(o, "device_authorization_endpoint"))
		return p->flow;
	return config_oauth2_key(sec, "device_authorization_endpoint") != NULL ? OAUTH2_FLOW_DEVICE
									 : OAUTH2_FLOW_LOOPBACK;
}

/* --- building struct config ------------------------------------------- */

static char *dup_opt(cfg_t *sec, const char *name)
{
	const char *s = cfg_getstr(sec, name);

	return s != NULL ? xstrdup(s) : NULL;
}

static char *port_text(cfg_t *sec, enum tls_mode tls, const struct provider *p)
{
	char buf[16];
	long port = config_is_set(sec, "port") ? cfg_getint(sec, "port")
		    : p != NULL && !config_is_set(sec, "tls") ? p->port
		    : tls == TLS_IMPLICIT ? 995 : 110;

	(void)snprintf(buf, sizeof buf, "%ld", port);
	return xstrdup(buf);
}

static char *dup_or(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* The oauth2 block merged with the preset (DESIGN.md section 8 defaults);
 * check_oauth2 has validated it. */
static void copy_oauth2(struct oauth2_settings *o, cfg_t *sec, const char *acct_ca)
{
	cfg_t *os = config_oauth2_sec(sec);

	if (os == NULL)
		return;
	o->enabled = 1;
	o->client_id = dup_opt(os, "client_id");
	o->client_secret = dup_opt(os, "client_secret");
	o->authorization_endpoint = dup_or(config_oauth2_key(sec, "authorization_endpoint"));
	o->device_authorization_endpoint =
		dup_or(config_oauth2_key(sec, "device_authorization_endpoint"));
	o->token_endpoint = dup_or(config_oauth2_key(sec, "token_endpoint"));
	o->scope = dup_or(config_oauth2_key(sec, "scope"));
	o->tls_ca_file = dup_or(config_is_set(os, "tls_ca_file") ? cfg_getstr(os, "tls_ca_file") : acct_ca);
	o->flow = config_oauth2_flow(sec);
}

/* Explicit keys first, then the preset, then the defaults.  With OAuth2
 * and no auth key, the token goes out as the preset says (XOAUTH2: what
 * Gmail and Outlook document for POP); without OAuth2 auth stays auto so
 * an app password still works with a preset. */
static enum auth_mech auth_of(cfg_t *sec, const struct provider *p)
{
	long auth = config_is_set(sec, "auth") ? cfg_getint(sec, "auth") : AUTH_AUTO;

	if (auth != AUTH_AUTO || config_oauth2_sec(sec) == NULL)
		return (enum auth_mech)auth;
	return p != NULL && p->token_endpoint != NULL ? p->oauth2_auth : AUTH_XOAUTH2;
}

static void copy_account(struct account *a, cfg_t *sec, const char *file)
{
	const struct provider *p = provider_find(cfg_getstr(sec, "provider"));

	a->name = xstrdup(cfg_title(sec));
	a->source_file = xstrdup(file);
	a->host = config_is_set(sec, "host") ? dup_opt(sec, "host") : dup_or(p != NULL ? p->host : NULL);
	a->tls = config_is_set(sec, "tls") ? (enum tls_mode)cfg_getint(sec, "tls")
		 : p != NULL ? p->tls : TLS_IMPLICIT;
	a->port = port_text(sec, a->tls, p);
	a->allow_plaintext = cfg_getbool(sec, "allow_plaintext") == cfg_true;
	a->tls_ca_file = dup_opt(sec, "tls_ca_file");
	a->tls_ca_dir = dup_opt(sec, "tls_ca_dir");
	a->tls_fingerprint = dup_opt(sec, "tls_fingerprint");
	a->tls_min_version = (int)cfg_getint(sec, "tls_min_version");
	a->tls_cert_file = dup_opt(sec, "tls_cert_file");
	a->tls_key_file = dup_opt(sec, "tls_key_file");
	a->timeout = config_is_set(sec, "timeout") ? (int)cfg_getint(sec, "timeout")
		     : p != NULL ? p->timeout : CONFIG_TIMEOUT_DEFAULT;
	a->min_rate = (unsigned long)cfg_getint(sec, "min_rate");
	a->user = dup_opt(sec, "user");
	a->password = dup_opt(sec, "password");
	a->password_command = dup_opt(sec, "password_command");
	a->auth = auth_of(sec, p);
	a->dest = config_dest_of(sec);
	a->maildir = dup_opt(sec, "maildir");
	a->mbox = dup_opt(sec, "mbox");
	a->mbox_lock_timeout = (int)cfg_getint(sec, "mbox_lock_timeout");
	a->mda = dup_opt(sec, "mda");
	a->mda_timeout = (int)cfg_getint(sec, "mda_timeout");
	a->mda_from_line = cfg_getbool(sec, "mda_from_line") == cfg_true;
	a->lmtp = dup_opt(sec, "lmtp");
	a->lmtp_recipient = dup_opt(sec, "lmtp_recipient");
	a->post_command = dup_opt(sec, "post_command");
	a->keep = cfg_getbool(sec, "keep") == cfg_true;
	a->delete_after = (int)cfg_getint(sec, "delete_after");
	a->max_size = (uint64_t)cfg_getint(sec, "max_size");
	a->fetch_limit = (unsigned long)cfg_getint(sec, "fetch_limit");
	a->poll_interval = (int)cfg_getint(sec, "poll_interval");
	a->provider = dup_opt(sec, "provider");
	copy_oauth2(&a->oauth2, sec, a->tls_ca_file);
}

int config_add_accounts(struct config *c, cfg_t *cfg, const char *file, struct pf_error *err)
{
	unsigned n = cfg_size(cfg, "account");

	for (unsigned i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "account", i);
		const struct account *dup = config_find(c, cfg_title(sec));

		if (dup != NULL)
			return pf_error_set(err, PF_ERR_CONFIG,
					    "account '%s' is defined in both %s and %s",
					    dup->name, dup->source_file, file);
		if (c->naccounts >= PF_CONFIG_ACCOUNTS_MAX)
			return pf_error_set(err, PF_ERR_CONFIG, "%s: more than %d accounts", file,
					    PF_CONFIG_ACCOUNTS_MAX);
		c->accounts = xrealloc(c->accounts, (c->naccounts + 1) * sizeof *c->accounts);
		memset(&c->accounts[c->naccounts], 0, sizeof *c->accounts);
		copy_account(&c->accounts[c->naccounts], sec, file);
		/* The main file's post_command is every account's default
		 * (globals are read before any account). */
		if (c->accounts[c->naccounts].post_command == NULL && c->post_command != NULL)
			c->accounts[c->naccounts].post_command = xstrdup(c->post_command);
		c->naccounts++;
	}
	return 0;
}

int config_copy_globals(struct config *c, cfg_t *cfg, struct pf_error *err)
{
	c->poll_interval = (int)cfg_getint(cfg, "poll_interval");
	c->jobs = (int)cfg_getint(cfg, "jobs");
	c->state_dir = dup_opt(cfg, "state_dir");
	c->post_command = dup_opt(cfg, "post_command");
	if (c->state_dir == NULL)
		c->state_dir = config_xdg_path("XDG_STATE_HOME", ".local/state", NULL);
	if (c->state_dir == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "%s: no state_dir and no home directory "
				    "to default to (set HOME or state_dir)", c->path);
	return 0;
}

static void free_account(struct account *a)
{
	free(a->name);
	free(a->source_file);
	free(a->host);
	free(a->port);
	free(a->tls_ca_file);
	free(a->tls_ca_dir);
	free(a->tls_fingerprint);
	free(a->tls_cert_file);
	free(a->tls_key_file);
	free(a->user);
	pf_free_secret(a->password);
	free(a->password_command);
	free(a->maildir);
	free(a->mbox);
	free(a->mda);
	free(a->lmtp);
	free(a->lmtp_recipient);
	free(a->post_command);
	free(a->provider);
	free(a->oauth2.client_id);
	pf_free_secret(a->oauth2.client_secret);
	free(a->oauth2.authorization_endpoint);
	free(a->oauth2.device_authorization_endpoint);
	free(a->oauth2.token_endpoint);
	free(a->oauth2.scope);
	free(a->oauth2.tls_ca_file);
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->naccounts; i++)
		free_account(&cfg->accounts[i]);
	free(cfg->accounts);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->post_command);
	free(cfg);
}

const struct account *config_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->naccounts; i++)
		if (strcmp(cfg->accounts[i].name, name) == 0)
			return &cfg->accounts[i];
	return NULL;
}
