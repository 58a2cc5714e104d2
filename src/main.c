/* main.c - the command line: options, what one account poll prints (the
 * summary line), and the exit code (DESIGN.md sections 4 and 6).  When and
 * where polls run (one-shot, -j, -d) is scheduler.c's business.  The only
 * file that calls exit(). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "backoff.h"
#include "config.h"
#include "fetch.h"
#include "import.h"
#include "log.h"
#include "oauth2.h"
#include "ops.h"
#include "rebuild.h"
#include "scheduler.h"
#include "setup.h"
#include "status.h"
#include "util.h"

#define EXIT_NEW_MAIL SCHED_EXIT_NEW_MAIL
#define EXIT_NO_MAIL SCHED_EXIT_NO_MAIL
#define EXIT_USAGE 5

enum log_choice { LOG_AUTO, LOG_STDERR, LOG_SYSLOG };

/* Long options without a short form. */
enum { OPT_RETRY_NOW = 256, OPT_DAEMON, OPT_LOG, OPT_REBUILD, OPT_PROGRESS, OPT_NO_PROGRESS,
       OPT_AUTHORIZE,
       /* --add-account and its answers */
       OPT_ADD_ACCOUNT, OPT_PROVIDER, OPT_NAME, OPT_MAILDIR, OPT_PASSWORD_STDIN,
       OPT_PASSWORD_COMMAND, OPT_OAUTH2, OPT_CLIENT_ID, OPT_HOST, OPT_PORT, OPT_TLS,
       OPT_TLS_CA_FILE, OPT_USER, OPT_NON_INTERACTIVE, OPT_NO_TEST,
       /* ops.h: what popfetch does */
       OPT_TOKEN, OPT_SERVERINFO, OPT_LOGIN, OPT_STATUS, OPT_JSON, OPT_DUMP,
       /* --import and --adopt */
       OPT_IMPORT, OPT_DRY_RUN, OPT_ADOPT, OPT_YES };
/* A uid store bound to another server or user (DESIGN.md section 2). */
enum { OPT_REBIND_STATE = 400, OPT_FRESH_STATE };

struct cli {
	const char *config_path;
	struct fetch_opts fopts;
	int verbosity;
	int quiet;
	int daemon;             /* -d / --daemon given */
	int interval_s;         /* -d SECS; 0 with daemon: poll once */
	int jobs;               /* -j; 0: the config's */
	enum log_choice log;
	int progress;           /* -1: when stderr is a terminal */
	const char *rebuild;    /* --rebuild-state ACCOUNT */
	const char *rebind;     /* --rebind-state ACCOUNT */
	const char *fresh;      /* --fresh-state ACCOUNT */
	const char *authorize;  /* --authorize ACCOUNT */
	int add_account;        /* --add-account [ADDRESS] */
	int non_interactive;    /* --non-interactive: never ask */
	int nsecret;            /* secret sources given (at most one) */
	int nsetup;             /* setup answers given (they need --add-account) */
	struct setup_opts setup;
	struct ops_opts ops;    /* --token, --serverinfo, --status, --dump */
	struct import_opts import; /* --import PEER [FILE] */
	int importing, adopt, yes;
	char **accounts;
	int naccounts;
};

static void usage(FILE *out)
{
	fputs("Usage: popfetch [OPTIONS] [ACCOUNT...]\n"
	      "Fetch mail from POP3 servers into a Maildir, an mbox, an MDA or LMTP.\n\n"
	      "  -f, --config FILE    configuration file (default: $XDG_CONFIG_HOME/popfetch/config)\n"
	      "  -d, --daemon[=SECS]  poll until stopped, every SECS seconds (default: poll_interval);\n"
	      "                       -d 0: poll once\n"
	      "  -j, --jobs N         poll up to N accounts at once (default: jobs in the config)\n"
	      "  -k, --keep           leave messages on the server\n"
	      "  -K, --no-keep        delete messages from the server once delivered\n"
	      "  -c, --check          report how many new messages each account has; fetch nothing\n"
	      "  -l, --limit N        fetch at most N messages per account\n"
	      "      --retry-now      log in even if earlier logins were refused (see backoff)\n"
	      "      --progress, --no-progress  progress line (default: when stderr is a terminal)\n"
	      "      --log WHERE      stderr or syslog (default: syslog with --daemon, else stderr)\n"
	      "      --rebuild-state ACCOUNT  rebuild ACCOUNT's uid store from its Maildir\n"
	      "      --rebind-state ACCOUNT   keep ACCOUNT's uid store for its new host or user\n"
	      "                       (the same mailbox under a new name)\n"
	      "      --fresh-state ACCOUNT    move ACCOUNT's uid store aside and start afresh\n"
	      "                       (another mailbox; the old store is kept)\n"
	      "      --authorize ACCOUNT  run ACCOUNT's OAuth2 authorization and store its token\n"
	      "      --add-account [ADDRESS]  add an account: recognise the provider, ask what\n"
	      "                       is missing, test the login, write the config.  Answers:\n"
	      "                       --provider NAME|none --name NAME --maildir DIR -k|-K\n"
	      "                       --password-stdin | --password-command CMD | --oauth2\n"
	      "                       --client-id ID --host HOST --port N --tls MODE\n"
	      "                       --tls-ca-file FILE --user USER --no-test --non-interactive\n"
	      "      --token ACCOUNT  print a valid OAuth2 access token (for msmtp and others)\n"
	      "      --serverinfo ACCOUNT  greeting, CAPA, TLS and certificate, without\n"
	      "                       logging in (--login: log in, count the messages)\n"
	      "      --status [ACCOUNT...]  last poll, backoff, store size, token expiry\n"
	      "                       from state_dir alone (--json for monitoring)\n"
	      "      --dump [ACCOUNT] effective configuration, where each value comes from\n"
	      "      --import fetchmail|mpop|getmail [FILE]  accounts and UID state from\n"
	      "                       another fetcher (--dry-run: print only; --maildir DIR)\n"
	      "      --adopt ACCOUNT  record what is on the server as delivered, fetch\n"
	      "                       nothing (asks first; --yes for scripts)\n"
	      "  -v, --verbose        more detail; twice: protocol trace (secrets masked)\n"
	      "  -q, --quiet          errors only\n"
	      "  -V, --version        print the version and exit\n"
	      "  -h, --help           print this help and exit\n\n"
	      "Exit status: 0 mail delivered, 1 no new mail, 2 network, 3 authentication,\n"
	      "4 protocol, 5 usage or configuration, 6 unsafe config permissions, 7 server error,\n"
	      "8 account locked, 10 local delivery, 11 TLS.  See popfetch(1).\n",
	      out);
}

static int parse_ulong(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	*v = strtoul(s, &end, 10);
	return *end == '\0' && *v < 1000000000UL ? 0 : -1;
}

/* A number option in [min, max] into *v; else an error and -1. */
static int parse_range(const char *opt, const char *s, unsigned long min, unsigned long max,
		       unsigned long *v)
{
	if (parse_ulong(s, v) == 0 && *v >= min && *v <= max)
		return 0;
	fprintf(stderr, "popfetch: %s needs a number from %lu to %lu, not '%s'\n", opt, min, max,
		s);
	return -1;
}

static int parse_daemon(struct cli *cli, const char *arg)
{
	unsigned long v = 0;

	cli->daemon = 1;
	if (arg != NULL && parse_range("--daemon", arg, 0, SCHED_INTERVAL_MAX_S, &v) < 0)
		return -1;
	cli->interval_s = (int)v;
	/* -d 0 polls once, as fetchmail's -d0 does. */
	if (arg != NULL && v == 0)
		cli->daemon = 0;
	return 0;
}

static int parse_log(struct cli *cli, const char *arg)
{
	if (strcmp(arg, "stderr") == 0)
		cli->log = LOG_STDERR;
	else if (strcmp(arg, "syslog") == 0)
		cli->log = LOG_SYSLOG;
	else {
		fprintf(stderr, "popfetch: --log takes stderr or syslog, not '%s'\n", arg);
		return -1;
	}
	return 0;
}

/* The secret's source for --add-account: one of three. */
static int set_secret(struct cli *cli, enum setup_secret how, const char *command)
{
	if (cli->nsecret++ > 0) {
		fprintf(stderr, "popfetch: give only one of --password-stdin, --password-command "
			"and --oauth2\n");
		return -1;
	}
	cli->setup.secret = how;
	cli->setup.password_command = command;
	return 0;
}

/* The answers --add-account would otherwise ask for. */
static int parse_setup_opt(int ch, const char *arg, struct cli *cli)
{
	struct setup_opts *o = &cli->setup;

	cli->nsetup++;
	switch (ch) {
	case OPT_PROVIDER: o->provider = arg; return 0;
	case OPT_NAME: o->name = arg; return 0;
	case OPT_MAILDIR: o->maildir = arg; return 0;
	case OPT_PASSWORD_STDIN: return set_secret(cli, SETUP_SECRET_STDIN, NULL);
	case OPT_PASSWORD_COMMAND: return set_secret(cli, SETUP_SECRET_COMMAND, arg);
	case OPT_OAUTH2: return set_secret(cli, SETUP_SECRET_OAUTH2, NULL);
	case OPT_CLIENT_ID: o->client_id = arg; return 0;
	case OPT_HOST: o->host = arg; return 0;
	case OPT_PORT: o->port = arg; return 0;
	case OPT_TLS: o->tls = arg; return 0;
	case OPT_TLS_CA_FILE: o->tls_ca_file = arg; return 0;
	case OPT_USER: o->user = arg; return 0;
	case OPT_NO_TEST: o->no_test = 1; return 0;
	default: usage(stderr); return -1;
	}
}

/* One option with its argument: 0, or -1 after an error message. */
static int parse_opt(int ch, const char *arg, struct cli *cli)
{
	unsigned long v;

	switch (ch) {
	case 'f': cli->config_path = arg; return 0;
	case 'd': case OPT_DAEMON: return parse_daemon(cli, arg);
	case 'j':
		if (parse_range("--jobs", arg, 1, SCHED_JOBS_MAX, &v) < 0)
			return -1;
		cli->jobs = (int)v;
		return 0;
	case 'k': cli->fopts.keep = 1; return 0;
	case 'K': cli->fopts.keep = 0; return 0;
	case 'c': cli->fopts.check_only = 1; return 0;
	case 'l': return parse_range("--limit", arg, 1, 999999999UL, &cli->fopts.limit);
	case OPT_RETRY_NOW: cli->fopts.retry_now = 1; return 0;
	case OPT_LOG: return parse_log(cli, arg);
	case OPT_REBUILD: cli->rebuild = arg; return 0;
	case OPT_REBIND_STATE: cli->rebind = arg; return 0;
	case OPT_FRESH_STATE: cli->fresh = arg; return 0;
	case OPT_AUTHORIZE: cli->authorize = arg; return 0;
	case OPT_PROGRESS: cli->progress = 1; return 0;
	case OPT_NO_PROGRESS: cli->progress = 0; return 0;
	case 'v': cli->verbosity++; return 0;
	case 'q': cli->quiet = 1; return 0;
	case OPT_ADD_ACCOUNT: cli->add_account = 1; return 0;
	case OPT_NON_INTERACTIVE: cli->non_interactive = 1; return 0;
	case OPT_TOKEN: cli->ops.token = arg; return 0;
	case OPT_SERVERINFO: cli->ops.serverinfo = arg; return 0;
	case OPT_LOGIN: cli->ops.login = 1; return 0;
	case OPT_STATUS: cli->ops.status = 1; return 0;
	case OPT_JSON: cli->ops.json = 1; return 0;
	case OPT_DUMP: cli->ops.dump = 1; return 0;
	case OPT_IMPORT:
		cli->importing = 1;
		if (import_peer_parse(arg, &cli->import.peer) == 0)
			return 0;
		fprintf(stderr, "popfetch: --import takes fetchmail, mpop or getmail, not '%s'\n",
			arg);
		return -1;
	case OPT_DRY_RUN: cli->import.dry_run = 1; return 0;
	case OPT_ADOPT: cli->adopt = 1; return 0;
	case OPT_YES: cli->yes = 1; return 0;
	default: return parse_setup_opt(ch, arg, cli);
	}
}

/* The --add-account answers make sense only with it, and it takes one
 * address at most.  -1 to continue, or an exit code. */
static int check_setup_args(const struct cli *cli)
{
	/* --import takes --maildir (where every imported account delivers). */
	int import_maildir = cli->importing && cli->setup.maildir != NULL;

	if (!cli->add_account && (cli->nsetup > import_maildir || cli->non_interactive)) {
		fprintf(stderr, "popfetch: --provider, --name, --maildir, --password-*, --oauth2, "
			"--client-id, --host, --port, --tls, --tls-ca-file, --user, --no-test and "
			"--non-interactive go with --add-account\n");
		return EXIT_USAGE;
	}
	if (cli->add_account && cli->naccounts > 1) {
		fprintf(stderr, "popfetch: --add-account takes one e-mail address\n");
		return EXIT_USAGE;
	}
	if ((cli->import.dry_run && !cli->importing) || (cli->yes && !cli->adopt)) {
		fprintf(stderr, "popfetch: --dry-run goes with --import, --yes with --adopt\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, struct cli *cli)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "daemon", optional_argument, NULL, OPT_DAEMON },
		{ "jobs", required_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "no-keep", no_argument, NULL, 'K' },
		{ "check", no_argument, NULL, 'c' },
		{ "limit", required_argument, NULL, 'l' },
		{ "retry-now", no_argument, NULL, OPT_RETRY_NOW },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "rebuild-state", required_argument, NULL, OPT_REBUILD },
		{ "rebind-state", required_argument, NULL, OPT_REBIND_STATE },
		{ "fresh-state", required_argument, NULL, OPT_FRESH_STATE },
		{ "authorize", required_argument, NULL, OPT_AUTHORIZE },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "add-account", no_argument, NULL, OPT_ADD_ACCOUNT },
		{ "provider", required_argument, NULL, OPT_PROVIDER },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "maildir", required_argument, NULL, OPT_MAILDIR },
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ "password-command", required_argument, NULL, OPT_PASSWORD_COMMAND },
		{ "oauth2", no_argument, NULL, OPT_OAUTH2 },
		{ "client-id", required_argument, NULL, OPT_CLIENT_ID },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "tls", required_argument, NULL, OPT_TLS },
		{ "tls-ca-file", required_argument, NULL, OPT_TLS_CA_FILE },
		{ "user", required_argument, NULL, OPT_USER },
		{ "non-interactive", no_argument, NULL, OPT_NON_INTERACTIVE },
		{ "no-test", no_argument, NULL, OPT_NO_TEST },
		{ "token", required_argument, NULL, OPT_TOKEN },
		{ "serverinfo", required_argument, NULL, OPT_SERVERINFO },
		{ "login", no_argument, NULL, OPT_LOGIN },
		{ "status", no_argument, NULL, OPT_STATUS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "dump", no_argument, NULL, OPT_DUMP },
		{ "import", required_argument, NULL, OPT_IMPORT },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "adopt", no_argument, NULL, OPT_ADOPT },
		{ "yes", no_argument, NULL, OPT_YES },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	cli->fopts.keep = -1;
	cli->progress = -1;
	while ((ch = getopt_long(argc, argv, "f:d:j:kKcl:vqVh", longopts, NULL)) != -1) {
		if (ch == 'V') {
			printf("popfetch %s\n", PACKAGE_VERSION_STR);
			return 0;
		}
		if (ch == 'h') {
			usage(stdout);
			return 0;
		}
		if (parse_opt(ch, optarg, cli) < 0)
			return EXIT_USAGE;
	}
	cli->accounts = argv + optind;
	cli->naccounts = argc - optind;
	ch = check_setup_args(cli);
	return ch >= 0 ? ch : ops_check_args(&cli->ops, cli->naccounts);
}

static void set_log_level(const struct cli *cli)
{
	if (cli->quiet)
		log_set_level(LOG_LVL_ERROR);
	else if (cli->verbosity >= 2)
		log_set_level(LOG_LVL_TRACE);
	else if (cli->verbosity == 1)
		log_set_level(LOG_LVL_VERBOSE);
	else
		log_set_level(LOG_LVL_INFO);
}

static void summary(const struct account *a, const struct fetch_result *r, int check)
{
	/* A server that lists part of the maildrop a session (a provider
	 * quirk) cannot be counted in full without fetching. */
	const char *least = r->capped ? "at least " : "";

	if (check && r->expired > 0) {
		log_info("%s: %s%lu new of %s%lu on the server, %lu due for deletion (delete_after)",
			 a->name, least, r->fresh, least, r->listed, r->expired);
		return;
	}
	if (check) {
		log_info("%s: %s%lu new of %s%lu on the server%s", a->name, least, r->fresh, least,
			 r->listed, r->capped ? " (it lists only part of it at a time)" : "");
		return;
	}
	if (r->untouched > 0)
		log_info("%s: %lu left on the server without a usable UID", a->name, r->untouched);
	log_info("%s: %lu new, %lu fetched (%llu bytes), %lu deleted, %lu skipped, %.2f s",
		 a->name, r->fresh, r->fetched, (unsigned long long)r->bytes, r->deleted,
		 r->skipped, r->seconds);
}

/* Polls one account; returns its exit code. */
static int poll_one(const struct config *cfg, const struct account *a, const struct cli *cli)
{
	struct fetch_result res;
	struct pf_error err = { 0 };
	int code;

	if (fetch_account(cfg, a, &cli->fopts, &res, &err) < 0) {
		/* DESIGN.md section 8: the daemon skips a busy account's poll;
		 * that is news, not an error. */
		if (cli->daemon && err.cls == PF_ERR_LOCKED) {
			log_warn("%s: %s; skipped this poll", a->name, err.msg);
			return pf_error_exit_code(err.cls);
		}
		if (err.cls != PF_ERR_LOCKED) /* not this poll's result: another one runs */
			status_poll_ended(cfg, a, pf_error_exit_code(err.cls), err.msg,
					  cli->fopts.check_only, &res);
		log_error("%s: %s", a->name, err.msg);
		if (res.fetched > 0)
			log_error("%s: %lu messages were delivered before the error", a->name,
				  res.fetched);
		return pf_error_exit_code(err.cls);
	}
	summary(a, &res, cli->fopts.check_only);
	code = (cli->fopts.check_only ? res.fresh : res.fetched) > 0 ? EXIT_NEW_MAIL : EXIT_NO_MAIL;
	status_poll_ended(cfg, a, code, NULL, cli->fopts.check_only, &res);
	return code;
}

/* The sched_poll_fn: runs in the poll's process. */
static int poll_cb(const struct config *cfg, const struct account *a, void *ctx)
{
	return poll_one(cfg, a, ctx);
}

/* --rebuild-state ACCOUNT */
static int rebuild(const struct config *cfg, const char *name)
{
	const struct account *a = config_find(cfg, name);
	struct pf_error err = { 0 };
	size_t found = 0;

	if (a == NULL) {
		log_error("no account '%s' in %s", name, cfg->path);
		return EXIT_USAGE;
	}
	if (rebuild_state(cfg, a, &found, &err) < 0) {
		log_error("%s: %s", name, err.msg);
		return pf_error_exit_code(err.cls);
	}
	printf("%s: rebuilt the uid store from %zu messages in %s\n", name, found, a->maildir);
	return 0;
}

/* --rebind-state ACCOUNT and --fresh-state ACCOUNT */
static int rebind(const struct config *cfg, const char *name, int fresh)
{
	static const char *const said[] = {
		[REBIND_NO_STORE] = "no uid store yet; the next poll starts one",
		[REBIND_ALREADY] = "the uid store already belongs to",
		[REBIND_DONE] = "the uid store now belongs to",
	};
	const struct account *a = config_find(cfg, name);
	struct pf_error err = { 0 };
	enum rebind_outcome o = REBIND_NO_STORE;
	char aside[PF_NAME_MAX + 1];

	if (a == NULL) {
		log_error("no account '%s' in %s", name, cfg->path);
		return EXIT_USAGE;
	}
	if ((fresh ? rebuild_fresh(cfg, a, aside, sizeof aside, &err)
		   : rebuild_rebind(cfg, a, &o, &err)) < 0) {
		log_error("%s: %s", name, err.msg);
		return pf_error_exit_code(err.cls);
	}
	if (fresh && aside[0] != '\0')
		printf("%s: the old uid store is kept as %s/%s; the next poll starts afresh\n",
		       name, cfg->state_dir, aside);
	else if (fresh || o == REBIND_NO_STORE)
		printf("%s: %s\n", name, said[REBIND_NO_STORE]);
	else
		printf("%s: %s %s at %s\n", name, said[o], a->user, a->host);
	return 0;
}

/* --authorize ACCOUNT: the OAuth2 flow the account's provider allows; it
 * waits for the user, so it is never run from a poll. */
static int authorize(const struct config *cfg, const char *name)
{
	const struct account *a = config_find(cfg, name);
	struct pf_error err = { 0 };
	struct backoff b;

	if (a == NULL) {
		log_error("no account '%s' in %s", name, cfg->path);
		return EXIT_USAGE;
	}
	if (oauth2_authorize(cfg, a, stdout, &err) < 0) {
		log_error("%s: %s", name, err.msg);
		return pf_error_exit_code(err.cls);
	}
	/* Refused logins before the new authorization no longer count. */
	memset(&b, 0, sizeof b);
	if (backoff_save(cfg->state_dir, a->name, &b, &err) < 0)
		log_warn("%s: %s", name, err.msg);
	return 0;
}

/* After --add-account --oauth2: the authorization now when someone is
 * at the terminal, else the command to run later. */
static int after_oauth2_setup(const struct cli *cli, const char *name, FILE *tty)
{
	struct config *cfg = NULL;
	struct pf_error err = { 0 };
	int code;

	if (tty == NULL) {
		printf("Next: popfetch --authorize %s (then: popfetch %s)\n", name, name);
		return 0;
	}
	if (config_load(cli->config_path, &cfg, &err) < 0) {
		log_error("%s", err.msg);
		return pf_error_exit_code(err.cls);
	}
	code = authorize(cfg, name);
	config_free(cfg);
	if (code == 0)
		printf("Authorized.  Fetch with: popfetch %s\n", name);
	return code;
}

/* --add-account [ADDRESS]: questions on the terminal (/dev/tty, so stdin
 * stays free for --password-stdin), unless --non-interactive or there is
 * no terminal: then every missing answer is an error naming its option. */
static int add_account(struct cli *cli)
{
	struct setup_io io = { .out = stdout, .echo_fd = -1 };
	struct pf_error err = { 0 };
	char name[SETUP_NAME_MAX + 1], *path = NULL;
	FILE *tty = cli->non_interactive ? NULL : fopen("/dev/tty", "r+e");
	int oauth2 = 0, code = 0;

	cli->setup.config_path = cli->config_path;
	cli->setup.address = cli->naccounts == 1 ? cli->accounts[0] : NULL;
	cli->setup.keep = cli->fopts.keep;
	if (cli->setup.secret == SETUP_SECRET_STDIN)
		io.secret_in = stdin;
	if (tty != NULL) {
		io.in = io.out = tty;
		io.echo_fd = fileno(tty);
	}
	if (setup_add_account(&cli->setup, &io, name, &path, &oauth2, &err) < 0) {
		log_error("%s", err.msg);
		code = pf_error_exit_code(err.cls);
		goto out;
	}
	printf("Added account %s to %s.\n", name, path);
	if (oauth2)
		code = after_oauth2_setup(cli, name, tty);
	else
		printf("Fetch with: popfetch %s\n", name);
out:
	free(path);
	if (tty != NULL)
		fclose(tty);
	return code;
}

/* --import PEER [FILE] [--dry-run] [--adopt] [--maildir DIR] [-k|-K] */
static int import_main(struct cli *cli)
{
	if (cli->naccounts > 1) {
		fprintf(stderr, "popfetch: --import takes one file after the fetcher's name\n");
		return EXIT_USAGE;
	}
	cli->import.file = cli->naccounts == 1 ? cli->accounts[0] : NULL;
	cli->import.config_path = cli->config_path;
	cli->import.maildir = cli->setup.maildir;
	cli->import.adopt = cli->adopt;
	cli->import.keep = cli->fopts.keep;
	return import_run(&cli->import, stdout);
}

/* DESIGN.md section 4: a progress line when stderr is a terminal, unless
 * polls run side by side (their lines would overwrite each other) or
 * nothing but errors is wanted. */
static void set_progress(struct cli *cli, const struct config *cfg)
{
	int jobs = cli->jobs > 0 ? cli->jobs : cfg->jobs;
	int parallel = jobs > 1 && cli->naccounts != 1 && cfg->naccounts > 1;
	int on = cli->progress;

	if (on < 0)
		on = isatty(STDERR_FILENO) && !cli->daemon && !cli->quiet && !parallel &&
		     log_get_target() == LOG_TARGET_STDERR;
	cli->fopts.progress = on ? stderr : NULL;
}

/* stderr for interactive runs and systemd (--log stderr), syslog for the
 * daemon. */
static void set_log_target(const struct cli *cli)
{
	if (cli->log == LOG_SYSLOG || (cli->log == LOG_AUTO && cli->daemon))
		log_open_syslog();
}

static int run(struct config *cfg, struct cli *cli)
{
	struct sched_opts so = {
		.daemon = cli->daemon, .jobs = cli->jobs, .interval_s = cli->interval_s,
		.names = cli->accounts, .nnames = cli->naccounts, .poll = poll_cb, .ctx = cli,
	};
	struct pf_error err = { 0 };
	struct sched *s;
	int code;

	if (cli->rebind != NULL || cli->fresh != NULL) {
		code = rebind(cfg, cli->fresh ? cli->fresh : cli->rebind, cli->fresh != NULL);
		config_free(cfg);
		return code;
	}
	if (ops_wanted(&cli->ops)) {
		code = ops_run(cfg, &cli->ops, cli->accounts, cli->naccounts);
		config_free(cfg);
		return code;
	}
	if (cli->adopt) {
		code = cli->naccounts == 1 ? import_adopt(cfg, cli->accounts[0], cli->yes, stdout)
					   : (fprintf(stderr, "popfetch: --adopt takes one account "
						      "name\n"), EXIT_USAGE);
		config_free(cfg);
		return code;
	}
	if (cli->rebuild != NULL || cli->authorize != NULL) {
		code = cli->rebuild ? rebuild(cfg, cli->rebuild) : authorize(cfg, cli->authorize);
		config_free(cfg);
		return code;
	}
	set_progress(cli, cfg);
	s = sched_new(cfg, &so, &err);
	if (s == NULL) {
		log_error("%s", err.msg);
		return pf_error_exit_code(err.cls);
	}
	code = sched_run(s);
	sched_free(s);
	return code;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	struct config *cfg = NULL;
	struct pf_error err = { 0 };
	int code;

	/* Passwords and tokens live in this process's memory: no core dump
	 * may carry them to disk (and no unprivileged ptrace may read them). */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	code = parse_args(argc, argv, &cli);
	if (code >= 0)
		return code;
	set_log_level(&cli);
	set_log_target(&cli);
	if (cli.add_account)
		return add_account(&cli);
	if (cli.importing)
		return import_main(&cli);
	if (config_load(cli.config_path, &cfg, &err) < 0) {
		log_error("%s", err.msg);
		return pf_error_exit_code(err.cls);
	}
	return run(cfg, &cli);
}
