/* post_command.c - see post_command.h. */
#include <stdio.h>

#include "child.h"
#include "log.h"
#include "post_command.h"

/* The deadline when the account sets no mda_timeout (as for an MDA). */
#define POST_COMMAND_TIMEOUT_DEFAULT_S 300

void post_command_run(const struct account *acct, unsigned long delivered)
{
	char account[PF_NAME_MAX + 32], count[64], what[PF_NAME_MAX + 32];
	char why[CHILD_ERRLINE_MAX + 128];
	const char *env[3] = { account, count, NULL };
	struct child_opts o = { .command = acct->post_command, .env = env, .no_input = 1,
				.what = what };
	struct pf_error err = { 0 };
	struct child_status st;
	struct child *c;

	if (acct->post_command == NULL || acct->post_command[0] == '\0' || delivered == 0)
		return;
	o.timeout_s = acct->mda_timeout > 0 ? acct->mda_timeout : POST_COMMAND_TIMEOUT_DEFAULT_S;
	(void)snprintf(what, sizeof what, "%s: post_command", acct->name);
	(void)snprintf(account, sizeof account, "POPFETCH_ACCOUNT=%s", acct->name);
	(void)snprintf(count, sizeof count, "POPFETCH_DELIVERED=%lu", delivered);
	c = child_start(&o, &err);
	if (c == NULL) {
		log_warn("%s", err.msg);
		return;
	}
	child_wait(c, &st);
	if (child_ok(&st)) {
		log_verbose("%s: done", what);
		return;
	}
	child_describe(&st, o.timeout_s, why, sizeof why);
	log_warn("%s failed (%s); the poll's result stands", what, why);
}
