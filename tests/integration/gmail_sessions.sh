#!/usr/bin/env bash
# gmail_sessions: Gmail's session limit (issue 12 item 1, DESIGN.md section 9).  A Gmail POP3
# session lists only the ~250 oldest messages not fetched yet and hides what a session fetched
# from the next, whatever DELE said.  tests/lib/pop3-mailbox-server plays that with a generated
# maildrop.  One run of a `provider = gmail` account opens sessions until one brings nothing new,
# delivers every message exactly once, honours -l and max_size across sessions (skipped messages,
# listed again in every session, cannot make it spin), reports each skipped message once, and
# -c says "at least".  The same server without the preset gets one session: the quirk is preset
# data, not a guess.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init gmail_sessions

. "$TESTLIB/script-tests.sh"
MBOX=$TESTLIB/pop3-mailbox-server

gmail() {   # NAME N [server options]: a Gmail-like server of N messages, 250 a session
	local name=$1 n=$2
	shift 2
	rm -f "$T/$name.port" "$T/$name.log"
	t_bg "$MBOX" --messages "$n" --session-cap 250 --hide-retrieved --max-seconds 120 \
		--ready-file "$T/$name.port" --log "$T/$name.log" "$@" 2>"$T/$name.stderr"
	SRV_PID=$T_BG_PID
	t_wait_file "$T/$name.port"
	SRV_PORT=$(cat "$T/$name.port")
}

sessions() { grep -c '^connection' "$T/$1.log"; }   # NAME: connections the server saw
expect_sessions() {   # NAME N
	local got
	got=$(sessions "$1")
	[ "$got" = "$2" ] || t_fail "$1: $got sessions, expected $2"
	! grep -q MISMATCH "$T/$1.log" || t_fail "$1: $(grep -m1 MISMATCH "$T/$1.log")"
}

delivered_once() {   # MAILDIR FIRST LAST: messages FIRST..LAST each exactly once, nothing else
	python3 - "$@" <<'PY' || t_fail "$1: not every message exactly once"
import collections, os, re, sys
md, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = collections.Counter()
for sub in ("new", "cur"):
    d = os.path.join(md, sub)
    for name in os.listdir(d) if os.path.isdir(d) else []:
        m = re.search(rb"^Subject: message (\d+)$", open(os.path.join(d, name), "rb").read(), re.M)
        seen[int(m.group(1)) if m else -1] += 1
want = collections.Counter(range(lo, hi + 1)) if hi >= lo else collections.Counter()
if seen != want:
    extra = sorted(k for k in seen if seen[k] != want.get(k, 0))[:5]
    missing = sorted(k for k in want if k not in seen)[:5]
    print(f"{md}: {sum(seen.values())} files, {sum(want.values())} expected; wrong {extra}, "
          f"missing {missing}", file=sys.stderr)
    sys.exit(1)
PY
}

# --- 700 messages, keep mode: 250 + 250 + 200, then a session that brings nothing new
gmail keep 700
conf keep provider=gmail keep=true
PF_TIMEOUT=120 run keep
pf_expect_rc 0 "keep: a first run of 700 messages"
expect_sessions keep 4
delivered_once "$T/keep.Maildir" 1 700
[ "$(grep -c '^C: RETR ' "$T/keep.log")" = 700 ] || t_fail "keep: $(grep -c '^C: RETR ' "$T/keep.log") RETRs for 700 messages"
never_sent keep DELE "keep mode deleted"
grep -q '700 fetched' "$PF_ERR" || t_fail "keep: the summary does not count 700 fetched: $(tail -n 1 "$PF_ERR")"
# The next run: Gmail lists nothing (all hidden): one session, nothing new.
PF_TIMEOUT=60 run keep
pf_expect_rc 1 "keep: the second run"
expect_sessions keep 5
delivered_once "$T/keep.Maildir" 1 700

# --- the same server without the preset: one session (the quirk is preset data)
gmail plain 700
conf plain keep=true
run plain
pf_expect_rc 0 "plain: a server without a preset"
expect_sessions plain 1
delivered_once "$T/plain.Maildir" 1 250

# --- -l 300 in delete mode: the limit counts across sessions (250 + 50), then the next run
gmail limit 700
conf limit provider=gmail
PF_TIMEOUT=60 run limit -l 300
pf_expect_rc 0 "limit: -l 300"
expect_sessions limit 2
delivered_once "$T/limit.Maildir" 1 300
[ "$(grep -c '^C: DELE ' "$T/limit.log")" = 300 ] || t_fail "limit: not 300 DELEs"
PF_TIMEOUT=60 run limit -l 300
pf_expect_rc 0 "limit: the second -l 300 run"
expect_sessions limit 4
delivered_once "$T/limit.Maildir" 1 600

# --- max_size: 100 big messages at the head stay listed in every session (never retrieved, so
# never hidden); 150 small ones a session come through, then a session with nothing fetchable
# ends the run.  Each big message is reported and counted once.
gmail big 400 --big 1-100
conf big provider=gmail keep=true max_size=10000
PF_TIMEOUT=60 run big
pf_expect_rc 0 "big: max_size across sessions"
expect_sessions big 3
delivered_once "$T/big.Maildir" 101 400
never_sent big 'RETR (100|[1-9][0-9]?)' "a message over max_size was retrieved"
[ "$(grep -c 'skipping message' "$PF_ERR")" = 100 ] || t_fail "big: $(grep -c 'skipping message' "$PF_ERR") skip reports for 100 big messages"
grep -q '100 skipped' "$PF_ERR" || t_fail "big: the summary does not count 100 skipped: $(tail -n 1 "$PF_ERR")"
# Only big ones left: the first session brings nothing fetchable and the run ends.
PF_TIMEOUT=60 run big
pf_expect_rc 1 "big: only skipped messages left"
expect_sessions big 4

# --- -c: one session, and a listing as long as Gmail's cap is a lower bound
gmail check 700
conf check provider=gmail keep=true
run check -c
pf_expect_rc 0 "check: -c"
expect_sessions check 1
grep -q 'at least 250 new of at least 250' "$PF_ERR" || t_fail "check: -c does not say 'at least': $(tail -n 1 "$PF_ERR")"
never_sent check RETR "-c retrieved a message"
gmail small 40
conf small provider=gmail keep=true
run small -c
pf_expect_rc 0 "small: -c"
grep -q ': 40 new of 40' "$PF_ERR" || t_fail "small: -c of a short listing is not exact: $(tail -n 1 "$PF_ERR")"

# --- a later login refused with [LOGIN-DELAY]: the run ends with what it delivered (exit 0), the
# rest is for a later run, which the backoff record delays as the server asked
gmail delay 700 --refuse-after 1
conf delay provider=gmail keep=true
run delay
pf_expect_rc 0 "delay: a second login refused"
expect_sessions delay 2
delivered_once "$T/delay.Maildir" 1 250
grep -q 'no further session now' "$PF_ERR" || t_fail "delay: the refused session is not reported"
! grep -q 'error:' "$PF_ERR" || t_fail "delay: an error for a run that delivered: $(grep -m1 error: "$PF_ERR")"
run delay
pf_expect_rc 7 "delay: the next run within the server's pause"
expect_sessions delay 2
pf_expect_err 'LOGIN-DELAY' "delay: the next run names the pause"

# --- the bound: at most 10 sessions a run (2500 messages), the rest on the next run
gmail many 2600
conf many provider=gmail keep=true
PF_TIMEOUT=180 run many
pf_expect_rc 0 "many: 2600 messages"
expect_sessions many 10
delivered_once "$T/many.Maildir" 1 2500
PF_TIMEOUT=60 run many
pf_expect_rc 0 "many: the second run"
expect_sessions many 12
delivered_once "$T/many.Maildir" 1 2600
t_log "PASS"
