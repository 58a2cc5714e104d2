/* status_show.c - `popfetch --status [--json]`: the status records
 * (status.h), the backoff records (backoff.h), the uid store files and the
 * OAuth2 token files in state_dir, read and nothing else: no network, no
 * lock, nothing written, so it is safe beside a running daemon. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backoff.h"
#include "oauth2.h"
#include "status.h"
#include "uidstore.h"

struct view {
	const struct account *a;
	time_t now;
	struct status_rec st;
	int have_st;            /* 1 read, 0 none, -1 unreadable */
	struct backoff b;
	long long uids_bytes;   /* size of the uid store; -1: none */
	const char *store_name; /* its file name (in state_dir), for the text */
	char store_path[PF_PATH_MAX];
	int daemon_alive;
	int tok;                /* oauth2_token_expiry: 1, 0, -1 */
	long long tok_expires;
	int tok_refresh;
	char err[PF_ERRMSG_MAX]; /* why the status or token file could not be read */
};

static void gather(const struct config *cfg, const struct account *a, struct view *v)
{
	struct pf_error err = { 0 };
	struct stat sb;
	int n;

	memset(v, 0, sizeof *v);
	v->a = a;
	v->now = time(NULL);
	v->have_st = status_load(cfg->state_dir, a->name, &v->st, &err);
	backoff_load(cfg->state_dir, a->name, &v->b);
	n = uidstore_path(cfg->state_dir, a->name, v->store_path, sizeof v->store_path);
	v->store_name = strrchr(v->store_path, '/') != NULL ? strrchr(v->store_path, '/') + 1 : "";
	v->uids_bytes = n == 0 && stat(v->store_path, &sb) == 0 ? (long long)sb.st_size : -1;
	/* kill(pid, 0): whether the daemon that wrote the schedule still runs
	 * (EPERM: it runs, as another user). */
	v->daemon_alive = v->st.daemon_pid > 0 &&
			  (kill((pid_t)v->st.daemon_pid, 0) == 0 || errno == EPERM);
	if (a->oauth2.enabled)
		v->tok = oauth2_token_expiry(cfg, a, &v->tok_expires, &v->tok_refresh, &err);
	if (err.cls != PF_ERR_NONE)
		memcpy(v->err, err.msg, sizeof v->err);
}

/* --- text --------------------------------------------------------------- */

static void when(time_t t, char *out, size_t cap)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		(void)snprintf(out, cap, "%lld", (long long)t);
}

/* " (in 4 min 59 s)" or " (3 min ago)". */
static void relative(time_t t, time_t now, char *out, size_t cap)
{
	long long d = (long long)(t - now), a = d < 0 ? -d : d;

	if (d == 0)
		(void)snprintf(out, cap, " (now)");
	else if (a >= 3600)
		(void)snprintf(out, cap, d >= 0 ? " (in %lld h %lld min)" : " (%lld h %lld min ago)",
			       a / 3600, a % 3600 / 60);
	else
		(void)snprintf(out, cap, d >= 0 ? " (in %lld min %lld s)" : " (%lld min %lld s ago)",
			       a / 60, a % 60);
}

static void text_poll(FILE *out, const struct view *v)
{
	const struct status_rec *r = &v->st;
	char t[40], rel[48];

	if (v->have_st <= 0 || r->ended == 0) {
		fprintf(out, "  last poll:    %s\n", v->have_st < 0 ? v->err : "never (no record in state_dir)");
		return;
	}
	when(r->ended, t, sizeof t);
	relative(r->ended, v->now, rel, sizeof rel);
	fprintf(out, "  last poll:    %s%s, %.1f s%s: exit %d (%s)\n", t, rel, r->seconds,
		r->check_only ? ", -c" : "", r->exit_code, status_exit_class(r->exit_code));
	if (r->reason[0] != '\0')
		fprintf(out, "  reason:       %s\n", r->reason);
	fprintf(out, "  delivered:    %lu messages, %" PRIu64 " bytes (%lu new on the server)\n",
		r->delivered, r->bytes, r->fresh);
}

static void text_next(FILE *out, const struct view *v)
{
	char t[40], rel[48];

	if (v->st.daemon_pid <= 0) {
		fprintf(out, "  next poll:    not scheduled: no daemon has polled this account "
			"(cron or a timer runs popfetch)\n");
		return;
	}
	if (!v->daemon_alive) {
		fprintf(out, "  next poll:    none: the daemon that polled it (pid %ld) is not running\n",
			v->st.daemon_pid);
		return;
	}
	when(v->st.next_poll, t, sizeof t);
	relative(v->st.next_poll, v->now, rel, sizeof rel);
	fprintf(out, "  next poll:    %s%s, by the daemon (pid %ld)\n", t, rel, v->st.daemon_pid);
}

static void text_backoff(FILE *out, const struct view *v)
{
	char t[40];
	int any = 0;

	if (v->daemon_alive && v->st.failures > 0) {
		fprintf(out, "  backoff:      %u failed polls in a row: the daemon waits longer "
			"(interval doubled per failure, at most 6 h)\n", v->st.failures);
		any = 1;
	}
	if (v->b.auth_failures > 0)
		fprintf(out, "  %s%d refused logins in a row\n", any++ ? "              " : "backoff:      ",
			v->b.auth_failures);
	if (v->b.retry_after > v->now) {
		when(v->b.retry_after, t, sizeof t);
		fprintf(out, "  %sno login before %s (%s; popfetch --retry-now %s tries now)\n",
			any++ ? "              " : "backoff:      ", t,
			v->b.reason == BACKOFF_LOGIN_DELAY ? "the server's [LOGIN-DELAY]"
							   : "refused logins",
			v->a->name);
	}
	if (!any)
		fprintf(out, "  backoff:      none\n");
}

static void text_store_token(FILE *out, const struct view *v)
{
	char t[40], rel[48];

	if (v->uids_bytes < 0)
		fprintf(out, "  uid store:    none yet\n");
	else if (v->have_st > 0 && v->st.stored > 0)
		fprintf(out, "  uid store:    %lu UIDs at the last poll (%s, %lld bytes)\n",
			v->st.stored, v->store_name, v->uids_bytes);
	else
		fprintf(out, "  uid store:    %s, %lld bytes\n", v->store_name, v->uids_bytes);
	if (!v->a->oauth2.enabled)
		return;
	if (v->tok < 0) {
		fprintf(out, "  oauth2 token: %s\n", v->err);
	} else if (v->tok == 0 || (v->tok_expires == 0 && !v->tok_refresh)) {
		fprintf(out, "  oauth2 token: none: run popfetch --authorize %s\n", v->a->name);
	} else {
		when((time_t)v->tok_expires, t, sizeof t);
		relative((time_t)v->tok_expires, v->now, rel, sizeof rel);
		fprintf(out, "  oauth2 token: %s %s%s; %s\n",
			v->tok_expires > v->now ? "expires" : "expired", t, rel,
			v->tok_refresh ? "a refresh token is stored (renewed when needed)"
				       : "no refresh token: run popfetch --authorize again when it expires");
	}
}

static void show_text(FILE *out, const struct view *v)
{
	fprintf(out, "%s\n", v->a->name);
	text_poll(out, v);
	text_next(out, v);
	text_backoff(out, v);
	text_store_token(out, v);
}

/* --- JSON --------------------------------------------------------------- */

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_poll(FILE *out, const struct view *v)
{
	const struct status_rec *r = &v->st;

	fprintf(out, "\"last_poll\":");
	if (v->have_st <= 0 || r->ended == 0) {
		fprintf(out, "null");
		return;
	}
	fprintf(out, "{\"ended\":%lld,\"seconds\":%.2f,\"exit\":%d,\"class\":", (long long)r->ended,
		r->seconds, r->exit_code);
	json_str(out, status_exit_class(r->exit_code));
	fprintf(out, ",\"reason\":");
	json_str(out, r->reason);
	fprintf(out, ",\"check_only\":%s,\"new\":%lu,\"delivered\":%lu,\"bytes\":%" PRIu64 "}",
		r->check_only ? "true" : "false", r->fresh, r->delivered, r->bytes);
}

static void json_rest(FILE *out, const struct view *v)
{
	if (v->st.daemon_pid > 0)
		fprintf(out, ",\"next_poll\":{\"at\":%lld,\"daemon_pid\":%ld,\"daemon_running\":%s}",
			(long long)v->st.next_poll, v->st.daemon_pid, v->daemon_alive ? "true" : "false");
	else
		fprintf(out, ",\"next_poll\":null");
	fprintf(out, ",\"backoff\":{\"daemon_failures\":%u,\"refused_logins\":%d,\"retry_after\":",
		v->daemon_alive ? v->st.failures : 0, v->b.auth_failures);
	if (v->b.retry_after > v->now)
		fprintf(out, "%lld,\"reason\":\"%s\"}", (long long)v->b.retry_after,
			v->b.reason == BACKOFF_LOGIN_DELAY ? "login-delay" : "refused-logins");
	else
		fprintf(out, "null,\"reason\":null}");
	fprintf(out, ",\"uid_store\":{\"uids\":");
	if (v->have_st > 0 && v->st.stored > 0)
		fprintf(out, "%lu", v->st.stored);
	else
		fprintf(out, "null");
	fprintf(out, ",\"file_bytes\":%lld}", v->uids_bytes);
	if (!v->a->oauth2.enabled) {
		fprintf(out, ",\"oauth2\":null");
		return;
	}
	fprintf(out, ",\"oauth2\":{\"token\":%s,\"expires_at\":", v->tok > 0 ? "true" : "false");
	if (v->tok > 0 && v->tok_expires > 0)
		fprintf(out, "%lld", v->tok_expires);
	else
		fprintf(out, "null");
	fprintf(out, ",\"refresh_token\":%s}", v->tok_refresh ? "true" : "false");
}

static void show_json(FILE *out, const struct view *v, int first)
{
	fprintf(out, "%s{\"account\":", first ? "" : ",");
	json_str(out, v->a->name);
	fputc(',', out);
	json_poll(out, v);
	json_rest(out, v);
	if (v->err[0] != '\0') {
		fprintf(out, ",\"error\":");
		json_str(out, v->err);
	}
	fputc('}', out);
}

int status_show(const struct config *cfg, char **names, int nnames, int json, FILE *out,
		struct pf_error *err)
{
	struct view v;
	size_t i, n = nnames > 0 ? (size_t)nnames : cfg->naccounts;

	for (i = 0; i < (size_t)nnames; i++)
		if (config_find(cfg, names[i]) == NULL)
			return pf_error_set(err, PF_ERR_CONFIG, "no account '%s' in %s", names[i],
					    cfg->path);
	if (json)
		fprintf(out, "{\"time\":%lld,\"accounts\":[", (long long)time(NULL));
	for (i = 0; i < n; i++) {
		gather(cfg, nnames > 0 ? config_find(cfg, names[i]) : &cfg->accounts[i], &v);
		if (json)
			show_json(out, &v, i == 0);
		else
			show_text(out, &v);
	}
	if (json)
		fprintf(out, "]}\n");
	return fflush(out) == 0 ? 0 : pf_error_errno(err, PF_ERR_LOCAL, errno, "cannot write");
}
