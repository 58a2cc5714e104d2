#!/usr/bin/env bash
# progress: on a terminal a long fetch draws a progress line (messages, bytes, rate, ETA) redrawn
# in place with \r and erased before the summary; with stderr on a file there is none, and
# --no-progress turns it off on a terminal too.  The terminal is a pseudo-terminal (python3 pty);
# a latency proxy makes the fetch last long enough to be drawn.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init progress

lab_start
lab_mkmail --count 1500 --seed 21 --manifest "$T/manifest"
t_bg "$TESTLIB/latency-proxy" --listen 127.0.0.1:0 --to "127.0.0.1:$LAB_PORT_TLS" \
	--delay-ms 20 --ready-file "$T/proxy.port" --max-seconds 300 >"$T/proxy.log" 2>&1
t_wait_file "$T/proxy.port"

on_pty() {   # OUTFILE ARGS...: runs popfetch ARGS on a pseudo-terminal, its output in OUTFILE
	local out=$1
	shift
	timeout -k 5 120 python3 - "$out" "$POPFETCH" "$@" <<'PY'
import os, pty, sys
out, argv = sys.argv[1], sys.argv[2:]
data = bytearray()
def read(fd):
    chunk = os.read(fd, 65536)
    data.extend(chunk)
    return chunk
status = pty.spawn(argv, read)
open(out, "wb").write(data)
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

pf_config "$T/config" port="$(cat "$T/proxy.port")" host=localhost
rc=0; on_pty "$T/tty.out" -f "$T/config" || rc=$?
[ "$rc" = 0 ] || t_fail "fetch on a terminal exited $rc: $(tail -n 3 "$T/tty.out")"
pf_verify "$T/manifest" "$T/Maildir"
grep -aq $'\r[^\r]*lab: [0-9]*/1500 messages, .*/s, ETA' "$T/tty.out" ||
	t_fail "no progress line on the terminal: $(tr '\r' '\n' <"$T/tty.out" | head -n 5)"
grep -aq $'\r\033\\[K' "$T/tty.out" || t_fail "the progress line is not erased"
grep -aq 'lab: 1500 new, 1500 fetched' "$T/tty.out" || t_fail "no summary line after the progress"

# Not a terminal: no progress line (the same fetch, fresh state and Maildir).
pf_config "$T/config2" port="$(cat "$T/proxy.port")" host=localhost state_dir="$T/state2" \
	maildir="$T/Maildir2"
pf_run file -f "$T/config2"
pf_expect_rc 0 "fetch with stderr on a file"
! grep -aq 'messages, .*ETA' "$PF_ERR" "$PF_OUT" || t_fail "progress line written to a file"

# --no-progress on a terminal.
pf_config "$T/config3" port="$(cat "$T/proxy.port")" host=localhost state_dir="$T/state3" \
	maildir="$T/Maildir3"
rc=0; on_pty "$T/tty3.out" -f "$T/config3" --no-progress || rc=$?
[ "$rc" = 0 ] || t_fail "--no-progress fetch exited $rc"
! grep -aq 'ETA' "$T/tty3.out" || t_fail "--no-progress still drew a progress line"
t_log "progress: ok"
