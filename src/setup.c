/* setup.c - see setup.h.
 *
 * The order keeps a failed setup invisible: answers first (nothing is
 * touched), then the new file text in a temporary file in the target's
 * folder, config_load() of that file, the connection test with the loaded
 * account, and only then rename (main config) or link (accounts.d) into
 * place.  The result is loaded once more; if that fails the previous file
 * comes back. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "fetch.h"
#include "provider.h"
#include "setup.h"
#include "setup_int.h"
#include "util.h"

/* --- resolving the answers ----------------------------------------------- */

struct plan {
	const struct setup_opts *o;
	const struct setup_io *io;
	struct pf_error *err;
	struct setup_account a;
	const struct provider *preset;
	char address[PF_NAME_MAX + 1];
	char host[PF_NAME_MAX + 1];
	char user[PF_NAME_MAX + 1];
	char maildir[PF_PATH_MAX];
	char client_id[PF_NAME_MAX + 1];
	const char **taken;       /* names of the accounts configured now */
	size_t ntaken;
	struct config *existing;  /* the config as it loads now, or NULL */
};

static int text_ok(const char *what, const char *s, size_t max, struct pf_error *err)
{
	if (s == NULL || s[0] == '\0')
		return pf_error_set(err, PF_ERR_CONFIG, "%s is empty", what);
	if (strlen(s) > max)
		return pf_error_set(err, PF_ERR_CONFIG, "%s is longer than %zu bytes", what, max);
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return pf_error_set(err, PF_ERR_CONFIG, "%s contains a control character",
					    what);
	return 0;
}

/* Copies an option's value or the answer to question into buf. */
static int answer(struct plan *pl, const char *given, const char *question, const char *def,
		  const char *option, char *buf, size_t cap)
{
	if (given == NULL)
		return setup_ask(pl->io, question, def, option, 0, buf, cap, pl->err);
	if (strlen(given) >= cap)
		return pf_error_set(pl->err, PF_ERR_CONFIG, "%s is longer than %zu bytes", option,
				    cap - 1);
	memcpy(buf, given, strlen(given) + 1);
	return 0;
}

static int resolve_address(struct plan *pl)
{
	const char *at;

	if (answer(pl, pl->o->address, "E-mail address", NULL, "the address after --add-account",
		   pl->address, sizeof pl->address) < 0 ||
	    text_ok("the e-mail address", pl->address, PF_NAME_MAX, pl->err) < 0)
		return -1;
	at = strrchr(pl->address, '@');
	if (at == NULL || at == pl->address || at[1] == '\0' || strchr(pl->address, ' ') != NULL)
		return pf_error_set(pl->err, PF_ERR_CONFIG, "'%s' is not an e-mail address "
				    "(expected name@domain)", pl->address);
	return 0;
}

/* --provider NAME, --provider none, or the address's domain; an explicit
 * --host without --provider means a server without a preset. */
static int resolve_provider(struct plan *pl)
{
	const char *name = pl->o->provider;
	char names[PF_ERRMSG_MAX / 2];

	if (name != NULL && strcasecmp(name, "none") == 0)
		return 0;
	if (name == NULL) {
		pl->preset = pl->o->host == NULL ? provider_from_address(pl->address) : NULL;
		return 0;
	}
	pl->preset = provider_find(name);
	if (pl->preset != NULL)
		return 0;
	if (provider_list_names(names, sizeof names) < 0)
		names[0] = '\0';
	return pf_error_set(pl->err, PF_ERR_CONFIG, "--provider: unknown provider '%.64s' "
			    "(known: %s, or none)", name, names);
}

static int resolve_port_tls(struct plan *pl)
{
	const char *port = pl->o->port, *tls = pl->o->tls;
	char *end;
	long v;

	if (port != NULL) {
		v = strtol(port, &end, 10);
		if (!isdigit((unsigned char)port[0]) || *end != '\0' || v < 1 || v > 65535)
			return pf_error_set(pl->err, PF_ERR_CONFIG, "--port needs a number from 1 "
					    "to 65535, not '%.32s'", port);
	}
	if (tls != NULL && strcmp(tls, "implicit") != 0 && strcmp(tls, "starttls") != 0 &&
	    strcmp(tls, "none") != 0)
		return pf_error_set(pl->err, PF_ERR_CONFIG, "--tls takes implicit, starttls or "
				    "none, not '%.32s'", tls);
	pl->a.port = port;
	pl->a.tls = tls;
	return 0;
}

/* A preset knows the server; otherwise ask for the host (suggesting
 * pop.DOMAIN) and the user name (usually the address). */
static int resolve_server(struct plan *pl)
{
	const struct setup_io *io = pl->io;
	char def[PF_NAME_MAX + 1];
	int n = snprintf(def, sizeof def, "pop.%s", strrchr(pl->address, '@') + 1);

	if (pl->preset != NULL && pl->preset->host == NULL)
		return pf_error_set(pl->err, PF_ERR_CONFIG, "%s: %s (see %s)", pl->preset->name,
				    pl->preset->note, pl->preset->source_url);
	if (pl->preset != NULL)
		fprintf(io->out, "Provider: %s (%s)%s%s\n", pl->preset->name, pl->preset->host,
			pl->preset->note ? "; note: " : "", pl->preset->note ? pl->preset->note : "");
	if (pl->preset == NULL || pl->o->host != NULL) {
		if (n < 0 || (size_t)n >= sizeof def ||
		    answer(pl, pl->o->host, "POP3 server", def, "--host", pl->host,
			   sizeof pl->host) < 0 ||
		    text_ok("--host", pl->host, PF_NAME_MAX, pl->err) < 0)
			return -1;
		pl->a.host = pl->host;
	}
	if (pl->o->user == NULL && (pl->preset != NULL || io->in == NULL))
		return answer(pl, pl->address, NULL, NULL, "--user", pl->user, sizeof pl->user);
	return answer(pl, pl->o->user, "User name", pl->address, "--user", pl->user,
		      sizeof pl->user);
}

static int resolve_name(struct plan *pl)
{
	const char *name = pl->o->name;

	if (name == NULL) {
		if (setup_derive_name(pl->address, pl->taken, pl->ntaken, pl->a.name) < 0)
			return pf_error_set(pl->err, PF_ERR_CONFIG, "no free account name for %s: "
					    "give --name NAME", pl->address);
		return 0;
	}
	if (!setup_name_ok(name))
		return pf_error_set(pl->err, PF_ERR_CONFIG, "--name: invalid account name '%.80s' "
				    "(letters, digits and ._@+- only, starting with a letter or "
				    "digit, at most %d)", name, SETUP_NAME_MAX);
	if (setup_name_taken(name, pl->taken, pl->ntaken))
		return pf_error_set(pl->err, PF_ERR_CONFIG, "--name: an account '%s' exists "
				    "already", name);
	memcpy(pl->a.name, name, strlen(name) + 1);
	return 0;
}

/* Defaults that are safe unattended are taken without asking. */
static int resolve_maildir_keep(struct plan *pl)
{
	char def[PF_PATH_MAX];
	int n = snprintf(def, sizeof def, "~/Mail/%s", pl->a.name);
	int keep = pl->o->keep;

	if (n < 0 || (size_t)n >= sizeof def)
		return pf_error_set(pl->err, PF_ERR_INTERNAL, "default Maildir path too long");
	if (pl->o->maildir == NULL && pl->io->in == NULL)
		memcpy(pl->maildir, def, (size_t)n + 1);
	else if (answer(pl, pl->o->maildir, "Maildir folder", def, "--maildir", pl->maildir,
			sizeof pl->maildir) < 0)
		return -1;
	/* Deleting mail from the server is a decision: never a default. */
	if (keep < 0 && setup_ask_yes_no(pl->io, "Leave the messages on the server (keep)", 1,
				   "--keep or --no-keep", &keep, pl->err) < 0)
		return -1;
	pl->a.maildir = pl->maildir;
	pl->a.keep = keep;
	return text_ok("--maildir", pl->maildir, PF_PATH_MAX - 1, pl->err);
}

static int has_oauth2(const struct provider *p)
{
	return p != NULL && p->token_endpoint != NULL;
}

/* --password-stdin: the first line of stdin (a pipe from a password
 * manager), so the password is in no argv and no shell history. */
static int read_stdin_secret(struct plan *pl, char *buf, size_t cap)
{
	struct setup_io sio = { .in = pl->io->secret_in, .out = pl->io->out, .echo_fd = -1 };
	struct pf_error e = { 0 };

	if (sio.in == NULL || setup_read_line(&sio, 0, buf, cap, &e) < 0 || buf[0] == '\0')
		return pf_error_set(pl->err, PF_ERR_CONFIG, "--password-stdin: no password on "
				    "standard input%s%s", e.msg[0] ? " (" : "", e.msg[0] ? e.msg : "");
	return 0;
}

static int read_secret(struct plan *pl, enum setup_secret how)
{
	char question[PF_NAME_MAX + 64];
	int n = snprintf(question, sizeof question, "Password (or app password) for %s, not "
			 "shown", pl->address);

	pl->a.password = xmalloc(PF_SECRET_MAX + 2);
	pl->a.password[0] = '\0';
	if (how == SETUP_SECRET_STDIN)
		return read_stdin_secret(pl, pl->a.password, PF_SECRET_MAX + 2);
	if (n < 0 || (size_t)n >= sizeof question)
		return pf_error_set(pl->err, PF_ERR_INTERNAL, "prompt too long");
	return setup_ask(pl->io, question, NULL, "--password-stdin", 1, pl->a.password,
			 PF_SECRET_MAX + 2, pl->err);
}

static int resolve_oauth2(struct plan *pl)
{
	if (!has_oauth2(pl->preset))
		return pf_error_set(pl->err, PF_ERR_CONFIG, "--oauth2 needs a provider with OAuth2 "
				    "(gmail or outlook); %s has none", pl->preset != NULL
				    ? pl->preset->name : "a server without --provider");
	if (pl->o->client_id == NULL && pl->io->in != NULL)
		fprintf(pl->io->out, "OAuth2 needs a client ID of your own: register an app with "
			"%s (popfetch.conf(5), OAUTH2).\n", pl->preset->name);
	if (answer(pl, pl->o->client_id, "OAuth2 client ID", NULL, "--client-id", pl->client_id,
		   sizeof pl->client_id) < 0 ||
	    text_ok("--client-id", pl->client_id, PF_NAME_MAX, pl->err) < 0)
		return -1;
	pl->a.client_id = pl->client_id;
	return 0;
}

/* Microsoft no longer accepts passwords over POP for Outlook.com (basic
 * authentication was turned off in 2024): OAuth2 is the default answer
 * there; Google still accepts app passwords. */
static int resolve_secret(struct plan *pl)
{
	enum setup_secret how = pl->o->secret;
	int yes = 0;

	if (how == SETUP_SECRET_ASK && pl->io->in == NULL)
		return pf_error_set(pl->err, PF_ERR_CONFIG, "no password source: give "
				    "--password-stdin, --password-command CMD or --oauth2");
	if (how == SETUP_SECRET_ASK && has_oauth2(pl->preset)) {
		if (setup_ask_yes_no(pl->io, "Sign in with OAuth2 in a browser instead of a password",
			       pl->preset->device_authorization_endpoint != NULL, "--oauth2", &yes,
			       pl->err) < 0)
			return -1;
		how = yes ? SETUP_SECRET_OAUTH2 : how;
	}
	if (how == SETUP_SECRET_OAUTH2)
		return resolve_oauth2(pl);
	if (how == SETUP_SECRET_COMMAND) {
		pl->a.password_command = pl->o->password_command;
		return text_ok("--password-command", pl->o->password_command, PF_LINE_MAX,
			       pl->err);
	}
	return read_secret(pl, how);
}

static int resolve_all(struct plan *pl)
{
	if (resolve_address(pl) < 0 || resolve_provider(pl) < 0 || resolve_port_tls(pl) < 0 ||
	    resolve_server(pl) < 0 || resolve_name(pl) < 0 || resolve_maildir_keep(pl) < 0 ||
	    resolve_secret(pl) < 0)
		return -1;
	pl->a.provider = pl->preset != NULL ? pl->preset->name : NULL;
	pl->a.tls_ca_file = pl->o->tls_ca_file;
	pl->a.user = pl->user;
	return 0;
}

/* The names configured now.  A config that does not load is no error
 * here: one with only global settings is fine, and anything else fails
 * again, with its line, when the new file is loaded. */
static void load_existing(struct plan *pl, const char *path)
{
	struct pf_error e = { 0 };

	if (config_load(path, &pl->existing, &e) < 0) {
		pl->existing = NULL;
		return;
	}
	pl->ntaken = pl->existing->naccounts;
	pl->taken = xcalloc(pl->ntaken ? pl->ntaken : 1, sizeof *pl->taken);
	for (size_t i = 0; i < pl->ntaken; i++)
		pl->taken[i] = pl->existing->accounts[i].name;
}

static int load_and_test(struct plan *pl, const struct target *tg)
{
	struct config *cfg = NULL;
	const struct account *a;
	struct pf_error e = { 0 };
	unsigned long listed = 0;
	int rc = -1;

	if (config_load(tg->tmp, &cfg, &e) < 0)
		return setup_load_error(tg, &e, pl->err);
	a = config_find(cfg, pl->a.name);
	if (a == NULL) {
		pf_error_set(pl->err, PF_ERR_INTERNAL, "account '%s' is missing from the new file",
			     pl->a.name);
		goto fail;
	}
	if (pl->a.client_id != NULL || pl->o->no_test) {
		rc = 0;
		goto fail;
	}
	fprintf(pl->io->out, "Testing: logging in to %s port %s as %s ...\n", a->host, a->port,
		a->user);
	fflush(pl->io->out);
	if (fetch_test_account(cfg, a, &listed, &e) < 0) {
		pf_error_set(pl->err, e.cls, "connection test failed, nothing was written: %s",
			     e.msg);
		goto fail;
	}
	fprintf(pl->io->out, "Logged in: %lu messages on the server (none fetched).\n", listed);
	rc = 0;
fail:
	config_free(cfg);
	return rc;
}

int setup_add_account(const struct setup_opts *o, const struct setup_io *io,
		      char name_r[SETUP_NAME_MAX + 1], char **path_r, int *oauth2_r,
		      struct pf_error *err)
{
	struct plan pl = { .o = o, .io = io, .err = err };
	struct target tg = { 0 };
	char *section = NULL;
	int rc = -1;

	*path_r = NULL;
	if (setup_target_paths(&tg, o->config_path, err) < 0)
		goto fail;
	load_existing(&pl, tg.main);
	if (resolve_all(&pl) < 0)
		goto fail;
	section = setup_section_text(&pl.a, err);
	if (section == NULL || setup_target_file(&tg, pl.a.name, err) < 0 ||
	    setup_write_temp(&tg, section, err) < 0 || load_and_test(&pl, &tg) < 0 ||
	    setup_publish(&tg, err) < 0 || setup_verify(&tg, err) < 0)
		goto fail;
	memcpy(name_r, pl.a.name, sizeof pl.a.name);
	*path_r = xstrdup(tg.file);
	*oauth2_r = pl.a.client_id != NULL;
	rc = 0;
fail:
	pf_free_secret(section);
	pf_free_secret(pl.a.password);
	free(pl.taken);
	config_free(pl.existing);
	setup_target_free(&tg);
	return rc;
}
