#!/usr/bin/env bash
# hostile: servers that break POP3 on purpose, scripted with tests/lib/pop3-script-server. Each
# case asserts the exit code (DESIGN.md section 6), one short sanitised error line, a bounded run
# time, a Maildir with exactly the messages that were complete (nothing partial in new/, cur/ or
# tmp/), no DELE for anything undelivered and no QUIT after a failure (QUIT would commit
# deletions). Over-long UIDs are in cve_regressions.sh (CVE-2005-2335), escape sequences in
# server text there too (CVE-2010-1167); a stall right after the greeting is in errors.sh.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init hostile

. "$TESTLIB/script-tests.sh"

expected_messages
RSS_LIMIT_KB=$((100 * 1024))

# --- a status line longer than PF_LINE_MAX (4 KiB): a protocol error, nothing else sent
serve longstatus hostile-long-status.pop3
conf longstatus
run longstatus
expect_fail longstatus 4 'longer than|too long'
no_credentials longstatus
md_is longstatus

# --- listings that cannot be trusted: nothing fetched, nothing deleted, no QUIT. A line that
# names no message, and a listing cut off before its terminating dot.
serve uidl-garbage hostile-uidl-garbage.pop3
conf uidl-garbage
run uidl-garbage
expect_fail uidl-garbage 4 'UIDL'
printf 'INCLUDE %s\nC: STAT\nS: +OK 2 100\nC: UIDL\nS: +OK\nS: 1 uid-one\nS: 2 uid-two\nCLOSE\n' \
	"$SCRIPTS/login.pop3" >"$T/nodot.pop3"
serve nodot "$T/nodot.pop3"
conf nodot
run nodot
expect_fail nodot 2 'closed|lost|connection'
for name in uidl-garbage nodot; do
	never_sent "$name" RETR "a message was fetched from a listing that was refused"
	no_dele "$name"
	no_quit "$name"
	md_is "$name"
done

# --- a bad listing line costs one message (issue 12, DESIGN.md section 9): a UID with a control
# byte leaves message 2 on the server untouched and reported; message 1 is fetched and deleted.
# Two messages that share a UID both stay; nothing else is new, so nothing is fetched.
serve uid-ctrl hostile-uid-ctrl.pop3
conf uid-ctrl
run uid-ctrl
pf_expect_rc 0 "uid-ctrl: message 1 despite message 2's UID"
srv_ok uid-ctrl
md_is uid-ctrl "$T/exp-one"
never_sent uid-ctrl 'RETR 2|DELE 2' "the message with the invalid UID was touched"
pf_expect_err 'message 2 left on the server: its UIDL line has no valid UID' uid-ctrl
! LC_ALL=C grep -q '[^[:print:]]' "$PF_ERR" || t_fail "uid-ctrl: a raw byte of the UID reached stderr"
serve uid-repeat hostile-uid-repeat.pop3
conf uid-repeat
run uid-repeat
pf_expect_rc 1 "uid-repeat: nothing fetchable"
srv_ok uid-repeat
md_is uid-repeat
never_sent uid-repeat 'RETR|DELE|LIST' "a message with a shared UID was touched"
pf_expect_err 'message 1 left on the server: another message has the same UID same-uid' uid-repeat
pf_expect_err 'message 2 left on the server' uid-repeat

# Every kind at once, in keep mode, again in keep mode, then switched to delete mode (which
# deletes what was delivered: DESIGN.md section 8): 200 characters, a space, non-ASCII, a control
# byte, a shared UID, an empty one.  Only messages 1 and 9 are ever retrieved or deleted, each
# bad message is reported once a poll with its number, and the rest of the poll goes on.
long=$(printf 'u%.0s' $(seq 200))
badlisting() {   # [--new]: STAT and UIDL of the nine messages; with --new also LIST
	printf 'INCLUDE %s\nC: STAT\nS: +OK 9 450\nC: UIDL\nS: +OK\nS: 1 good-one\n' "$SCRIPTS/login.pop3"
	printf 'S: 2 %s\nS: 3 has space\nSB: 4 caf\\xc3\\xa9\\r\\n\nSB: 5 ctl\\x07x\\r\\n\n' "$long"
	printf 'S: 6 dup-x\nS: 7 dup-x\nS: 8\nS: 9 good-nine\nS: .\n'
	[ "${1:-}" = --new ] || return 0
	printf 'C: LIST\nS: +OK\n'
	for i in $(seq 9); do printf 'S: %s 50\n' "$i"; done
	printf 'S: .\n'
}
retr() { printf 'C: RETR %s\nS: +OK\nS: Subject: %s\nS:\nS: body %s\nS: .\n' "$1" "$1" "$1"; }
{ badlisting --new; retr 1; retr 9; printf 'C: QUIT\nS: +OK bye\n'; } >"$T/bad-keep.pop3"
{ badlisting; printf 'C: QUIT\nS: +OK bye\n'; } >"$T/bad-again.pop3"
{ badlisting; printf 'C: DELE 1\nS: +OK\nC: DELE 9\nS: +OK\nC: QUIT\nS: +OK bye\n'; } >"$T/bad-delete.pop3"
printf 'Subject: 1\n\nbody 1\n' >"$T/exp-1"
printf 'Subject: 9\n\nbody 9\n' >"$T/exp-9"
bad_reported() {   # NAME: each of messages 2-8 reported exactly once, 1 and 9 never
	local i n
	for i in 2 3 4 5 6 7 8; do
		n=$(grep -c "message $i left on the server" "$PF_ERR")
		[ "$n" = 1 ] || t_fail "$1: message $i reported $n times, not once"
	done
	! grep -Eq 'message (1|9) left' "$PF_ERR" || t_fail "$1: a good message reported as bad"
	grep -q 'another message has the same UID dup-x' "$PF_ERR" || t_fail "$1: the shared UID is not named"
	! grep -q "$long" "$PF_ERR" || t_fail "$1: the 200-character UID was printed"
}
for step in keep:bad-keep:true:0 again:bad-again:true:1 delete:bad-delete:false:1; do
	IFS=: read -r name script keep want <<<"$step"
	serve "bad-$name" "$T/$script.pop3"
	conf "bad-$name" keep="$keep" state_dir="$T/bad.state" maildir="$T/bad.Maildir"
	run "bad-$name"
	pf_expect_rc "$want" "bad-$name: the good messages of a listing with bad lines"
	srv_ok "bad-$name"
	never_sent "bad-$name" 'RETR [2-8]|DELE [2-8]' "a message with a bad UID was touched"
	bad_reported "bad-$name"
	md_is bad "$T/exp-1" "$T/exp-9"
done
origins_are bad good-one good-nine
# A delete-mode first poll of the same maildrop: fetched, then deleted, 1 and 9 only.
{ badlisting --new; retr 1; retr 9; printf 'C: DELE 1\nS: +OK\nC: DELE 9\nS: +OK\nC: QUIT\nS: +OK bye\n'; } >"$T/bad-first-delete.pop3"
serve bad-first-delete "$T/bad-first-delete.pop3"
conf bad-first-delete
run bad-first-delete
pf_expect_rc 0 "bad-first-delete"
srv_ok bad-first-delete
never_sent bad-first-delete 'RETR [2-8]|DELE [2-8]' "a message with a bad UID was touched"
bad_reported bad-first-delete
md_is bad-first-delete "$T/exp-1" "$T/exp-9"

# --- UIDs with '/' and '..' are valid (RFC 1939: 0x21..0x7E) and must be delivered, but never
# become a path: no file or directory named after them may appear anywhere we write.
token=pf-escape-$RANDOM$RANDOM
listing() {   # [--again]: the maildrop of listing-two.pop3, with path-like UIDs (no LIST when
	# nothing is new)
	printf 'INCLUDE %s\nC: STAT\nS: +OK 2 100\nC: UIDL\nS: +OK\n' "$SCRIPTS/login.pop3"
	printf 'S: 1 ../../%s\nS: 2 /%s/../../x/y\nS: .\n' "$token" "$token"
	[ "${1:-}" = --again ] || printf 'C: LIST\nS: +OK\nS: 1 50\nS: 2 50\nS: .\n'
}
{ listing; printf 'INCLUDE %s\n' "$SCRIPTS/retr-one.pop3" "$SCRIPTS/retr-two.pop3" "$SCRIPTS/dele-quit.pop3"; } >"$T/slash.pop3"
{ listing --again; printf 'INCLUDE %s\n' "$SCRIPTS/dele-quit.pop3"; } >"$T/slash-again.pop3"
serve slash "$T/slash.pop3"
conf slash
run slash
pf_expect_rc 0 "UIDs with '/' and '..'"
srv_ok slash
md_is slash "$T/exp-one" "$T/exp-two"
origins_are slash "../../$token" "/$token/../../x/y"
# ../../TOKEN from state_dir or Maildir/new lands in $T/.. or /tmp; look there and in $T.
found=$(find "$T" /tmp / -maxdepth 4 -xdev -name "*$token*" 2>/dev/null | head -n 3)
[ -z "$found" ] || t_fail "slash: a UID became a path: $found"
# The store must give the same UIDs back: a delete-mode rerun fetches nothing and deletes both.
serve slash2 "$T/slash-again.pop3"
conf slash2 state_dir="$T/slash.state" maildir="$T/slash.Maildir"
run slash2
pf_expect_rc 1 "rerun with the path-like UIDs already delivered"
srv_ok slash2
md_is slash "$T/exp-one" "$T/exp-two"

# --- LIST sizes lie both ways (hints only): both messages arrive byte for byte
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
line = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"
open(t + "/exp-lies-1", "wb").write(b"Subject: listed as 10\n\n" + line * 16384)
open(t + "/exp-lies-2", "wb").write(b"123456789\n")
PY
serve lies hostile-list-lies.pop3
conf lies
run lies
pf_expect_rc 0 "LIST sizes that lie"
srv_ok lies
md_is lies "$T/exp-lies-1" "$T/exp-lies-2"

# --- a message that never ends, without max_size: the 1 GiB hard cap (DESIGN.md section 8) ends
# the run with a protocol error, in bounded memory, delivering and deleting nothing. (Loopback
# streams a GiB in seconds. With max_size set, see hostile_flood.sh.)
serve flood hostile-flood.pop3
conf flood
PF_TIMEOUT=60 run_rss flood
expect_fail flood 4 'larger than' 60000
[ "$PF_RSS_KB" -lt "$RSS_LIMIT_KB" ] || t_fail "flood: peak RSS $PF_RSS_KB kB (limit $RSS_LIMIT_KB kB)"
never_sent flood 'RETR 2' "message 2 was fetched after the message that never ends"
no_dele flood
no_quit flood
md_is flood

# --- stalls (timeout = 2): exit 2 within 10 s, nothing deleted
for name in capa uidl retr; do
	serve "stall-$name" "stall-$name.pop3"
	conf "stall-$name" timeout=2
	run "stall-$name"
	expect_fail "stall-$name" 2 '[Tt]ime|respond|[Ss]tall'
	no_dele "stall-$name"
	no_quit "stall-$name"
done
no_credentials stall-capa
never_sent stall-uidl 'LIST|RETR' "the client went on after a stalled UIDL listing"
md_is stall-capa
md_is stall-uidl
# Mid-RETR: message 1 was complete and stays (durable, recorded); message 2 left no trace.
md_is stall-retr "$T/exp-one"
serve stall-retr2 two-messages-have-one.pop3
conf stall-retr2 state_dir="$T/stall-retr.state" maildir="$T/stall-retr.Maildir"
run stall-retr2
pf_expect_rc 0 "the rerun after the mid-RETR stall"
srv_ok stall-retr2
md_is stall-retr "$T/exp-one" "$T/exp-two"

# At QUIT: DELE was sent and accepted, but without QUIT's +OK the server deleted nothing. Both
# messages are in the Maildir once; the rerun fetches nothing, deletes both, and duplicates none.
serve stall-quit stall-quit.pop3
conf stall-quit timeout=2
run stall-quit
expect_fail stall-quit 2 '[Tt]ime|respond|[Ss]tall'
{ sent stall-quit 'DELE 2' && sent stall-quit QUIT; } || t_fail "stall-quit: the script did not reach QUIT"
md_is stall-quit "$T/exp-one" "$T/exp-two"
serve stall-quit2 two-messages-have-both.pop3
conf stall-quit2 state_dir="$T/stall-quit.state" maildir="$T/stall-quit.Maildir"
run stall-quit2
pf_expect_rc 1 "the rerun after the stall at QUIT"
srv_ok stall-quit2
md_is stall-quit "$T/exp-one" "$T/exp-two"

# A greeting trickled a byte every 0.4 s: the line has one deadline (DESIGN.md section 8), so
# timeout = 2 cuts it off although a byte keeps arriving.
{
	printf 'SB: +OK \n'
	for _ in $(seq 40); do printf 'SLEEP 0.4\nSB: x\n'; done
	printf 'S: \nC~ .\n'
} >"$T/trickle.pop3"
serve trickle "$T/trickle.pop3"
conf trickle timeout=2
run trickle
expect_fail trickle 2 '[Tt]ime|respond|[Ss]tall' 6000
no_credentials trickle
t_log "PASS"
