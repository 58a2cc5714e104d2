#!/usr/bin/env bash
# slow_servers: every poll ends (DESIGN.md section 9).  A server that sends a message body or a
# listing one byte at a time, each byte well inside `timeout`, is cut off by the overall bound
# (min_rate, after a grace of one timeout): exit 2 within seconds, the message in flight not
# delivered, nothing deleted, no QUIT; a lower min_rate lets it through.  SIGTERM during such a body ends the poll within
# CONN_STOP_GRACE_S (5 s) and a second, the same way.  Scripted with tests/lib/pop3-script-server.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init slow_servers

. "$TESTLIB/script-tests.sh"

expected_messages

# --- a body trickling in (timeout = 2): message 1 delivered, message 2 neither delivered nor deleted
serve body trickle-retr.pop3
conf body timeout=2
run body
expect_fail body 2 'min_rate' 6000
srv_ok body
no_dele body
no_quit body
md_is body "$T/exp-one"

# --- min_rate is the account's: at 2 bytes a second the same trickle (2.5) is fast enough and
# the message arrives whole after its 16 s; 0 is refused as a configuration error
serve body-rate trickle-retr.pop3
conf body-rate timeout=2 min_rate=2
PF_TIMEOUT=60 run body-rate
pf_expect_rc 0 "a trickle above min_rate = 2"
srv_ok body-rate
printf 'Subject: two\n\nbody two, one byte at a time, slowly\n' >"$T/exp-slow"
md_is body-rate "$T/exp-one" "$T/exp-slow"
conf rate0 min_rate=0
run rate0
expect_fail rate0 5 'min_rate'

# --- a listing trickling in (timeout = 2): nothing fetched or deleted
serve uidl trickle-uidl.pop3
conf uidl timeout=2
run uidl
expect_fail uidl 2 'min_rate' 6000
srv_ok uidl
never_sent uidl 'LIST|RETR' "the client went on after a trickling listing"
no_dele uidl
no_quit uidl
md_is uidl

# --- SIGTERM while a body trickles in (timeout = 30, so min_rate would take 30 s): the poll ends
# within the stop's grace, message 1 delivered, message 2 not, nothing deleted
serve term trickle-retr.pop3
conf term timeout=30
t_bg "$POPFETCH" -f "$T/term.conf" >"$T/term.out" 2>"$T/term.err"
pf_pid=$T_BG_PID
t_wait_match "$T/term.log" 'TRICKLE' >/dev/null
sleep 1
start=$(t_now_ms)
kill -TERM "$pf_pid"
rc=0
for ((i = 0; i < 150; i++)); do
	kill -0 "$pf_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pf_pid" 2>/dev/null && t_fail "term: popfetch still runs 15 s after SIGTERM"
wait "$pf_pid" || rc=$?
ms=$(( $(t_now_ms) - start ))
t_log "term: popfetch exited $rc, $ms ms after SIGTERM: $(head -c 300 "$T/term.err")"
[ "$ms" -le 8000 ] || t_fail "term: popfetch took $ms ms after SIGTERM (the grace is 5 s)"
[ "$rc" = 2 ] || t_fail "term: popfetch exited $rc after SIGTERM mid-message, expected 2"
grep -q 'stopped on request' "$T/term.err" || t_fail "term: no 'stopped on request' error"
srv_ok term
no_dele term
no_quit term
md_is term "$T/exp-one"

t_log "PASS"
