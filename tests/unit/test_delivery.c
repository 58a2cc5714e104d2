/* test_delivery.c - delivery.h's contract, checked against every
 * destination that runs without a server (Maildir, mbox): pending is
 * journalled before a reader can see a message, durable is reported only
 * for what a reader sees, an aborted message leaves nothing, a failed
 * journal publishes nothing, and delivery_has() knows what was delivered.
 * Then the mbox alone: mboxrd quoting at every split point and its
 * reversal, the From_ line, a torn append cut back, another program's
 * data left alone, and the locks (fcntl, dotlock, a stale dotlock). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "delivery.h"
#include "delivery_mbox_fmt.h"

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

/* The whole file at path in a new NUL-terminated buffer (*len_r bytes). */
static char *slurp(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	*len_r = 0;
	if (fp == NULL)
		return calloc(1, 1);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len_r = (size_t)n;
	return buf;
}

/* mbox messages: From_ lines at the start or after a blank line. */
static size_t count_mbox(const char *path)
{
	size_t len, n = 0;
	char *buf = slurp(path, &len);

	for (size_t i = 0; i + 5 <= len; i++)
		if (strncmp(buf + i, "From ", 5) == 0 &&
		    (i == 0 || (i >= 2 && buf[i - 1] == '\n' && buf[i - 2] == '\n')))
			n++;
	free(buf);
	return n;
}

/* Messages a mail reader would see now. */
static size_t visible(const struct fx *fx)
{
	if (fx->acct.dest == DEST_MBOX)
		return count_mbox(fx->path);
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
	fx->acct.mbox = fx->path;
	fx->acct.mbox_lock_timeout = 1;
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

static int setup_mbox(void **state)
{
	return setup_kind(state, DEST_MBOX);
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
	struct delivery_journal j = { cb_pending, cb_durable, &lg, NULL };
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
	struct delivery_journal j = { cb_pending, cb_durable, &lg, NULL };
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
	struct delivery_journal j = { cb_pending, cb_durable, &lg, NULL };
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
	assert_int_equal(delivery_has(fx->d, "mbox,O=0,L=10,H=0123456789abcdef", &err), 0);
	assert_string_equal(delivery_kind(fx->d), fx->acct.dest == DEST_MBOX ? "mbox" : "maildir");
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


/* --- mbox ----------------------------------------------------------------- */

struct sink {
	char buf[4096];
	size_t len;
};

static int to_sink(void *ctx, const void *buf, size_t len)
{
	struct sink *sk = ctx;

	assert_true(sk->len + len < sizeof sk->buf);
	memcpy(sk->buf + sk->len, buf, len);
	sk->len += len;
	return 0;
}

/* The mboxrd reader's side: one '>' less on every ^>+From  line. */
static size_t unquote(const char *in, size_t len, char *out)
{
	size_t o = 0, i = 0;

	while (i < len) {
		size_t g = 0;

		while (i + g < len && in[i + g] == '>')
			g++;
		if (g > 0 && i + g + 5 <= len && strncmp(in + i + g, "From ", 5) == 0)
			i++; /* drop one '>' */
		while (i < len) {
			out[o++] = in[i];
			if (in[i++] == '\n')
				break;
		}
	}
	return o;
}

static const char quote_in[] =
	"From: a@example.org\n"
	"Subject: From the start\n"
	"\n"
	"From here\n"
	">From there\n"
	">>From everywhere\n"
	"Fro\n"
	">>>\n"
	"From\n"
	"\n"
	">>From";
static const char quote_out[] =
	"From: a@example.org\n"
	"Subject: From the start\n"
	"\n"
	">From here\n"
	">>From there\n"
	">>>From everywhere\n"
	"Fro\n"
	">>>\n"
	"From\n"
	"\n"
	">>From\n"
	"\n";

static void quote__when_split_anywhere__then_mboxrd_and_reversible(void **state)
{
	size_t len = strlen(quote_in);
	char back[4096];

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		struct mbox_quote q;
		struct sink sk = { .len = 0 };

		mbox_quote_init(&q);
		assert_int_equal(mbox_quote(&q, quote_in, cut, to_sink, &sk), 0);
		assert_int_equal(mbox_quote(&q, quote_in + cut, len - cut, to_sink, &sk), 0);
		assert_int_equal(mbox_quote_end(&q, to_sink, &sk), 0);
		sk.buf[sk.len] = '\0';
		assert_string_equal(sk.buf, quote_out);
		/* Reversed, without the separator: the message plus its final LF. */
		assert_int_equal(unquote(sk.buf, sk.len - 1, back), len + 1);
		assert_memory_equal(back, quote_in, len);
	}
}

static void quote__when_line_is_many_gts__then_no_buffer_needed(void **state)
{
	char in[3000];
	struct mbox_quote q;
	struct sink sk = { .len = 0 };

	(void)state;
	memset(in, '>', 2000);
	memcpy(in + 2000, "From x\n", 8);
	mbox_quote_init(&q);
	for (size_t i = 0; i < 2007; i++) /* a byte at a time */
		assert_int_equal(mbox_quote(&q, in + i, 1, to_sink, &sk), 0);
	assert_int_equal(sk.len, 2008);
	assert_int_equal(sk.buf[2000], '>');
	assert_memory_equal(sk.buf + 2001, "From x\n", 7);
}

static void sender__when_return_path__then_from_line_names_it(void **state)
{
	char out[MBOX_SENDER_MAX], line[MBOX_FROM_LINE_MAX];
	const char *h1 = "X-Popfetch-UIDL: work 1\nreturn-path:  <bob@example.org>\nFrom: x\n\n";
	const char *h2 = "Return-Path: <>\n\n";
	const char *h3 = "Subject: x\n\nReturn-Path: <late@example.org>\n";
	const char *h4 = "Return-Path: <two words@example.org>\n\n";
	int n;

	(void)state;
	mbox_sender(h1, strlen(h1), out, sizeof out);
	assert_string_equal(out, "bob@example.org");
	mbox_sender(h2, strlen(h2), out, sizeof out);
	assert_string_equal(out, "MAILER-DAEMON");
	mbox_sender(h3, strlen(h3), out, sizeof out); /* in the body: not a header */
	assert_string_equal(out, "MAILER-DAEMON");
	mbox_sender(h4, strlen(h4), out, sizeof out);
	assert_string_equal(out, "MAILER-DAEMON");
	n = mbox_from_line("bob@example.org", 0, line, sizeof line);
	assert_true(n > 30);
	assert_int_equal(strncmp(line, "From bob@example.org ", 21), 0);
	assert_int_equal(line[n - 1], '\n');
	assert_non_null(strstr(line, "1970") != NULL ? line : strstr(line, "1969"));
	assert_int_equal(mbox_header_end("a: b\n\nbody", 10), 6);
	assert_int_equal(mbox_header_end("\nbody", 5), 1);
	assert_int_equal(mbox_header_end("a: b\nc: d\n", 10), 0);
}

/* Commits two messages, keeping their pending names. */
static void commit_two(struct fx *fx, struct log *lg)
{
	struct delivery_journal j = { cb_pending, cb_durable, lg, NULL };
	struct delivery_item items[2];
	struct pf_error err = { 0 };

	put(fx, &items[0], 0, "Return-Path: <a@example.org>\nSubject: one\n\nFrom me\n");
	put(fx, &items[1], 1, "Subject: two\n\nline\nline\nline\nline\nline\n");
	assert_int_equal(delivery_commit(fx->d, items, 2, &j, &err), 0);
	delivery_msg_abort(fx->d, &items[0]);
	delivery_msg_abort(fx->d, &items[1]);
}

static unsigned long long name_offset(const char *name)
{
	unsigned long long o = 0;

	assert_int_equal(sscanf(name, "mbox,O=%llu,", &o), 1);
	return o;
}

static void mbox_layout__when_committed__then_from_lines_and_quoting(void **state)
{
	struct fx *fx = *state;
	struct log lg = { .fx = fx };
	size_t len;
	char *buf;

	commit_two(fx, &lg);
	buf = slurp(fx->path, &len);
	assert_int_equal(strncmp(buf, "From a@example.org ", 19), 0);
	assert_non_null(strstr(buf, "\n\n>From me\n\nFrom MAILER-DAEMON "));
	assert_int_equal(name_offset(lg.names[0]), 0);
	assert_int_equal(strncmp(buf + name_offset(lg.names[1]), "From MAILER-DAEMON ", 19), 0);
	assert_string_equal(buf + len - 7, "\nline\n\n");
	free(buf);
}

static void torn_append__when_file_ends_inside_a_message__then_cut_back(void **state)
{
	struct fx *fx = *state;
	struct log lg = { .fx = fx };
	struct pf_error err = { 0 };
	unsigned long long o2;
	struct stat st;

	commit_two(fx, &lg);
	o2 = name_offset(lg.names[1]);
	/* As kill -9 halfway through the second message's append. */
	assert_int_equal(truncate(fx->path, (off_t)o2 + 25), 0);
	assert_int_equal(delivery_has(fx->d, lg.names[1], &err), 0);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_size, o2);
	assert_int_equal(delivery_has(fx->d, lg.names[0], &err), 1);
	assert_int_equal(visible(fx), 1);
}

static void torn_append__when_other_data_follows__then_left_alone(void **state)
{
	struct fx *fx = *state;
	struct log lg = { .fx = fx };
	struct pf_error err = { 0 };
	const char *other = "\n\nFrom s Sun Dec  6 00:00:00 2026\n\nx\n";
	unsigned long long o2;
	struct stat st;
	FILE *fp;

	commit_two(fx, &lg);
	o2 = name_offset(lg.names[1]);
	assert_int_equal(truncate(fx->path, (off_t)o2 + 25), 0);
	fp = fopen(fx->path, "ab");
	assert_non_null(fp);
	fputs(other, fp); /* shorter than the rest of our message */
	fclose(fp);
	assert_true(25 + strlen(other) < strtoull(strstr(lg.names[1], "L=") + 2, NULL, 10));
	assert_int_equal(delivery_has(fx->d, lg.names[1], &err), 0);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_size, o2 + 25 + strlen(other));
}

static void has__when_bytes_changed__then_not_delivered(void **state)
{
	struct fx *fx = *state;
	struct log lg = { .fx = fx };
	struct pf_error err = { 0 };
	int fd;

	commit_two(fx, &lg);
	fd = open(fx->path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 30), 1);
	close(fd);
	assert_int_equal(delivery_has(fx->d, lg.names[0], &err), 0);
	assert_int_equal(delivery_has(fx->d, lg.names[1], &err), 1);
}

static void padding__when_mbox_lacks_final_newline__then_messages_stay_apart(void **state)
{
	struct fx *fx = *state;
	struct log lg = { .fx = fx };
	size_t len;
	char *buf;
	FILE *fp = fopen(fx->path, "wb");

	assert_non_null(fp);
	fputs("From x Sun Dec  6 00:00:00 2026\nSubject: old\n\nno newline", fp);
	fclose(fp);
	commit_two(fx, &lg);
	buf = slurp(fx->path, &len);
	assert_non_null(strstr(buf, "no newline\n\nFrom a@example.org "));
	assert_int_equal(strncmp(buf + name_offset(lg.names[0]), "From a@example.org ", 19), 0);
	assert_int_equal(visible(fx), 3);
	free(buf);
}

/* A child holds what hold() takes until killed. */
static pid_t holder(const char *path, int fcntl_lock)
{
	int pipefd[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR | O_CREAT, 0600);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		if (fcntl_lock && fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		(void)!write(pipefd[1], "x", 1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void expect_locked(struct fx *fx)
{
	struct log lg = { .fx = fx };
	struct delivery_journal j = { cb_pending, cb_durable, &lg, NULL };
	struct delivery_item it;
	struct pf_error err = { 0 };

	put(fx, &it, 0, "Subject: x\n\nbody\n");
	assert_int_equal(delivery_commit(fx->d, &it, 1, &j, &err), -1);
	delivery_msg_abort(fx->d, &it);
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, "locked by another program"));
	assert_int_equal(lg.pending_calls, 0);
	assert_int_equal(visible(fx), 0);
}

static void lock__when_fcntl_held__then_waits_and_fails(void **state)
{
	struct fx *fx = *state;
	pid_t pid = holder(fx->path, 1);

	expect_locked(fx);
	reap(pid);
}

static void lock__when_dotlock_held__then_waits_and_fails(void **state)
{
	struct fx *fx = *state;
	char lock[256], pid_text[32];
	pid_t pid = holder(fx->path, 0); /* a live process owns the dotlock */
	FILE *fp;

	snprintf(lock, sizeof lock, "%s.lock", fx->path);
	snprintf(pid_text, sizeof pid_text, "%ld\n", (long)pid);
	fp = fopen(lock, "w");
	assert_non_null(fp);
	fputs(pid_text, fp);
	fclose(fp);
	expect_locked(fx);
	assert_int_equal(access(lock, F_OK), 0); /* not ours to remove */
	reap(pid);
}

static void lock__when_dotlock_stale__then_removed_and_appended(void **state)
{
	struct fx *fx = *state;
	struct log lg = { .fx = fx };
	char lock[256], pid_text[32];
	pid_t pid = fork();
	FILE *fp;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0); /* its pid is now free: a crashed holder */
	snprintf(lock, sizeof lock, "%s.lock", fx->path);
	snprintf(pid_text, sizeof pid_text, "%ld\n", (long)pid);
	fp = fopen(lock, "w");
	assert_non_null(fp);
	fputs(pid_text, fp);
	fclose(fp);
	commit_two(fx, &lg);
	assert_int_equal(visible(fx), 2);
	assert_int_equal(access(lock, F_OK), -1);
}

static void open__when_dotlock_stale__then_cleared(void **state)
{
	struct fx *fx = *state;
	struct pf_error err = { 0 };
	struct delivery *d2;
	char lock[256];
	pid_t pid = fork();
	FILE *fp;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	snprintf(lock, sizeof lock, "%s.lock", fx->path);
	fp = fopen(lock, "w");
	assert_non_null(fp);
	fprintf(fp, "%ld\n", (long)pid);
	fclose(fp);
	d2 = delivery_open(&fx->cfg, &fx->acct, &err);
	assert_non_null(d2);
	assert_int_equal(access(lock, F_OK), -1); /* a poll with nothing new clears it too */
	delivery_close(d2);
}

static void open__when_folders_missing__then_created_private(void **state)
{
	struct fx *fx = *state;
	struct account a = fx->acct;
	struct pf_error err = { 0 };
	char path[300], dir[200];
	struct delivery *d2;
	struct stat st;

	snprintf(dir, sizeof dir, "%s/a/b", fx->dir);
	snprintf(path, sizeof path, "%s/inbox", dir);
	a.mbox = path;
	d2 = delivery_open(&fx->cfg, &a, &err);
	assert_non_null(d2);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	delivery_close(d2);
	/* A symlink in the mbox's place is refused, as for a Maildir. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_null(delivery_open(&fx->cfg, &a, &err));
	assert_int_equal(err.cls, PF_ERR_LOCAL);
	assert_non_null(strstr(err.msg, "symlink"));
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
		T(commit_journals_before_a_reader_sees__when_committed__then_durable_visible,
		  setup_mbox),
		T(abort__when_message_dropped__then_nothing_left, setup_mbox),
		T(abort__when_write_half_done__then_nothing_left, setup_mbox),
		T(journal_fails__when_pending_not_durable__then_nothing_published, setup_mbox),
		T(has__when_name_never_delivered__then_0, setup_mbox),
		cmocka_unit_test(open__when_kind_unknown__then_config_error),
		cmocka_unit_test(quote__when_split_anywhere__then_mboxrd_and_reversible),
		cmocka_unit_test(quote__when_line_is_many_gts__then_no_buffer_needed),
		cmocka_unit_test(sender__when_return_path__then_from_line_names_it),
		T(mbox_layout__when_committed__then_from_lines_and_quoting, setup_mbox),
		T(torn_append__when_file_ends_inside_a_message__then_cut_back, setup_mbox),
		T(torn_append__when_other_data_follows__then_left_alone, setup_mbox),
		T(has__when_bytes_changed__then_not_delivered, setup_mbox),
		T(padding__when_mbox_lacks_final_newline__then_messages_stay_apart, setup_mbox),
		T(lock__when_fcntl_held__then_waits_and_fails, setup_mbox),
		T(lock__when_dotlock_held__then_waits_and_fails, setup_mbox),
		T(lock__when_dotlock_stale__then_removed_and_appended, setup_mbox),
		T(open__when_dotlock_stale__then_cleared, setup_mbox),
		T(open__when_folders_missing__then_created_private, setup_mbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
