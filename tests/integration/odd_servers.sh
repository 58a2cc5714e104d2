#!/usr/bin/env bash
# odd_servers: servers that are odd but legal (RFC 1939 leaves room), scripted with
# tests/lib/pop3-script-server: no CAPA, no UIDL, an APOP greeting, no TOP and unusual spacing,
# message bytes that stress the decoder (the Maildir must hold exactly the decoded bytes), and a
# maildrop of 100,000 messages (--check must finish in bounded time and memory).
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init odd_servers

. "$TESTLIB/script-tests.sh"

expected_messages

# --- no CAPA (-ERR): an RFC 1939-only server; fetch, delete, QUIT
serve nocapa two-messages.pop3
conf nocapa
run nocapa
pf_expect_rc 0 "server without CAPA"
srv_ok nocapa
md_is nocapa "$T/exp-one" "$T/exp-two"

# --- no UIDL (optional in RFC 1939): delete mode fetches and deletes everything...
serve nouidl odd-nouidl.pop3
conf nouidl
run nouidl
pf_expect_rc 0 "server without UIDL, delete mode"
srv_ok nouidl
md_is nouidl "$T/exp-one" "$T/exp-two"
# ...keep mode and --check cannot tell new from old: refuse with a clear message, fetch nothing.
serve nouidl-keep odd-nouidl.pop3
conf nouidl-keep keep=true
run nouidl-keep
expect_fail nouidl-keep 4 'UIDL.*keep|keep.*UIDL'
never_sent nouidl-keep RETR "keep mode fetched without UIDs"
no_dele nouidl-keep
md_is nouidl-keep
serve nouidl-check odd-nouidl.pop3
conf nouidl-check
run nouidl-check -c
expect_fail nouidl-check 4 'UIDL'
never_sent nouidl-check RETR "--check fetched"
no_dele nouidl-check
md_is nouidl-check

# --- a greeting with an APOP timestamp (auth = auto still logs in with USER/PASS)
serve apop odd-apop.pop3
conf apop
run apop
pf_expect_rc 0 "greeting with an APOP timestamp"
srv_ok apop
md_is apop "$T/exp-one" "$T/exp-two"

# --- no TOP in CAPA, bare "+OK" replies, extra and trailing blanks in STAT/UIDL/LIST (keep mode).
# The rerun lists the same UIDs with plain spacing: the first run must have stored them trimmed.
serve spacing odd-spacing.pop3
conf spacing keep=true
run spacing
pf_expect_rc 0 "unusual spacing"
srv_ok spacing
md_is spacing "$T/exp-one" "$T/exp-two"
serve spacing2 two-listing-quit.pop3
conf spacing2 keep=true state_dir="$T/spacing.state" maildir="$T/spacing.Maildir"
run spacing2
pf_expect_rc 1 "the rerun with plainly spaced UIDs (nothing new)"
srv_ok spacing2
md_is spacing "$T/exp-one" "$T/exp-two"

# --- message bytes: ".", "..", bare CR, NUL, bare LF, no final newline, a 3 MiB line
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
open(t + "/exp-bytes-1", "wb").write(
    b"Subject: dots and bytes\n\n.\n..\n.x\nbare\rcr\nnul\0in\0line\n\0\nbare lf\nno final newline\n")
open(t + "/exp-bytes-2", "wb").write(b"Subject: long line\n\n" + b"x" * 3145728 + b"\nend\n")
PY
serve bytes odd-bytes.pop3
conf bytes
run bytes
pf_expect_rc 0 "odd message bytes"
srv_ok bytes
md_is bytes "$T/exp-bytes-1" "$T/exp-bytes-2"

# --- 100,000 messages: the listing is generated, bodies are tiny. --check lists and counts
# (bounded time and memory); a keep-mode run with --limit 2 fetches messages 1 and 2 only, and
# --check then counts 99,998.
N=100000
python3 - "$T" "$N" <<'PY'
import sys
t, n = sys.argv[1], int(sys.argv[2])
with open(t + "/big-uidl.txt", "w", newline="") as f:
    f.write("+OK\r\n" + "".join(f"{i} big-{i:06d}-{i * 7919 % 100003:05d}\r\n" for i in range(1, n + 1)) + ".\r\n")
with open(t + "/big-list.txt", "w", newline="") as f:
    f.write("+OK\r\n" + "".join(f"{i} {100 + i % 50}\r\n" for i in range(1, n + 1)) + ".\r\n")
PY
big_script() {   # NAME [extra steps]: the listing, then the given steps, then QUIT. LIST (the
	# sizes) only when steps are given: --check and a poll with nothing new never ask for it.
	local name=$1
	shift
	{
		printf 'INCLUDE %s\nC: STAT\nS: +OK %s %s\n' "$SCRIPTS/login.pop3" "$N" "$((N * 125))"
		printf 'C: UIDL\nSFILE big-uidl.txt\n'
		[ $# = 0 ] || printf 'C: LIST\nSFILE big-list.txt\n'
		printf '%s\n' "$@"
		printf 'C: QUIT\nS: +OK\n'
	} >"$T/$name.pop3"
}
big_script big-check
serve big-check "$T/big-check.pop3"
conf big-check keep=true timeout=20
PF_TIMEOUT=60 run_rss big-check -c
pf_expect_rc 0 "--check with $N messages"
srv_ok big-check
grep -Eq "\\b$N new of $N\\b" "$PF_ERR" "$PF_OUT" || t_fail "big-check: no '$N new of $N' summary"
[ "$PF_RSS_KB" -lt $((200 * 1024)) ] || t_fail "big-check: peak RSS $PF_RSS_KB kB (limit 200 MB)"
t_log "  $N messages: --check took $PF_MS ms, peak RSS $PF_RSS_KB kB"
big_script big-fetch 'C: RETR 1' 'S: +OK' 'S: Subject: one' 'S:' 'S: body one' 'S: .' \
	'C: RETR 2' 'S: +OK' 'S: Subject: two' 'S:' 'S: body two' 'S: .'
serve big-fetch "$T/big-fetch.pop3"
conf big-fetch keep=true timeout=20 state_dir="$T/big-check.state" maildir="$T/big-check.Maildir"
PF_TIMEOUT=60 run_rss big-fetch -l 2
pf_expect_rc 0 "keep mode, --limit 2, $N messages"
srv_ok big-fetch
md_is big-check "$T/exp-one" "$T/exp-two"
[ "$PF_RSS_KB" -lt $((200 * 1024)) ] || t_fail "big-fetch: peak RSS $PF_RSS_KB kB (limit 200 MB)"
t_log "  $N messages: --limit 2 took $PF_MS ms, peak RSS $PF_RSS_KB kB"
serve big-again "$T/big-check.pop3"
conf big-again keep=true timeout=20 state_dir="$T/big-check.state" maildir="$T/big-check.Maildir"
PF_TIMEOUT=60 run big-again -c
pf_expect_rc 0 "--check after fetching 2 of $N"
srv_ok big-again
grep -Eq "\\b$((N - 2)) new of $N\\b" "$PF_ERR" "$PF_OUT" || t_fail "big-again: no '$((N - 2)) new of $N' summary"
t_log "PASS"
