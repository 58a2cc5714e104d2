/* test_delivery.c - delivery.h's contract, checked against every
 * destination that runs without a server: pending is journalled before a
 * reader can see a message, durable is reported only for what a reader
 * sees, an aborted message leaves nothing, a failed journal publishes
 * nothing, and delivery_has() knows what was delivered. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "delivery.h"

struct fx {
	char dir[64];
	char path[128];
	struct config cfg;
	struct account acct;
	struct delivery *d;
};

/* What the journal callbacks saw. */
struct log {
	struct fx *fx;
	int pending_calls, durable_calls;
	size_t pending_n, durable_n;
	size_t visible_at_pending; /* messages a reader saw when pending came */
	int fail_pending;
	char names[8][PF_NAME_MAX + 1];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int count_dir(const char *path, const char *sub)
{
	char p[256];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof p, "%s/%s", path, sub);
	d = opendir(p);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Messages a mail reader would see now. */
static size_t visible(const struct fx *fx)
{
	return (size_t)(count_dir(fx->path, "new") + count_dir(fx->path, "cur"));
}

static int setup_kind(void **state, enum dest_kind kind)
{
	struct fx *fx = calloc(1, sizeof *fx);
	struct pf_error err = { 0 };

	if (fx == NULL)
		return -1;
	strcpy(fx->dir, "/tmp/pf-test-delivery-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof fx->path, "%s/Mail", fx->dir);
	fx->cfg.state_dir = fx->dir;
	fx->acct.name = "work";
	fx->acct.dest = kind;
	fx->acct.maildir = fx->path;
	fx->d = delivery_open(&fx->cfg, &fx->acct, &err);
	if (fx->d == NULL) {
		fprintf(stderr, "delivery_open: %s\n", err.msg);
		return -1;
	}
	*state = fx;
	return 0;
}

static int setup_maildir(void **state)
{
	return setup_kind(state, DEST_MAILDIR);
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	delivery_close(fx->d);
	(void)nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static int cb_pending(void *ctx, struct delivery_item *items, size_t n, struct pf_error *err)
{
	struct log *lg = ctx;

	lg->pending_calls++;
	lg->visible_at_pending = visible(lg->fx);
	for (size_t i = 0; i < n; i++) {
		assert_true(items[i].name[0] != '\0');
		if (lg->pending_n < 8)
			strcpy(lg->names[lg->pending_n], items[i].name);
		lg->pending_n++;
	}
	if (lg->fail_pending)
		return pf_error_set(err, PF_ERR_LOCAL, "uid store: no space");
	return 0;
}

static int cb_durable(void *ctx, struct delivery_item *items, size_t n, struct pf_error *err)
{
	struct log *lg = ctx;

	(void)items, (void)err;
	lg->durable_calls++;
	lg->durable_n += n;
	/* Reported durable: a reader sees every one of them already. */
	assert_true(visible(lg->fx) >= lg->durable_n);
	return 0;
}

/* Writes a small message into items[i] through the interface. */
static void put(struct fx *fx, struct delivery_item *it, size_t tag, const char *text)
{
	struct pf_error err = { 0 };
	uint64_t lines = 0;

	memset(it, 0, sizeof *it);
	it->uid = "uid";
	it->tag = tag;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(delivery_msg_begin(fx->d, it, &err), 0);
	assert_int_equal(delivery_msg_write(fx->d, it, text, strlen(text), &err), 0);
	assert_int_equal(delivery_msg_end(fx->d, it, strlen(text), lines, &err), 0);
}

static void commit_journals_before_a_reader_sees__when_committed__then_durable_visible(
	void **state)
{
	struct fx *fx = *state;
	struct log lg = { .fx = fx };
	struct delivery_journal j = { cb_pending, cb_durable, &lg };
	struct delivery_item items[3];
	struct pf_error err = { 0 };

	for (size_t i = 0; i < 3; i++)
		put(fx, &items[i], i, "Subject: x\n\nbody\n");
	assert_int_equal(delivery_commit(fx->d, items, 3, &j, &err), 0);
	assert_int_equal(lg.pending_n, 3);
	assert_int_equal(lg.durable_n, 3);
	assert_int_equal(lg.visible_at_pending, 0);
	assert_int_equal(visible(fx), 3);
	for (size_t i = 0; i < 3; i++)
		delivery_msg_abort(fx->d, &items[i]); /* frees; must not undo */
	assert_int_equal(visible(fx), 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(delivery_has(fx->d, lg.names[i], &err), 1);
}

static void abort__when_message_dropped__then_nothing_left(void **state)
{
	struct fx *fx = *state;
	struct log lg = { .fx = fx };
	struct delivery_journal j = { cb_pending, cb_durable, &lg };
	struct delivery_item dropped, kept;
	struct pf_error err = { 0 };

	put(fx, &dropped, 0, "Subject: dropped\n\nbody\n");
	delivery_msg_abort(fx->d, &dropped);
	put(fx, &kept, 1, "Subject: kept\n\nbody\n");
	assert_int_equal(delivery_commit(fx->d, &kept, 1, &j, &err), 0);
	delivery_msg_abort(fx->d, &kept);
	assert_int_equal(visible(fx), 1);
	assert_int_equal(lg.durable_n, 1);
}

static void abort__when_write_half_done__then_nothing_left(void **state)
{
	struct fx *fx = *state;
	struct delivery_item it = { .uid = "u" };
	struct pf_error err = { 0 };

	assert_int_equal(delivery_msg_begin(fx->d, &it, &err), 0);
	assert_int_equal(delivery_msg_write(fx->d, &it, "Subject: half", 13, &err), 0);
	delivery_msg_abort(fx->d, &it);
	assert_null(it.impl);
	assert_int_equal(visible(fx), 0);
}

static void journal_fails__when_pending_not_durable__then_nothing_published(void **state)
{
	struct fx *fx = *state;
	struct log lg = { .fx = fx, .fail_pending = 1 };
	struct delivery_journal j = { cb_pending, cb_durable, &lg };
	struct delivery_item items[2];
	struct pf_error err = { 0 };

	put(fx, &items[0], 0, "Subject: a\n\nbody\n");
	put(fx, &items[1], 1, "Subject: b\n\nbody\n");
	assert_int_equal(delivery_commit(fx->d, items, 2, &j, &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, "uid store"));
	assert_int_equal(lg.durable_calls, 0);
	for (size_t i = 0; i < 2; i++)
		delivery_msg_abort(fx->d, &items[i]);
	assert_int_equal(visible(fx), 0);
	assert_int_equal(delivery_has(fx->d, lg.names[0], &err), 0);
	assert_int_equal(delivery_has(fx->d, lg.names[1], &err), 0);
}

static void has__when_name_never_delivered__then_0(void **state)
{
	struct fx *fx = *state;
	struct pf_error err = { 0 };

	assert_int_equal(delivery_has(fx->d, "1700000000.M1P1Q1.host,S=1,W=2", &err), 0);
	assert_string_equal(delivery_kind(fx->d), "maildir");
}

static void open__when_kind_unknown__then_config_error(void **state)
{
	struct config cfg = { .state_dir = "/tmp" };
	struct account a = { .name = "x", .dest = (enum dest_kind)99 };
	struct pf_error err = { 0 };

	(void)state;
	assert_null(delivery_ops_find(a.dest));
	assert_null(delivery_open(&cfg, &a, &err));
	assert_int_equal(err.cls, PF_ERR_CONFIG);
	assert_non_null(delivery_ops_find(DEST_MAILDIR));
}

int main(void)
{
#define T(fn, s) cmocka_unit_test_setup_teardown(fn, s, teardown)
	const struct CMUnitTest tests[] = {
		T(commit_journals_before_a_reader_sees__when_committed__then_durable_visible,
		  setup_maildir),
		T(abort__when_message_dropped__then_nothing_left, setup_maildir),
		T(abort__when_write_half_done__then_nothing_left, setup_maildir),
		T(journal_fails__when_pending_not_durable__then_nothing_published, setup_maildir),
		T(has__when_name_never_delivered__then_0, setup_maildir),
		cmocka_unit_test(open__when_kind_unknown__then_config_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
