/* import_write.c - turns one imported account into popfetch config text and
 * writes it the way --add-account does (setup_int.h): a temporary file
 * beside the target, loaded back with config_load(), the peer's UIDs
 * recorded as delivered in the account's uid store, and only then the
 * rename.  The store is written before the config is published: a config
 * without its UIDs would fetch the whole mailbox again at the first poll. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fetch_adopt.h"
#include "import_int.h"
#include "import_write.h"
#include "setup.h"
#include "setup_int.h"
#include "uidstore.h"

/* The account section: a few paths, a command, a password escaped to
 * twice its size. */
#define SECTION_MAX (2 * PF_SECRET_MAX + 4 * PF_LINE_MAX + 6 * PF_PATH_MAX)
#define QUOTED_MAX (2 * PF_LINE_MAX + 2 * PF_SECRET_MAX + 3)
/* UIDs recorded between two commits of the uid store. */
#define RECORD_BATCH 8192

/* Every value of an import is indented once (no oauth2 block). */
static int add_str(struct setup_text *t, const char *key, const char *value)
{
	return setup_add_str(t, "    ", key, value);
}

static const char *tls_word(enum tls_mode m)
{
	return m == TLS_IMPLICIT ? "implicit" : m == TLS_STARTTLS ? "starttls" : "none";
}

/* host, port and tls, or the provider preset that says the same. */
static int add_server(struct setup_text *t, const struct import_write *w)
{
	const struct import_account *a = w->a;
	const struct provider *p = w->preset;
	int port = a->port ? a->port : (a->tls == TLS_IMPLICIT ? 995 : 110);

	if (p != NULL && p->port == port && p->tls == a->tls)
		return add_str(t, "provider", p->name);
	if (add_str(t, "provider", p != NULL ? p->name : NULL) < 0 ||
	    add_str(t, "host", a->host) < 0 ||
	    (a->port && setup_add(t, "    port = %d\n", a->port) < 0))
		return -1;
	return setup_add(t, "    tls = %s\n", tls_word(a->tls));
}

static int add_tls(struct setup_text *t, const struct import_account *a)
{
	if (add_str(t, "tls_ca_file", a->tls_ca_file) < 0 ||
	    add_str(t, "tls_ca_dir", a->tls_ca_dir) < 0 ||
	    add_str(t, "tls_fingerprint", a->tls_fingerprint) < 0 ||
	    add_str(t, "tls_cert_file", a->tls_cert_file) < 0 ||
	    add_str(t, "tls_key_file", a->tls_key_file) < 0)
		return -1;
	return a->timeout > 0 ? setup_add(t, "    timeout = %d\n", a->timeout) : 0;
}

static int add_login(struct setup_text *t, const struct import_write *w)
{
	const struct import_account *a = w->a;

	if (add_str(t, "user", a->user) < 0)
		return -1;
	if (a->password_command != NULL) {
		if (add_str(t, "password_command", a->password_command) < 0)
			return -1;
	} else if (a->password != NULL &&
		   add_str(t, "password", w->mask ? "********" : a->password) < 0) {
		return -1;
	}
	return a->auth != NULL ? setup_add(t, "    auth = %s\n", a->auth) : 0;
}

/* The destination: --maildir, or the peer's, or the default Maildir. */
static int add_dest(struct setup_text *t, const struct import_write *w)
{
	const struct import_account *a = w->a;

	if (w->maildir != NULL)
		return add_str(t, "maildir", w->maildir);
	switch (a->dest) {
	case IMPORT_DEST_MAILDIR: return add_str(t, "maildir", a->dest_arg);
	case IMPORT_DEST_MBOX: return add_str(t, "mbox", a->dest_arg);
	case IMPORT_DEST_MDA: return add_str(t, "mda", a->dest_arg);
	default: return setup_add(t, "    maildir = \"~/Mail/%s\"\n", w->name);
	}
}

static int add_policy(struct setup_text *t, const struct import_write *w)
{
	const struct import_account *a = w->a;
	int keep = w->keep >= 0 ? w->keep : a->keep;

	if (setup_add(t, "    keep = %s\n", keep ? "true" : "false") < 0 ||
	    (keep && a->delete_after > 0 &&
	     setup_add(t, "    delete_after = %d\n", a->delete_after) < 0) ||
	    (a->max_size > 0 && setup_add(t, "    max_size = %llu\n",
					  (unsigned long long)a->max_size) < 0) ||
	    (a->fetch_limit > 0 && setup_add(t, "    fetch_limit = %lu\n", a->fetch_limit) < 0))
		return -1;
	return 0;
}

/* A comment line holds text from the peer's file: no line break may end
 * it early. */
static int add_comment(struct setup_text *t, const char *what, const char *s)
{
	char clean[PF_NAME_MAX + 1];
	size_t n = 0;

	for (; s != NULL && *s != '\0' && n + 1 < sizeof clean; s++)
		clean[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	clean[n] = '\0';
	return setup_add(t, "%s%s", what, clean);
}

char *import_section_text(const struct import_write *w, struct pf_error *err)
{
	struct setup_text t;
	int rc = setup_text_start(&t, w->name, SECTION_MAX, QUOTED_MAX, "the account section", err);

	if (rc == 0 &&
	    (add_comment(&t, "\n# imported by popfetch --import from ", w->source) < 0 ||
	     add_comment(&t, ", ", w->a->label) < 0 ||
	     setup_add(&t, "\naccount %s {\n", w->name) < 0 || add_server(&t, w) < 0 ||
	     add_tls(&t, w->a) < 0 || add_login(&t, w) < 0 || add_dest(&t, w) < 0 ||
	     add_policy(&t, w) < 0 || setup_add(&t, "}\n") < 0))
		rc = -1;
	return setup_text_finish(&t, rc);
}

/* --- writing ------------------------------------------------------------------ */

/* The main config's text plus section in a temporary file beside it, so
 * that loading it sees what the published accounts.d file will give: the
 * main config's state_dir and accounts.d/, and the new account.  *cfg_r
 * (config_free) or -1 with err. */
static int load_combined(const struct target *tg, const char *section, struct config **cfg_r,
			 struct pf_error *err)
{
	char *tmpl = pf_join_path(tg->dir, ".popfetch-new.XXXXXX"), *old = NULL;
	size_t oldlen = 0;
	int fd = -1, rc = -1, r;

	if (tmpl == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "config path too long: %s", tg->main);
	r = import_read_file(tg->main, PF_CONFIG_FILE_MAX, &old, &oldlen, err);
	if (r == 0)
		fd = mkostemp(tmpl, O_CLOEXEC);
	if (r == 0 && fd < 0)
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create a file beside %s", tg->main);
	if (fd >= 0 && (fchmod(fd, 0600) < 0 || pf_write_all(fd, old, oldlen) < 0 ||
			pf_write_all(fd, "\n", 1) < 0 ||
			pf_write_all(fd, section, strlen(section)) < 0))
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot write %s", tmpl);
	else if (fd >= 0)
		rc = config_load(tmpl, cfg_r, err);
	if (fd >= 0) {
		close(fd);
		(void)unlink(tmpl);
	}
	if (old != NULL) {
		pf_wipe(old, oldlen);
		free(old);
	}
	free(tmpl);
	return rc;
}

/* The account as popfetch will load it, with the state_dir it will use:
 * the temporary file itself when it is the main config; the main config
 * with the section added when it goes to accounts.d/ (whose file alone
 * knows no state_dir).  0 or -1. */
static int load_new(const struct target *tg, const char *section, struct config **cfg_r,
		    struct pf_error *err)
{
	struct pf_error e = { 0 };

	if (strcmp(tg->file, tg->main) != 0)
		return load_combined(tg, section, cfg_r, err);
	if (config_load(tg->tmp, cfg_r, &e) == 0)
		return 0;
	return setup_load_error(tg, &e, err);
}

/* Every UID the peer had fetched, as delivered elsewhere, durably. */
static int record_uids(const char *dir, const struct account *acct,
		       const struct import_uids *u, struct pf_error *err)
{
	struct uidstore *s = uidstore_open(dir, acct->name, acct->host, acct->user, err);
	time_t now = time(NULL);
	int rc = -1;

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < u->n; i++) {
		if (uidstore_get(s, u->v[i], NULL) != UID_DELIVERED &&
		    uidstore_set_delivered(s, u->v[i], FETCH_ELSEWHERE_NAME, now, err) < 0)
			goto out;
		/* The records wait in memory until a commit: a bounded batch
		 * keeps two million of them from needing hundreds of MB. */
		if ((i + 1) % RECORD_BATCH == 0 && uidstore_commit(s, err) < 0)
			goto out;
	}
	rc = uidstore_commit(s, err);
out:
	uidstore_close(s);
	return rc;
}

/* --import --adopt for an account without usable state: the login uses
 * the account as it will be written, in the state_dir it will use. */
static int adopt_now(struct config *cfg, const struct account *acct, const char *dir, FILE *out,
		     struct pf_error *err)
{
	unsigned long listed, recorded;

	free(cfg->state_dir);
	cfg->state_dir = xstrdup(dir);
	fprintf(out, "  adopting: logging in to %s as %s ...\n", acct->host, acct->user);
	fflush(out);
	if (fetch_adopt(cfg, acct, &listed, &recorded, err) < 0)
		return -1;
	fprintf(out, "  adopted: %lu UIDs on the server recorded as delivered (nothing "
		"downloaded)\n", recorded);
	return 0;
}

int import_write_account(const char *config_path, const struct import_write *w,
			 const struct import_uids *uids, FILE *out, char **path_r,
			 struct pf_error *err)
{
	struct target tg = { 0 };
	struct config *cfg = NULL;
	const struct account *acct;
	char *section = import_section_text(w, err), *dir = NULL, *store = NULL;
	int created = 0, rc = -1;

	*path_r = NULL;
	if (section == NULL || setup_target_paths(&tg, config_path, err) < 0 ||
	    setup_target_file(&tg, w->name, err) < 0 || setup_write_temp(&tg, section, err) < 0)
		goto out;
	if (load_new(&tg, section, &cfg, err) < 0)
		goto out;
	acct = config_find(cfg, w->name);
	dir = acct != NULL ? xstrdup(cfg->state_dir) : NULL;
	if (dir != NULL)
		store = xmalloc(PF_PATH_MAX);
	if (dir == NULL || uidstore_path(dir, w->name, store, PF_PATH_MAX) < 0) {
		pf_error_set(err, PF_ERR_INTERNAL, "account '%s' or its state is missing",
			     w->name);
		goto out;
	}
	created = access(store, F_OK) != 0;
	if (pf_mkdirs(dir, 0700) < 0) {
		pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot create state directory %s", dir);
		goto out;
	}
	if ((uids != NULL ? record_uids(dir, acct, uids, err)
			  : adopt_now(cfg, acct, dir, out, err)) < 0 ||
	    setup_publish(&tg, err) < 0 || setup_verify(&tg, err) < 0)
		goto out;
	*path_r = xstrdup(tg.file);
	rc = 0;
out:
	if (rc < 0 && created && store != NULL)
		(void)unlink(store);
	free(store);
	free(dir);
	config_free(cfg);
	pf_free_secret(section);
	setup_target_free(&tg);
	return rc;
}
