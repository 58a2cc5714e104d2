#!/usr/bin/env bash
# post_command (issue 15 item 4): runs once after a poll that delivered at least one message, with
# POPFETCH_ACCOUNT and POPFETCH_DELIVERED (the count) in its environment; never after a poll that
# delivered nothing; after a poll that delivered some and then failed too; its failure and its
# deadline are logged and never change popfetch's exit code; the global one serves accounts
# without their own.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
. "$TESTLIB/mda-lib.sh"
t_init post_command

lab_start
lab_mkmail --count 10 --seed 20 --manifest "$T/manifest"
POST='echo "$POPFETCH_ACCOUNT $POPFETCH_DELIVERED" >>'"$T/post.log"
post_lines() { [ -f "$T/post.log" ] && wc -l <"$T/post.log" || echo 0; }

pf_config "$T/config" keep=false post_command="$POST"
pf_run first -f "$T/config"
pf_expect_rc 0 "a poll that delivered 10"
[ "$(cat "$T/post.log")" = "lab 10" ] || t_fail "post_command saw '$(cat "$T/post.log")', expected 'lab 10'"
pf_run second -f "$T/config"
pf_expect_rc 1 "a poll with nothing new"
[ "$(post_lines)" = 1 ] || t_fail "post_command ran after a poll that delivered nothing"

# A poll that delivered 3 of 4 and then failed (the MDA refused one): it runs, with 3.
lab_mkmail --count 4 --seed 21 --first-seq 11 --append --manifest "$T/manifest"
mkdir -p "$T/md/tmp" "$T/md/new" "$T/md/cur"
pf_config "$T/mda.conf" keep=false maildir=- mda="MDA_FAIL=12:1 $TESTLIB/mda-store $T/md" \
	post_command="$POST"
pf_run partial -f "$T/mda.conf"
pf_expect_rc 10 "a poll whose MDA refused one message"
[ "$(tail -n 1 "$T/post.log")" = "lab 3" ] || t_fail "after a partial poll post_command saw '$(tail -n 1 "$T/post.log")'"

# Its failure is a warning; the exit code stays the poll's.
pf_config "$T/config" keep=false post_command="echo 'indexer: database locked' >&2; exit 3"
pf_run failing -f "$T/config"
pf_expect_rc 0 "a poll whose post_command fails"
pf_expect_err "post_command failed \(exit status 3: indexer: database locked\)" "the failure logged"

# Its deadline (mda_timeout): killed, logged, exit code unchanged.
lab_mkmail --count 2 --seed 22 --first-seq 15 --append --manifest "$T/manifest"
pf_config "$T/config" keep=false mda_timeout=1 post_command="sleep 30"
pf_run slow -f "$T/config"
pf_expect_rc 0 "a poll whose post_command hangs"
pf_expect_err "post_command failed \(killed after the 1 s deadline\)" "the deadline logged"
[ "$PF_SECS" -le 6 ] || t_fail "a hanging post_command held popfetch for $PF_SECS s"

# The global post_command, for an account without its own.
lab_mkmail --count 3 --seed 23 --first-seq 17 --append --manifest "$T/manifest"
pf_config "$T/config" keep=false
{ echo "post_command = $(pf_value "$POST")"; cat "$T/config"; } >"$T/global.conf"
chmod 600 "$T/global.conf"
pf_run global -f "$T/global.conf"
pf_expect_rc 0 "a poll with the global post_command"
[ "$(tail -n 1 "$T/post.log")" = "lab 3" ] || t_fail "the global post_command saw '$(tail -n 1 "$T/post.log")'"
[ "$(post_lines)" = 3 ] || t_fail "post_command ran $(post_lines) times, expected 3"
t_log "PASS"
