/* test_rebuild.c - the uid store regenerated from the Maildir's
 * X-Popfetch-UIDL lines: found, not invented, and safe when it fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rebuild.h"
#include "uidstore.h"

static char dir[] = "/tmp/test_rebuild.XXXXXX";
static char md_path[256], state[256];

static void put(const char *sub, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s/%s", md_path, sub, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **st)
{
	char cmd[1200];

	(void)st;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(md_path, sizeof md_path, "%s/Maildir", dir);
	snprintf(state, sizeof state, "%s/state", dir);
	snprintf(cmd, sizeof cmd, "mkdir -p %s/new %s/cur %s/tmp %s", md_path, md_path, md_path,
		 state);
	return system(cmd);
}

static int teardown(void **st)
{
	char cmd[256];

	(void)st;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static void config_for(struct config *cfg, struct account *a)
{
	memset(cfg, 0, sizeof *cfg);
	memset(a, 0, sizeof *a);
	a->name = "work";
	a->host = "pop.example.com";
	a->user = "me";
	a->maildir = md_path;
	cfg->state_dir = state;
	cfg->accounts = a;
	cfg->naccounts = 1;
}

static void rebuild__finds_new_and_cur__ignores_others(void **st)
{
	struct config cfg;
	struct account a;
	struct pf_error err = { 0 };
	struct uidstore *s;
	const char *name;
	size_t found = 0;

	(void)st;
	put("new", "1.M1P1Q1.h,S=40,W=42", "X-Popfetch-UIDL: work uid-one\nSubject: a\n\nx\n");
	put("cur", "2.M2P2Q2.h,S=40,W=42:2,S", "X-Popfetch-UIDL: work uid/two\nSubject: b\n\n");
	put("cur", "3.M3P3Q3.h:2,", "X-Popfetch-UIDL: other uid-three\n\n");
	put("new", "4.M4P4Q4.h", "Subject: not from popfetch\n\n");
	put("new", "5.M5P5Q5.h", "X-Popfetch-UIDL: work bad\x01uid\n\n");
	config_for(&cfg, &a);
	assert_int_equal(rebuild_state(&cfg, &a, &found, &err), 0);
	assert_int_equal(found, 2);
	s = uidstore_open(state, "work", "pop.example.com", "me", &err);
	assert_non_null(s);
	assert_int_equal(uidstore_get(s, "uid-one", &name), UID_DELIVERED);
	assert_string_equal(name, "1.M1P1Q1.h,S=40,W=42");
	/* cur/NAME:2,FLAGS is recorded as NAME, which maildir_has matches. */
	assert_int_equal(uidstore_get(s, "uid/two", &name), UID_DELIVERED);
	assert_string_equal(name, "2.M2P2Q2.h,S=40,W=42");
	assert_int_equal(uidstore_get(s, "uid-three", NULL), UID_UNKNOWN);
	assert_int_equal(uidstore_count(s), 2);
	uidstore_close(s);
}

static void rebuild__keeps_a_corrupted_store_as_bak(void **st)
{
	struct config cfg;
	struct account a;
	struct pf_error err = { 0 };
	char path[512];
	struct stat sb;
	size_t found;
	FILE *f;

	(void)st;
	snprintf(path, sizeof path, "%s/work.uids", state);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("garbage that is no uid store\n", f);
	fclose(f);
	config_for(&cfg, &a);
	assert_int_equal(rebuild_state(&cfg, &a, &found, &err), 0);
	snprintf(path, sizeof path, "%s/work.uids.bak", state);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof path, "%s/work~rebuild.uids", state);
	assert_int_equal(stat(path, &sb), -1);
}

static void rebuild__missing_maildir__is_created_empty(void **st)
{
	struct config cfg;
	struct account a;
	struct pf_error err = { 0 };
	size_t found = 99;
	char md2[300];
	struct stat sb;

	(void)st;
	snprintf(md2, sizeof md2, "%s/not-yet/Maildir", dir);
	config_for(&cfg, &a);
	a.name = "fresh";
	a.maildir = md2;
	assert_int_equal(rebuild_state(&cfg, &a, &found, &err), 0);
	assert_int_equal(found, 0);
	strcat(md2, "/cur");
	assert_int_equal(stat(md2, &sb), 0);
}

/* A store of another server's UIDs: rebuilding would bind them to this
 * account's server.  Refused, and the store is left as it was; after
 * --rebind-state the rebuild goes ahead. */
static void rebuild__refuses_a_store_bound_to_another_server(void **st)
{
	struct config cfg;
	struct account a;
	struct pf_error err = { 0 };
	enum rebind_outcome o;
	struct uidstore *s;
	size_t found = 0;

	(void)st;
	config_for(&cfg, &a);
	a.name = "moved";
	s = uidstore_open(state, "moved", "pop.old.example", "me", &err);
	assert_non_null(s);
	assert_int_equal(uidstore_set_delivered(s, "old-uid", "9.M9P9Q9.h", 1, &err), 0);
	assert_int_equal(uidstore_commit(s, &err), 0);
	uidstore_close(s);
	put("new", "6.M6P6Q6.h", "X-Popfetch-UIDL: moved uid-six\n\n");
	assert_int_equal(rebuild_state(&cfg, &a, &found, &err), -1);
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "me at pop.old.example"));
	assert_non_null(strstr(err.msg, "--rebind-state moved"));
	s = uidstore_open(state, "moved", "pop.old.example", "me", &err);
	assert_non_null(s);
	assert_int_equal(uidstore_get(s, "old-uid", NULL), UID_DELIVERED);
	assert_int_equal(uidstore_get(s, "uid-six", NULL), UID_UNKNOWN);
	uidstore_close(s);
	memset(&err, 0, sizeof err);
	assert_int_equal(rebuild_rebind(&cfg, &a, &o, &err), 0);
	assert_int_equal(o, REBIND_DONE);
	assert_int_equal(rebuild_rebind(&cfg, &a, &o, &err), 0);
	assert_int_equal(o, REBIND_ALREADY);
	assert_int_equal(rebuild_state(&cfg, &a, &found, &err), 0);
	assert_int_equal(found, 1);
}

static void fresh__moves_the_store_aside(void **st)
{
	struct config cfg;
	struct account a;
	struct pf_error err = { 0 };
	enum rebind_outcome o;
	struct uidstore *s;
	char aside[256];

	(void)st;
	config_for(&cfg, &a);
	a.name = "other";
	assert_int_equal(rebuild_fresh(&cfg, &a, aside, sizeof aside, &err), 0);
	assert_string_equal(aside, "");                  /* no store: nothing to move */
	assert_int_equal(rebuild_rebind(&cfg, &a, &o, &err), 0);
	assert_int_equal(o, REBIND_NO_STORE);
	s = uidstore_open(state, "other", "pop.old.example", "me", &err);
	assert_non_null(s);
	uidstore_close(s);
	assert_int_equal(rebuild_fresh(&cfg, &a, aside, sizeof aside, &err), 0);
	assert_non_null(strstr(aside, "pop.old.example"));
	assert_int_equal(uidstore_exists(state, "other", &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rebuild__finds_new_and_cur__ignores_others),
		cmocka_unit_test(rebuild__keeps_a_corrupted_store_as_bak),
		cmocka_unit_test(rebuild__missing_maildir__is_created_empty),
		cmocka_unit_test(rebuild__refuses_a_store_bound_to_another_server),
		cmocka_unit_test(fresh__moves_the_store_aside),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
