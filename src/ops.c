/* ops.c - see ops.h. */
#include <stdio.h>

#include "dump.h"
#include "log.h"
#include "ops.h"
#include "serverinfo.h"
#include "status.h"
#include "token.h"

#define OPS_EXIT_USAGE 5

int ops_wanted(const struct ops_opts *o)
{
	return o->token != NULL || o->serverinfo != NULL || o->status || o->dump || o->login ||
	       o->json;
}

int ops_check_args(const struct ops_opts *o, int naccounts)
{
	int ncmd = (o->token != NULL) + (o->serverinfo != NULL) + (o->status != 0) +
		   (o->dump != 0);

	if (ncmd > 1) {
		log_error("give only one of --token, --serverinfo, --status and --dump");
		return OPS_EXIT_USAGE;
	}
	if ((o->login && o->serverinfo == NULL) || (o->json && !o->status)) {
		log_error("--login goes with --serverinfo, --json with --status");
		return OPS_EXIT_USAGE;
	}
	if ((o->token != NULL || o->serverinfo != NULL) && naccounts > 0) {
		log_error("--token and --serverinfo take one account, given with the option");
		return OPS_EXIT_USAGE;
	}
	if (o->dump && naccounts > 1) {
		log_error("--dump takes one account at most");
		return OPS_EXIT_USAGE;
	}
	return -1;
}

/* The account called name, or NULL after saying there is none. */
static const struct account *find(const struct config *cfg, const char *name)
{
	const struct account *a = config_find(cfg, name);

	if (a == NULL)
		log_error("no account '%s' in %s", name, cfg->path);
	return a;
}

static int token(const struct config *cfg, const char *name)
{
	const struct account *a = find(cfg, name);
	struct pf_error err = { 0 };

	if (a == NULL)
		return OPS_EXIT_USAGE;
	if (token_print(cfg, a, stdout, &err) < 0) {
		log_error("%s: %s", name, err.msg);
		return pf_error_exit_code(err.cls);
	}
	return 0;
}

static int serverinfo(const struct config *cfg, const char *name, int login)
{
	const struct account *a = find(cfg, name);
	struct pf_error err = { 0 };

	if (a == NULL)
		return OPS_EXIT_USAGE;
	if (serverinfo_run(cfg, a, login, stdout, &err) < 0) {
		log_error("%s: %s", name, err.msg);
		return pf_error_exit_code(err.cls);
	}
	return 0;
}

int ops_run(const struct config *cfg, const struct ops_opts *o, char **names, int nnames)
{
	if (o->token != NULL)
		return token(cfg, o->token);
	if (o->serverinfo != NULL)
		return serverinfo(cfg, o->serverinfo, o->login);
	if (o->dump) {
		struct pf_error err = { 0 };

		if (dump_config(cfg, nnames > 0 ? names[0] : NULL, stdout, &err) == 0)
			return 0;
		log_error("%s", err.msg);
		return pf_error_exit_code(err.cls);
	}
	if (o->status) {
		struct pf_error err = { 0 };

		if (status_show(cfg, names, nnames, o->json, stdout, &err) == 0)
			return 0;
		log_error("%s", err.msg);
		return pf_error_exit_code(err.cls);
	}
	return OPS_EXIT_USAGE;
}
