/* import.c - popfetch --import (see import.h): reads the peer's file,
 * parses it (import_fetchmail.c, import_mpop.c, import_getmail.c), finds
 * each account's UID state (import_state.c) and writes the accounts
 * (import_write.c), or with --dry-run prints what it would write.  The only
 * part of the import that touches files, HOME and the environment. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fetch_adopt.h"
#include "import_int.h"
#include "import_write.h"
#include "provider.h"
#include "setup.h"
#include "setup_int.h"

#define EXIT_USAGE 5

static const char *const peer_names[] = { "fetchmail", "mpop", "getmail" };

int import_peer_parse(const char *s, enum import_peer *peer_r)
{
	for (size_t i = 0; i < sizeof peer_names / sizeof peer_names[0]; i++)
		if (strcmp(s, peer_names[i]) == 0) {
			*peer_r = (enum import_peer)i;
			return 0;
		}
	return -1;
}

/* One run's context. */
struct run {
	const struct import_opts *o;
	FILE *out;
	char *path;                  /* the peer's file */
	struct import_set set;
	const char **taken;          /* account names in use (config + this run) */
	size_t ntaken;
	struct config *existing;     /* the config as it loads now, or NULL */
	unsigned imported, failed, skipped;
};

/* --- files ------------------------------------------------------------------ */

/* "~/x" with $HOME, in a new string (NULL when HOME is unset or the
 * result is too long). */
static char *expand_home(const char *p)
{
	const char *home = getenv("HOME");

	if (p[0] != '~' || (p[1] != '/' && p[1] != '\0'))
		return strlen(p) < PF_PATH_MAX ? xstrdup(p) : NULL;
	if (home == NULL || home[0] == '\0')
		return NULL;
	return pf_join_path(home, p[1] ? p + 2 : "");
}

/* The peer's own default: fetchmail(1), mpop(1), getmail(1). */
static char *default_file(enum import_peer peer)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char *p, *x;

	if (peer == IMPORT_FETCHMAIL)
		return expand_home("~/.fetchmailrc");
	if (peer == IMPORT_GETMAIL)
		return expand_home("~/.getmail/getmailrc");
	p = expand_home("~/.mpoprc");
	if (p != NULL && access(p, F_OK) == 0)
		return p;
	free(p);
	x = xdg != NULL && xdg[0] == '/' ? xstrdup(xdg) : expand_home("~/.config");
	p = x != NULL ? pf_join_path(x, "mpop/config") : NULL;
	free(x);
	return p;
}

static int parse(struct run *r, const char *text, size_t len, struct pf_error *err)
{
	switch (r->o->peer) {
	case IMPORT_FETCHMAIL: return import_parse_fetchmail(text, len, &r->set, err);
	case IMPORT_MPOP: return import_parse_mpop(text, len, &r->set, err);
	default: return import_parse_getmail(text, len, &r->set, err);
	}
}

static int read_peer(struct run *r, struct pf_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	r->path = r->o->file != NULL ? xstrdup(r->o->file) : default_file(r->o->peer);
	if (r->path == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "cannot find the %s file: HOME is not set "
				    "(name the file)", peer_names[r->o->peer]);
	rc = import_read_file(r->path, IMPORT_FILE_MAX, &text, &len, err);
	if (rc == -2)
		return pf_error_set(err, PF_ERR_CONFIG, "%s does not exist (name the %s file "
				    "after --import %s)", r->path, peer_names[r->o->peer],
				    peer_names[r->o->peer]);
	if (rc < 0)
		return -1;
	rc = parse(r, text, len, err);
	pf_wipe(text, len);
	free(text);
	return rc;
}

/* --- UID state ---------------------------------------------------------------- */

/* mpop's uidls_file with %U and %H replaced, then ~ expanded. */
static char *mpop_state_path(const struct import_account *a)
{
	const char *t = a->state_file != NULL ? a->state_file : "~/.mpop_uidls/%U_at_%H";
	char buf[PF_PATH_MAX];
	size_t n = 0;

	for (; *t != '\0'; t++) {
		const char *put = NULL;

		if (t[0] == '%' && (t[1] == 'U' || t[1] == 'H'))
			put = t[1] == 'U' ? a->user : a->host;
		if (put != NULL) {
			if (n + strlen(put) >= sizeof buf)
				return NULL;
			memcpy(buf + n, put, strlen(put));
			n += strlen(put);
			t++;
		} else {
			if (n + 1 >= sizeof buf)
				return NULL;
			buf[n++] = *t;
		}
	}
	buf[n] = '\0';
	return expand_home(buf);
}

/* getmail's oldmail file for a: in its getmaildir (~/.getmail unless
 * --getmaildir said otherwise, which the rc file does not record), else
 * beside the rc file, where a getmaildir usually holds it too. */
static char *getmail_state_path(const struct run *r, const struct import_account *a)
{
	char name[2 * PF_NAME_MAX + 32], *dir, *p, *beside = NULL, *rcdir;
	int port = a->port ? a->port : a->tls == TLS_IMPLICIT ? 995 : 110;

	if (import_getmail_oldmail_name(a->host, port, a->user, name, sizeof name) < 0)
		return NULL;
	dir = expand_home(a->state_dir != NULL ? a->state_dir : "~/.getmail");
	p = dir != NULL ? pf_join_path(dir, name) : NULL;
	free(dir);
	if (p == NULL || access(p, F_OK) == 0 || a->state_dir != NULL)
		return p;
	rcdir = xstrdup(r->path);
	if (strrchr(rcdir, '/') != NULL) {
		*strrchr(rcdir, '/') = '\0';
		beside = pf_join_path(rcdir[0] ? rcdir : "/", name);
	}
	free(rcdir);
	if (beside != NULL && access(beside, F_OK) == 0) {
		free(p);
		return beside;
	}
	free(beside);
	return p;
}

static char *state_path(const struct run *r, const struct import_account *a)
{
	const char *fh = getenv("FETCHMAILHOME");

	switch (r->o->peer) {
	case IMPORT_FETCHMAIL:
		if (r->set.idfile != NULL)
			return expand_home(r->set.idfile);
		return fh != NULL && fh[0] == '/' ? pf_join_path(fh, ".fetchids")
						  : expand_home("~/.fetchids");
	case IMPORT_MPOP:
		return mpop_state_path(a);
	default:
		return getmail_state_path(r, a);
	}
}

static int parse_state(const struct run *r, const struct import_account *a, const char *text,
		       size_t len, struct import_uids *u, struct pf_error *err)
{
	switch (r->o->peer) {
	case IMPORT_FETCHMAIL: return import_state_fetchmail(text, len, a->user, a->host, u, err);
	case IMPORT_MPOP: return import_state_mpop(text, len, a->host, a->user, u, err);
	default: return import_state_getmail(text, len, u, err);
	}
}

/* a's UIDs into *u and the file read into *where_r.  0, or -1 with err
 * saying why the state is unusable.  Only a peer in delete mode may have
 * no state: it deleted what it fetched (fetchmail then removes its
 * idfile).  A peer in keep mode without state for the account is
 * unusable: importing it would fetch the whole mailbox again. */
static int find_state(const struct run *r, const struct import_account *a,
		      struct import_uids *u, char **where_r, struct pf_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (a->no_state != NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "%s", a->no_state);
	*where_r = state_path(r, a);
	if (*where_r == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "cannot name the UID state file (HOME is "
				    "not set, or the name is too long)");
	rc = import_read_file(*where_r, (size_t)IMPORT_STATE_MAX, &text, &len, err);
	if (rc == -2 && !a->keep) {
		free(*where_r);
		*where_r = NULL;
		return 0;
	}
	if (rc == -2)
		return pf_error_set(err, PF_ERR_CONFIG, "no UID state: %s does not exist",
				    *where_r);
	if (rc < 0)
		return -1;
	rc = parse_state(r, a, text, len, u, err);
	free(text);
	if (rc == 0 && !u->found && a->keep)
		return pf_error_set(err, PF_ERR_CONFIG, "no UIDs for %s at %s in %s", a->user,
				    a->host, *where_r);
	return rc;
}

/* --- one account ------------------------------------------------------------- */

static void print_notes(FILE *out, const struct import_notes *n, const char *indent)
{
	for (size_t i = 0; i < n->n; i++)
		fprintf(out, "%swarning: %s\n", indent, n->v[i]);
	if (n->dropped > 0)
		fprintf(out, "%swarning: %zu more notes not shown\n", indent, n->dropped);
}

static const struct provider *preset_for(const char *host)
{
	const struct provider *p;

	for (size_t i = 0; (p = provider_at(i)) != NULL; i++)
		if (p->host != NULL && strcasecmp(p->host, host) == 0)
			return p;
	return NULL;
}

/* The name of an account popfetch already has for the same mailbox (the
 * config, or this run), or NULL. */
static const char *same_mailbox(const struct run *r, size_t idx)
{
	const struct import_account *a = &r->set.acc[idx];

	for (size_t i = 0; r->existing != NULL && i < r->existing->naccounts; i++) {
		const struct account *e = &r->existing->accounts[i];

		if (e->host != NULL && e->user != NULL && strcasecmp(e->host, a->host) == 0 &&
		    strcmp(e->user, a->user) == 0)
			return e->name;
	}
	for (size_t i = 0; i < idx; i++) {
		const struct import_account *b = &r->set.acc[i];

		if (!b->skip && b->host != NULL && b->user != NULL &&
		    strcasecmp(b->host, a->host) == 0 && strcmp(b->user, a->user) == 0 &&
		    b->port == a->port)
			return b->label;
	}
	return NULL;
}

/* The peer's account name when it is a valid, free one (mpop), else one
 * derived from the user name. */
static int choose_name(struct run *r, const struct import_account *a,
		       char name[SETUP_NAME_MAX + 1])
{
	if (a->name != NULL && setup_name_ok(a->name) &&
	    !setup_name_taken(a->name, r->taken, r->ntaken)) {
		memcpy(name, a->name, strlen(a->name) + 1);
	} else if (setup_derive_name(a->user, r->taken, r->ntaken, name) < 0) {
		return -1;
	}
	r->taken = xrealloc(r->taken, (r->ntaken + 1) * sizeof *r->taken);
	r->taken[r->ntaken++] = xstrdup(name);
	return 0;
}

static void report_left_out(struct run *r, const struct import_account *a, const char *why)
{
	fprintf(r->out, "not imported: %s: %s\n", a->label ? a->label : "?", why);
	print_notes(r->out, &a->notes, "  ");
	r->failed++;
}

/* Prints or writes the account; uids NULL: adopt it. */
static void emit(struct run *r, struct import_write *w, const struct import_uids *uids,
		 const char *where, const char *why)
{
	struct pf_error err = { 0 };
	char *text, *path = NULL;

	fprintf(r->out, "account %s (%s)\n", w->name, w->a->label ? w->a->label : "?");
	if (uids != NULL)
		fprintf(r->out, "  UID state: %zu UIDs%s%s\n", uids->n, where ? " from " : "",
			where ? where : "");
	else
		fprintf(r->out, "  UID state: unusable (%s); --adopt records what the server "
			"holds when the account is written\n", why);
	print_notes(r->out, &w->a->notes, "  ");
	if (r->o->dry_run) {
		w->mask = 1;
		text = import_section_text(w, &err);
		if (text == NULL) {
			fprintf(r->out, "  would not be written: %s\n", err.msg);
			r->failed++;
			return;
		}
		fputs(text, r->out);
		pf_free_secret(text);
		r->imported++;
		return;
	}
	if (import_write_account(r->o->config_path, w, uids, r->out, &path, &err) < 0) {
		fprintf(r->out, "  not written: %s\n", err.msg);
		r->failed++;
		return;
	}
	fprintf(r->out, "  written to %s\n", path);
	free(path);
	r->imported++;
}

static void one_account(struct run *r, size_t idx)
{
	const struct import_account *a = &r->set.acc[idx];
	struct import_write w = { .a = a, .source = r->path, .maildir = r->o->maildir,
				  .keep = r->o->keep };
	struct import_uids uids = { 0 };
	struct pf_error err = { 0 };
	char name[SETUP_NAME_MAX + 1], *where = NULL;
	const char *dup;
	int usable;

	if (a->skip) {
		fprintf(r->out, "skipped: %s\n", a->label ? a->label : "?");
		print_notes(r->out, &a->notes, "  ");
		r->skipped++;
		return;
	}
	if (a->host == NULL || a->user == NULL) {
		report_left_out(r, a, a->host == NULL ? "no server host" : "no user name");
		return;
	}
	dup = same_mailbox(r, idx);
	if (dup != NULL) {
		fprintf(r->out, "skipped: %s: the same mailbox as %s\n", a->label, dup);
		r->skipped++;
		return;
	}
	usable = find_state(r, a, &uids, &where, &err) == 0;
	if (!usable && !r->o->adopt) {
		char why[PF_ERRMSG_MAX + 128];

		(void)snprintf(why, sizeof why, "%s; nothing written for it (add --adopt to record "
			       "what the server holds now instead)", err.msg);
		report_left_out(r, a, why);
	} else if (choose_name(r, a, name) < 0) {
		report_left_out(r, a, "no free account name");
	} else {
		w.name = name;
		w.preset = preset_for(a->host);
		emit(r, &w, usable ? &uids : NULL, where, err.msg);
	}
	import_uids_free(&uids);
	free(where);
}

/* --- the command ----------------------------------------------------------------- */

/* The names configured now, and the accounts (to find the same mailbox
 * twice).  A config that does not load is no error here: the new file's
 * trial load names the problem with its line. */
static void load_existing(struct run *r)
{
	struct pf_error e = { 0 };

	if (config_load(r->o->config_path, &r->existing, &e) < 0) {
		r->existing = NULL;
		return;
	}
	for (size_t i = 0; i < r->existing->naccounts; i++) {
		r->taken = xrealloc(r->taken, (r->ntaken + 1) * sizeof *r->taken);
		r->taken[r->ntaken++] = xstrdup(r->existing->accounts[i].name);
	}
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->ntaken; i++)
		free((char *)r->taken[i]);
	free(r->taken);
	config_free(r->existing);
	import_set_free(&r->set);
	free(r->path);
}

int import_run(const struct import_opts *o, FILE *out)
{
	struct run r = { .o = o, .out = out };
	struct pf_error err = { 0 };
	int code;

	if (read_peer(&r, &err) < 0) {
		fprintf(stderr, "popfetch: --import %s: %s\n", peer_names[o->peer], err.msg);
		run_free(&r);
		return EXIT_USAGE;
	}
	fprintf(out, "%s: %s: %zu %s\n", peer_names[o->peer], r.path, r.set.n,
		r.set.n == 1 ? "account" : "accounts");
	print_notes(out, &r.set.notes, "");
	load_existing(&r);
	for (size_t i = 0; i < r.set.n; i++)
		one_account(&r, i);
	fprintf(out, "%s %u, skipped %u, not imported %u%s\n",
		o->dry_run ? "would import" : "imported", r.imported, r.skipped, r.failed,
		o->dry_run ? " (--dry-run: nothing written)" : "");
	code = r.failed > 0 ? EXIT_USAGE : 0;
	run_free(&r);
	return code;
}

/* --- --adopt ---------------------------------------------------------------- */

/* The question goes to the terminal itself, so a script piping stdin
 * cannot answer it by accident: scripts say --yes. */
static int confirm(const struct account *a, FILE *out, struct pf_error *err)
{
	FILE *tty = fopen("/dev/tty", "r+e");
	struct setup_io io = { .in = tty, .out = tty, .echo_fd = -1 };
	char q[PF_NAME_MAX * 2 + 256];
	int yes = 0, rc;

	if (tty == NULL)
		return pf_error_set(err, PF_ERR_CONFIG, "--adopt asks for confirmation on a "
				    "terminal; give --yes to run it without one");
	(void)snprintf(q, sizeof q, "Record every message now on %s for %s as delivered, "
		       "downloading none%s", a->host, a->user,
		       a->keep ? "" : " (keep = false: the next poll DELETES them from the "
		       "server)");
	rc = setup_ask_yes_no(&io, q, 0, "--yes", &yes, err);
	fclose(tty);
	if (rc == 0 && !yes)
		rc = pf_error_set(err, PF_ERR_CONFIG, "not confirmed: nothing recorded");
	(void)out;
	return rc;
}

int import_adopt(const struct config *cfg, const char *name, int yes, FILE *out)
{
	const struct account *a = config_find(cfg, name);
	struct pf_error err = { 0 };
	unsigned long listed, recorded;

	if (a == NULL) {
		fprintf(stderr, "popfetch: no account '%s' in %s\n", name, cfg->path);
		return EXIT_USAGE;
	}
	if ((!yes && confirm(a, out, &err) < 0) ||
	    fetch_adopt(cfg, a, &listed, &recorded, &err) < 0) {
		fprintf(stderr, "popfetch: %s: %s\n", name, err.msg);
		return pf_error_exit_code(err.cls);
	}
	fprintf(out, "%s: recorded %lu UIDs as delivered (%lu messages on the server, %lu "
		"known before); nothing was downloaded or deleted\n", name, recorded, listed,
		listed - recorded);
	return 0;
}
