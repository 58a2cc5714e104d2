/* ops.h - the commands that show what popfetch does instead of polling:
 * --token, --serverinfo [--login], --status [--json], --dump.  main.c
 * parses the options into struct ops_opts and hands the run over here;
 * each command's work lives in its own module (token.h, serverinfo.h,
 * status.h, dump.h). */
#ifndef POPFETCH_OPS_H
#define POPFETCH_OPS_H

#include "config.h"

struct ops_opts {
	const char *token;      /* --token ACCOUNT */
	const char *serverinfo; /* --serverinfo ACCOUNT */
	int login;              /* --login, with --serverinfo */
	int status;             /* --status [ACCOUNT...] */
	int json;               /* --json, with --status */
	int dump;               /* --dump [ACCOUNT] */
};

/* Whether one of the commands was asked for (then main.c calls ops_run). */
int ops_wanted(const struct ops_opts *o);

/* --login and --json without their command, two commands at once, or
 * account names where the command takes none: a message and exit code 5;
 * else -1.  Needs no configuration. */
int ops_check_args(const struct ops_opts *o, int naccounts);

/* Runs the command on cfg; names[0..nnames) are the ACCOUNT arguments.
 * Prints to stdout, errors through log.h; returns the exit code. */
int ops_run(const struct config *cfg, const struct ops_opts *o, char **names, int nnames);

#endif
