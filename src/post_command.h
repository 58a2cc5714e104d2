/* post_command.h - the account's `post_command` (issue 15 item 4): run
 * once after a poll that delivered at least one message, for users who
 * feed notmuch (`notmuch new`) or another mail indexer.
 *
 * It runs through child.h (/bin/sh -c from the config alone, scrubbed
 * environment, no inherited descriptor, its own process group, stdin and
 * stdout /dev/null) with POPFETCH_ACCOUNT and POPFETCH_DELIVERED (the
 * count) in its environment, and the deadline of mda_timeout (its
 * default when unset).  Its failure (exit status, signal, deadline, with
 * the first stderr line) is logged as a warning and changes nothing
 * else: the poll's result and exit code are already decided. */
#ifndef POPFETCH_POST_COMMAND_H
#define POPFETCH_POST_COMMAND_H

#include "config.h"

/* Runs acct->post_command when it is set and delivered > 0; returns when
 * it has ended or was killed at the deadline. */
void post_command_run(const struct account *acct, unsigned long delivered);

#endif
