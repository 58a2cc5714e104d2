/* main.c - the command line: options, one poll per selected account, the
 * summary lines and the exit code (DESIGN.md sections 4 and 6).  The only
 * file that calls exit(). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "config.h"
#include "fetch.h"
#include "log.h"
#include "util.h"

#define EXIT_NEW_MAIL 0
#define EXIT_NO_MAIL 1
#define EXIT_USAGE 5

struct cli {
	const char *config_path;
	struct fetch_opts fopts;
	int verbosity;
	int quiet;
	char **accounts;
	int naccounts;
};

static void usage(FILE *out)
{
	fputs("Usage: popfetch [OPTIONS] [ACCOUNT...]\n"
	      "Fetch mail from POP3 servers into Maildir folders.\n\n"
	      "  -f, --config FILE    configuration file (default: $XDG_CONFIG_HOME/popfetch/config)\n"
	      "  -k, --keep           leave messages on the server\n"
	      "  -K, --no-keep        delete messages from the server once delivered\n"
	      "  -c, --check          report how many new messages each account has; fetch nothing\n"
	      "  -l, --limit N        fetch at most N messages per account\n"
	      "      --retry-now      log in even if earlier logins were refused (see backoff)\n"
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

/* Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, struct cli *cli)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "keep", no_argument, NULL, 'k' },
		{ "no-keep", no_argument, NULL, 'K' },
		{ "check", no_argument, NULL, 'c' },
		{ "limit", required_argument, NULL, 'l' },
		{ "retry-now", no_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	cli->fopts.keep = -1;
	while ((ch = getopt_long(argc, argv, "f:kKcl:vqVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': cli->config_path = optarg; break;
		case 'k': cli->fopts.keep = 1; break;
		case 'K': cli->fopts.keep = 0; break;
		case 'c': cli->fopts.check_only = 1; break;
		case 'l':
			if (parse_ulong(optarg, &cli->fopts.limit) < 0 || cli->fopts.limit == 0) {
				fprintf(stderr, "popfetch: --limit needs a positive number, not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'R': cli->fopts.retry_now = 1; break;
		case 'v': cli->verbosity++; break;
		case 'q': cli->quiet = 1; break;
		case 'V': printf("popfetch %s\n", PACKAGE_VERSION_STR); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	cli->accounts = argv + optind;
	cli->naccounts = argc - optind;
	return -1;
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
	if (check) {
		log_info("%s: %lu new of %lu on the server", a->name, r->fresh, r->listed);
		return;
	}
	log_info("%s: %lu new, %lu fetched (%llu bytes), %lu deleted, %lu skipped, %.2f s",
		 a->name, r->fresh, r->fetched, (unsigned long long)r->bytes, r->deleted,
		 r->skipped, r->seconds);
}

/* Polls one account; returns its exit code. */
static int poll_one(const struct config *cfg, const struct account *a, const struct cli *cli)
{
	struct fetch_result res;
	struct pf_error err = { 0 };

	if (fetch_account(cfg, a, &cli->fopts, &res, &err) < 0) {
		log_error("%s: %s", a->name, err.msg);
		if (res.fetched > 0)
			log_error("%s: %lu messages were delivered before the error", a->name,
				  res.fetched);
		return pf_error_exit_code(err.cls);
	}
	summary(a, &res, cli->fopts.check_only);
	if (cli->fopts.check_only)
		return res.fresh > 0 ? EXIT_NEW_MAIL : EXIT_NO_MAIL;
	return res.fetched > 0 ? EXIT_NEW_MAIL : EXIT_NO_MAIL;
}

/* Every named account must exist before anything is fetched. */
static int check_names(const struct config *cfg, const struct cli *cli)
{
	for (int i = 0; i < cli->naccounts; i++)
		if (config_find(cfg, cli->accounts[i]) == NULL) {
			log_error("no account '%s' in %s", cli->accounts[i], cfg->path);
			return -1;
		}
	return 0;
}

static int selected(const struct cli *cli, const char *name)
{
	if (cli->naccounts == 0)
		return 1;
	for (int i = 0; i < cli->naccounts; i++)
		if (strcmp(cli->accounts[i], name) == 0)
			return 1;
	return 0;
}

/* DESIGN.md section 6: 0 or 1 only when every account succeeded, else the
 * code of the first failed account in config order. */
static int poll_all(const struct config *cfg, const struct cli *cli)
{
	int any_new = 0, failure = 0;

	for (size_t i = 0; i < cfg->naccounts; i++) {
		const struct account *a = &cfg->accounts[i];
		int code;

		if (!selected(cli, a->name))
			continue;
		code = poll_one(cfg, a, cli);
		if (code == EXIT_NEW_MAIL)
			any_new = 1;
		else if (code != EXIT_NO_MAIL && failure == 0)
			failure = code;
	}
	if (failure)
		return failure;
	return any_new ? EXIT_NEW_MAIL : EXIT_NO_MAIL;
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
	if (config_load(cli.config_path, &cfg, &err) < 0) {
		log_error("%s", err.msg);
		return pf_error_exit_code(err.cls);
	}
	code = check_names(cfg, &cli) < 0 ? EXIT_USAGE : poll_all(cfg, &cli);
	config_free(cfg);
	return code;
}
