/* test_delivery_mda.c - the MDA destination through delivery.h: the whole
 * batch is journalled pending before any MDA runs, each message is
 * recorded durable alone and only after its exit 0, exit 75 and other
 * failures are not delivered and the poll goes on (commit returns 1 with
 * the first reason), the MDA gets the message byte for byte (optionally
 * after an mbox From line) and the documented variables, the deadline
 * kills a stuck MDA, an aborted message leaves nothing, and has() never
 * claims a delivery it cannot know. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "delivery.h"
#include "util.h"

struct fx {
	char dir[64];
	char out[128];          /* where the test MDA writes */
	char cmd[1024];
	struct config cfg;
	struct account acct;
	struct delivery *d;
};

/* What the journal saw, in order: "P:uid" and "D:uid" entries. */
struct jlog {
	struct fx *fx;
	char seq[64][80];
	size_t n;
	size_t files_at_pending;  /* files the MDA had written when pending came */
};

static size_t count_files(const char *dir)
{
	char cmd[256];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	if (p == NULL || fscanf(p, "%zu", &n) != 1)
		n = 999;
	if (p != NULL)
		pclose(p);
	return n;
}

static int j_pending(void *ctx, struct delivery_item *items, size_t n, struct pf_error *err)
{
	struct jlog *l = ctx;

	(void)err;
	l->files_at_pending = count_files(l->fx->out);
	for (size_t i = 0; i < n && l->n < 64; i++)
		snprintf(l->seq[l->n++], sizeof l->seq[0], "P:%s", items[i].uid);
	return 0;
}

static int j_durable(void *ctx, struct delivery_item *items, size_t n, struct pf_error *err)
{
	struct jlog *l = ctx;

	(void)err;
	for (size_t i = 0; i < n && l->n < 64; i++)
		snprintf(l->seq[l->n++], sizeof l->seq[0], "D:%s", items[i].uid);
	if (n == 0 && l->n < 64)
		snprintf(l->seq[l->n++], sizeof l->seq[0], "sync");
	return 0;
}

/* Taken: recorded without an fsync; a later durable() syncs. */
static int j_taken(void *ctx, struct delivery_item *items, size_t n, struct pf_error *err)
{
	struct jlog *l = ctx;

	(void)err;
	for (size_t i = 0; i < n && l->n < 64; i++)
		snprintf(l->seq[l->n++], sizeof l->seq[0], "T:%s", items[i].uid);
	return 0;
}

/* Taken, failing for u4 (a uid store that cannot be written). */
static int j_taken_fails_u4(void *ctx, struct delivery_item *items, size_t n,
			    struct pf_error *err)
{
	if (n == 1 && strcmp(items[0].uid, "u4") == 0)
		return pf_error_set(err, PF_ERR_LOCAL, "cannot write the uid store");
	return j_taken(ctx, items, n, err);
}

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);

	snprintf(fx->dir, sizeof fx->dir, "/tmp/test_delivery_mda.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->out, sizeof fx->out, "%s/out", fx->dir);
	if (mkdir(fx->out, 0700) < 0)
		return -1;
	fx->cfg.state_dir = fx->dir;
	fx->acct.name = "work";
	fx->acct.dest = DEST_MDA;
	fx->acct.mda_timeout = 10;
	/* u2 defers, u3 fails with a message, the rest are stored under
	 * their (escaped) UID with the variables beside them. */
	snprintf(fx->cmd, sizeof fx->cmd,
		 "case \"$POPFETCH_UID\" in u2) exit 75;; u3) echo 'broken: no space' >&2; "
		 "exit 1;; esac; cat > '%s/'\"$POPFETCH_UID\" && "
		 "env | grep ^POPFETCH_ | sort > '%s/'\"$POPFETCH_UID\".env",
		 fx->out, fx->out);
	fx->acct.mda = fx->cmd;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	delivery_close(fx->d);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static void open_dest(struct fx *fx)
{
	struct pf_error err = { 0 };

	fx->d = delivery_open(&fx->cfg, &fx->acct, &err);
	if (fx->d == NULL)
		fail_msg("delivery_open: %s", err.msg);
	assert_string_equal(delivery_kind(fx->d), "mda");
}

/* Writes text into a begun item in chunks of 5 bytes. */
static void put_msg(struct fx *fx, struct delivery_item *it, const char *uid, const char *text)
{
	struct pf_error err = { 0 };
	size_t len = strlen(text);

	it->uid = uid;
	assert_int_equal(delivery_msg_begin(fx->d, it, &err), 0);
	for (size_t off = 0; off < len; off += 5)
		assert_int_equal(delivery_msg_write(fx->d, it, text + off,
						    len - off < 5 ? len - off : 5, &err), 0);
	assert_int_equal(delivery_msg_end(fx->d, it, len, 0, &err), 0);
}

static char *slurp(const char *dir, const char *name)
{
	char path[256];
	FILE *f;
	char *buf = xcalloc(1, 65536);

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "r");
	if (f == NULL) {
		free(buf);
		return NULL;
	}
	(void)fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static const char msg1[] = "Return-Path: <alice@example.org>\nSubject: one\n\nFrom here\n.\n";
static const char msg4[] = "Subject: four\n\nbody\n";

static void batch__pending_first_durable_each_refusals_go_on(void **state)
{
	struct fx *fx = *state;
	struct delivery_item items[4];
	struct jlog l = { .fx = fx };
	const struct delivery_journal j = { j_pending, j_durable, &l, j_taken };
	struct pf_error err = { 0 };
	char *got;

	memset(items, 0, sizeof items);
	open_dest(fx);
	put_msg(fx, &items[0], "u1", msg1);
	put_msg(fx, &items[1], "u2", "Subject: two\n\n2\n");
	put_msg(fx, &items[2], "u3", "Subject: three\n\n3\n");
	put_msg(fx, &items[3], "u4", msg4);
	assert_int_equal(delivery_commit(fx->d, items, 4, &j, &err), 1);
	/* Pending for all four before the first MDA ran; then u1 and u4
	 * alone, each taken right after its own run; one sync at the end,
	 * before the commit returns (and so before any DELE). */
	assert_int_equal(l.files_at_pending, 0);
	assert_int_equal(l.n, 7);
	assert_string_equal(l.seq[0], "P:u1");
	assert_string_equal(l.seq[3], "P:u4");
	assert_string_equal(l.seq[4], "T:u1");
	assert_string_equal(l.seq[5], "T:u4");
	assert_string_equal(l.seq[6], "sync");
	/* The first reason is kept for the end of the poll. */
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, "u2"));
	assert_non_null(strstr(err.msg, "exit status 75"));
	got = slurp(fx->out, "u1");
	assert_non_null(got);
	assert_string_equal(got, msg1); /* byte for byte, no From line */
	free(got);
	got = slurp(fx->out, "u1.env");
	assert_non_null(got);
	assert_non_null(strstr(got, "POPFETCH_ACCOUNT=work\n"));
	assert_non_null(strstr(got, "POPFETCH_SENDER=alice@example.org\n"));
	assert_non_null(strstr(got, "POPFETCH_UID=u1\n"));
	free(got);
	got = slurp(fx->out, "u4.env");
	assert_non_null(strstr(got, "POPFETCH_SIZE=20\n"));
	assert_non_null(strstr(got, "POPFETCH_SENDER=\n"));
	free(got);
	assert_null(slurp(fx->out, "u2"));
	assert_null(slurp(fx->out, "u3"));
	for (int i = 0; i < 4; i++)
		delivery_msg_abort(fx->d, &items[i]);
	/* An MDA cannot be asked: a pending name is never taken as delivered. */
	assert_int_equal(delivery_has(fx->d, items[0].name, &err), 0);
}

/* A commit that fails after some messages were taken still syncs what was
 * recorded of them before it returns: a taken record is never left
 * unsynced by a commit, whatever the caller does next. */
static void batch__failure_after_taken_still_syncs(void **state)
{
	struct fx *fx = *state;
	struct delivery_item items[2];
	struct jlog l = { .fx = fx };
	const struct delivery_journal j = { j_pending, j_durable, &l, j_taken_fails_u4 };
	struct pf_error err = { 0 };

	memset(items, 0, sizeof items);
	open_dest(fx);
	put_msg(fx, &items[0], "u1", msg1);
	put_msg(fx, &items[1], "u4", msg4);
	assert_int_equal(delivery_commit(fx->d, items, 2, &j, &err), -1);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.seq[0], "P:u1");
	assert_string_equal(l.seq[1], "P:u4");
	assert_string_equal(l.seq[2], "T:u1");
	assert_string_equal(l.seq[3], "sync");
	for (int i = 0; i < 2; i++)
		delivery_msg_abort(fx->d, &items[i]);
}

static void from_line__and_escaped_uid(void **state)
{
	struct fx *fx = *state;
	struct delivery_item items[2];
	struct jlog l = { .fx = fx };
	const struct delivery_journal j = { j_pending, j_durable, &l, j_taken };
	struct pf_error err = { 0 };
	char *got;

	memset(items, 0, sizeof items);
	fx->acct.mda_from_line = 1;
	open_dest(fx);
	put_msg(fx, &items[0], "a$(x)", msg1);
	put_msg(fx, &items[1], "b", msg4);
	assert_int_equal(delivery_commit(fx->d, items, 2, &j, &err), 0);
	/* The UID reaches the MDA escaped: "$(x)" is not run by anyone. */
	got = slurp(fx->out, "a%24%28x%29");
	assert_non_null(got);
	assert_memory_equal(got, "From alice@example.org ", 23);
	assert_string_equal(strchr(got, '\n') + 1, msg1);
	free(got);
	got = slurp(fx->out, "b");
	assert_memory_equal(got, "From MAILER-DAEMON ", 19);
	/* "From X Www Mmm dd hh:mm:ss yyyy": asctime's 24 characters. */
	assert_int_equal(strchr(got, '\n') - got, (long)strlen("From MAILER-DAEMON ") + 24);
	assert_string_equal(strchr(got, '\n') + 1, msg4);
	free(got);
	got = slurp(fx->out, "b.env");
	/* The size is what stdin carried, From line included. */
	assert_non_null(strstr(got, "POPFETCH_SIZE=64\n"));
	free(got);
	for (int i = 0; i < 2; i++)
		delivery_msg_abort(fx->d, &items[i]);
}

static void abort__leaves_nothing_and_the_spool_is_reused(void **state)
{
	struct fx *fx = *state;
	struct delivery_item items[2], cut;
	struct jlog l = { .fx = fx };
	const struct delivery_journal j = { j_pending, j_durable, &l, j_taken };
	const struct delivery_journal j_plain = { j_pending, j_durable, &l, NULL };
	struct pf_error err = { 0 };
	char *got;

	memset(items, 0, sizeof items);
	memset(&cut, 0, sizeof cut);
	open_dest(fx);
	put_msg(fx, &items[0], "u1", msg1);
	/* A download cut short: begun, half written, aborted. */
	cut.uid = "cut";
	assert_int_equal(delivery_msg_begin(fx->d, &cut, &err), 0);
	assert_int_equal(delivery_msg_write(fx->d, &cut, "Subject: half", 13, &err), 0);
	delivery_msg_abort(fx->d, &cut);
	put_msg(fx, &items[1], "u4", msg4);
	assert_int_equal(delivery_commit(fx->d, items, 2, &j, &err), 0);
	got = slurp(fx->out, "u4");
	assert_string_equal(got, msg4);
	free(got);
	assert_null(slurp(fx->out, "cut"));
	for (int i = 0; i < 2; i++)
		delivery_msg_abort(fx->d, &items[i]);
	/* A second batch after the spool emptied, with a pipeline that offers
	 * no taken(): each message is recorded durably on its own. */
	l.n = 0;
	put_msg(fx, &items[0], "u5", msg4);
	assert_int_equal(delivery_commit(fx->d, items, 1, &j_plain, &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.seq[1], "D:u5");
	got = slurp(fx->out, "u5");
	assert_string_equal(got, msg4);
	free(got);
	delivery_msg_abort(fx->d, &items[0]);
}

/* stdin is a regular file holding the whole message (From line
 * included): an MDA never reads a clean EOF half-way if popfetch dies. */
static void stdin__is_a_whole_file(void **state)
{
	struct fx *fx = *state;
	struct delivery_item it;
	struct jlog l = { .fx = fx };
	const struct delivery_journal j = { j_pending, j_durable, &l, j_taken };
	struct pf_error err = { 0 };
	char *got;

	memset(&it, 0, sizeof it);
	snprintf(fx->cmd, sizeof fx->cmd,
		 "[ -f /dev/stdin ] && [ \"$(stat -L -c %%s /dev/stdin)\" = \"$POPFETCH_SIZE\" ] "
		 "&& cat > '%s/u1'", fx->out);
	fx->acct.mda_from_line = 1;
	open_dest(fx);
	put_msg(fx, &it, "u1", msg1);
	assert_int_equal(delivery_commit(fx->d, &it, 1, &j, &err), 0);
	got = slurp(fx->out, "u1");
	assert_non_null(got);
	assert_string_equal(strchr(got, '\n') + 1, msg1);
	free(got);
	delivery_msg_abort(fx->d, &it);
}

static void deadline__stuck_mda_is_not_delivered(void **state)
{
	struct fx *fx = *state;
	struct delivery_item it;
	struct jlog l = { .fx = fx };
	const struct delivery_journal j = { j_pending, j_durable, &l, NULL };
	struct pf_error err = { 0 };
	int64_t t0;

	memset(&it, 0, sizeof it);
	fx->acct.mda = "cat >/dev/null; sleep 30";
	fx->acct.mda_timeout = 1;
	open_dest(fx);
	put_msg(fx, &it, "u1", msg1);
	t0 = pf_now_ms();
	assert_int_equal(delivery_commit(fx->d, &it, 1, &j, &err), 1);
	assert_true(pf_now_ms() - t0 < 5000);
	assert_non_null(strstr(err.msg, "deadline"));
	assert_int_equal(l.n, 1); /* pending only, never durable, no sync */
	delivery_msg_abort(fx->d, &it);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(batch__failure_after_taken_still_syncs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(batch__pending_first_durable_each_refusals_go_on,
						setup, teardown),
		cmocka_unit_test_setup_teardown(from_line__and_escaped_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(abort__leaves_nothing_and_the_spool_is_reused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(stdin__is_a_whole_file, setup, teardown),
		cmocka_unit_test_setup_teardown(deadline__stuck_mda_is_not_delivered, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
