#!/usr/bin/env bash
# daemon: popfetch -d (DESIGN.md sections 4 and 8) against the lab Dovecot: repeated polls, SIGUSR1
# polls now, SIGHUP reloads (a broken config keeps the old one, naming file:line), SIGTERM in the
# middle of a slow 500-message fetch exits 0 quickly and loses or duplicates nothing, two popfetch
# on one account never fetch a message twice, backoff grows against a refused port, syslog is the
# default log (the test gives the daemon a /dev/log of its own and reads what arrives there), and
# -j 2 lets a good account finish while a stalled one is still waiting.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init daemon

D_PID=0 D_ERR=''

d_start() {   # NAME ARGS...: popfetch in the background (no timeout wrapper: it would eat SIGUSR1)
	local name=$1
	shift
	D_ERR=$T/$name.err
	t_bg "$POPFETCH" "$@" >"$T/$name.out" 2>"$D_ERR"
	D_PID=$T_BG_PID
	t_log "started popfetch $* (pid $D_PID)"
}

d_alive() {   # [PID]: still running (an exited job is not listed, even before it is waited for)
	case " $(jobs -pr | tr '\n' ' ') " in *" ${1:-$D_PID} "*) return 0;; esac
	return 1
}

d_wait() {   # SECONDS WHAT COMMAND...: until COMMAND succeeds; fails if the daemon dies first
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		d_alive || { PF_ERR=$D_ERR; t_fail "the daemon exited while waiting for $what"; }
		sleep 0.1
	done
	PF_ERR=$D_ERR
	t_fail "waited $secs s for $what"
}

d_stop() {   # [SIGNAL] [SECONDS]: stops the daemon; it must exit 0 within SECONDS (default 10)
	local sig=${1:-TERM} secs=${2:-10} i rc=0 start
	start=$(t_now_ms)
	kill "-$sig" "$D_PID"
	for ((i = 0; i < secs * 10; i++)); do
		d_alive || break
		sleep 0.1
	done
	d_alive && { PF_ERR=$D_ERR; t_fail "the daemon did not exit within $secs s of SIG$sig"; }
	wait "$D_PID" || rc=$?
	D_STOP_MS=$(( $(t_now_ms) - start ))
	[ "$rc" = 0 ] || { PF_ERR=$D_ERR; t_fail "the daemon exited $rc after SIG$sig, expected 0"; }
	t_log "daemon $D_PID stopped by SIG$sig in $D_STOP_MS ms"
}

has_mail() { [ "$(md_count "$1")" -ge "$2" ]; }
log_has() { grep -Eq -- "$2" "$1"; }
lines_ge() { [ "$(grep -Ec -- "$2" "$1")" -ge "$3" ]; }   # FILE REGEX N: at least N matching lines

lab_start

# --- 1. -d 1: polls again and again; mail added later arrives within seconds.
lab_mkmail --count 5 --seed 21 --manifest "$T/manifest"
pf_config "$T/c1.conf" keep=false maildir="$T/M1" state_dir="$T/state1"
d_start d1 -f "$T/c1.conf" -d 1 --log stderr
d_wait 15 "the first poll" has_mail "$T/M1" 5
lab_mkmail --count 4 --seed 22 --first-seq 6 --append --manifest "$T/manifest"
d_wait 10 "mail added after the first poll" has_mail "$T/M1" 9
d_wait 10 "a third poll" lines_ge "$D_ERR" 'lab: .* new, ' 3
d_stop
pf_verify "$T/manifest" "$T/M1"
[ "$(lab_count)" = 0 ] || t_fail "repeated polls left $(lab_count) messages on the server"

# --- 2. --daemon with poll_interval = 3600: nothing more until SIGUSR1, which polls at once.
lab_reset
lab_mkmail --count 3 --seed 23 --manifest "$T/manifest2"
pf_config "$T/c2.conf" keep=true maildir="$T/M2" state_dir="$T/state2"
sed -i '1i poll_interval = 3600' "$T/c2.conf"
d_start d2 -f "$T/c2.conf" --daemon --log stderr
d_wait 15 "the first poll" has_mail "$T/M2" 3
lab_mkmail --count 2 --seed 24 --first-seq 4 --append --manifest "$T/manifest2"
sleep 2
[ "$(md_count "$T/M2")" = 3 ] || t_fail "polled again within 2 s with poll_interval = 3600"
kill -USR1 "$D_PID"
d_wait 5 "the poll SIGUSR1 asks for" has_mail "$T/M2" 5
pf_verify "$T/manifest2" "$T/M2"

# --- 3. SIGHUP: a good new config (a second account) is used at once; a broken one is refused with
# file:line, and the daemon goes on polling with the old one.
pf_config "$T/two.part" account=two keep=true maildir="$T/M2b"
sed 1d "$T/two.part" >>"$T/c2.conf"
kill -HUP "$D_PID"
d_wait 10 "the reload" log_has "$D_ERR" 'reloaded .*c2\.conf: 2 account'
d_wait 10 "the new account's first poll" has_mail "$T/M2b" 5
pf_verify "$T/manifest2" "$T/M2b"
cp "$T/c2.conf" "$T/c2.good"
printf 'poll_interval = 3600\nno_such_key = 1\n' >"$T/c2.conf"
kill -HUP "$D_PID"
d_wait 10 "the reload error" log_has "$D_ERR" "c2\.conf:2: .*no_such_key.*previous configuration stays"
d_alive || t_fail "a broken config on SIGHUP stopped the daemon"
lab_mkmail --count 2 --seed 25 --first-seq 6 --append --manifest "$T/manifest2"
kill -USR1 "$D_PID"
d_wait 10 "polls of both accounts with the old config" \
	eval 'has_mail "$T/M2" 7 && has_mail "$T/M2b" 7'
d_stop
pf_verify "$T/manifest2" "$T/M2"
pf_verify "$T/manifest2" "$T/M2b"

# --- 4. SIGTERM in the middle of a slow fetch of 500 messages: exit 0 soon, nothing lost or doubled.
lab_reset
lab_mkmail --count 500 --seed 26 --size-profile fixed:2000 --manifest "$T/manifest4"
# 150 ms each way and 200 KB/s: the 1 MB take about 5 s, however far ahead popfetch requests.
t_bg "$TESTLIB/latency-proxy" --listen 127.0.0.1:0 --to "127.0.0.1:$LAB_PORT_TLS" \
	--delay-ms 150 --rate 200000 --ready-file "$T/proxy.port" --max-seconds 600 >"$T/proxy.log" 2>&1
t_wait_file "$T/proxy.port"
pf_config "$T/c4.conf" keep=false maildir="$T/M4" state_dir="$T/state4" port="$(cat "$T/proxy.port")"
d_start d4 -f "$T/c4.conf" -d 3600 --log stderr -v
# All 500 are one batch (nothing is in the Maildir before its commit): SIGTERM 1 s into the data.
d_wait 30 "the fetch to start" log_has "$D_ERR" 'messages a batch'
sleep 1
d_stop TERM 15
got=$(md_count "$T/M4")
t_log "SIGTERM after $got of 500 messages"
[ "$got" -lt 500 ] || t_fail "the fetch ended before SIGTERM: the test proves nothing (slow the proxy)"
[ "$got" -gt 0 ] || t_fail "SIGTERM committed none of the messages stored before it"
log_has "$D_ERR" 'stopping' || t_fail "no 'stopping' line after SIGTERM"
pf_run rest4 -f "$T/c4.conf"
pf_expect_rc 0 "the one-shot run after SIGTERM"
pf_verify "$T/manifest4" "$T/M4"
[ "$(lab_count)" = 0 ] || t_fail "after SIGTERM and a new run, $(lab_count) messages are left on the server"

# --- 5. Two daemons and one-shot runs on one account at once: every message exactly once; the
# loser of the lock skips (daemon) or exits 8 (one-shot).
lab_reset
lab_mkmail --count 150 --seed 27 --size-profile fixed:2000 --manifest "$T/manifest5"
pf_config "$T/c5.conf" keep=false maildir="$T/M5" port="$(cat "$T/proxy.port")" state_dir="$T/state5"
d_start d5a -f "$T/c5.conf" -d 1 --log stderr
pid_a=$D_PID err_a=$D_ERR
d_start d5b -f "$T/c5.conf" -d 1 --log stderr
pid_b=$D_PID err_b=$D_ERR
lost=0
for i in 1 2 3; do
	PF_QUIET=1 pf_run "one5-$i" -f "$T/c5.conf"
	case $PF_RC in 8) lost=$((lost + 1));; 0|1) ;; *) t_fail "one-shot run $i beside two daemons exited $PF_RC";; esac
done
d_wait 60 "all 150 messages" has_mail "$T/M5" 150
sleep 2
skips=$(cat "$err_a" "$err_b" | grep -c 'skipped this poll' || true)
t_log "lock conflicts: $skips daemon polls skipped, $lost one-shot runs exited 8"
[ $((skips + lost)) -ge 1 ] || t_fail "two daemons and three one-shot runs never met on the lock"
D_PID=$pid_a D_ERR=$err_a d_stop
D_PID=$pid_b D_ERR=$err_b d_stop
pf_verify "$T/manifest5" "$T/M5"

# --- 6. Backoff against a refused port: the waits grow (2, 4, 8 s with -d 1).
pf_config "$T/c6.conf" port="$(t_free_port)" maildir="$T/M6" state_dir="$T/state6"
d_start d6 -f "$T/c6.conf" -d 1 --log stderr
d_wait 20 "three failed polls" lines_ge "$D_ERR" 'backing off' 3
d_stop
grep -o 'next poll in [0-9.]* s' "$D_ERR" | awk '{ print $4 }' >"$T/waits"
t_log "backoff waits: $(tr '\n' ' ' <"$T/waits")"
awk 'NR > 1 && $1 <= prev { exit 1 } { prev = $1 } END { exit NR < 3 }' "$T/waits" ||
	t_fail "the waits after failures do not grow: $(tr '\n' ' ' <"$T/waits")"
awk 'NR == 1 && ($1 < 2 || $1 > 2.2) { exit 1 }' "$T/waits" ||
	t_fail "the first backoff should be 2 s (+10% jitter) with -d 1, not $(head -n 1 "$T/waits")"

# --- 7. Logs go to syslog by default in daemon mode (facility mail, ident popfetch with the pid,
# doc/popfetch.1): nothing on stderr, and the poll's summary reaches syslog. glibc's syslog() sends
# to /dev/log, which a container may lack and which the test must not take over: the daemon runs
# in a mount namespace of its own (unshare -m; as root, as CI runs) whose /dev is a directory of
# ours with the devices bound in and a Unix datagram socket at /dev/log, where a listener records
# every message it gets.
lab_reset
lab_mkmail --count 2 --seed 28 --manifest "$T/manifest7"
pf_config "$T/c7.conf" keep=true maildir="$T/M7" state_dir="$T/state7"
if unshare -m --propagation private true 2>/dev/null; then
	mkdir -p "$T/dev"
	# (python3 -c: a background job's stdin is /dev/null, so no here-document)
	t_bg python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.monotonic() + 120          # bounded: the test kills it sooner
with open(sys.argv[2], "ab", buffering=0) as f:
    while time.monotonic() < end:
        try:
            f.write(s.recv(65536).rstrip(b"\n") + b"\n")
        except socket.timeout:
            pass
' "$T/dev/log" "$T/syslog.txt"
	for ((i = 0; i < 100; i++)); do [ -S "$T/dev/log" ] && break; sleep 0.05; done
	[ -S "$T/dev/log" ] || t_fail "the syslog listener did not bind $T/dev/log"
	D_ERR=$T/d7.err
	# shellcheck disable=SC2016
	t_bg unshare -m --propagation private sh -c 'set -e; d=$1; shift
		for n in null zero full random urandom tty; do
			[ -e "/dev/$n" ] || continue
			: >"$d/$n"
			mount --bind "/dev/$n" "$d/$n"
		done
		ln -s /proc/self/fd "$d/fd"
		mount --rbind "$d" /dev
		exec "$@"' sh "$T/dev" "$POPFETCH" -f "$T/c7.conf" -d 1 >"$T/d7.out" 2>"$D_ERR"
	D_PID=$T_BG_PID         # unshare and sh exec: the daemon itself
	d_wait 15 "the first poll" has_mail "$T/M7" 2
	d_wait 10 "the summary in syslog" \
		log_has "$T/syslog.txt" '^<(1[6-9]|2[0-3])>.* popfetch\[[0-9]+\]: lab: 2 new'
	d_stop
	t_log "syslog got: $(grep -c . "$T/syslog.txt") messages, e.g. $(tail -n 1 "$T/syslog.txt")"
elif [ "${POPFETCH_REQUIRE_INTEGRATION:-0}" = 1 ]; then
	t_fail "cannot make a mount namespace (unshare -m) to give the daemon a /dev/log of the test's"
else
	t_log "no mount namespace here (not root?): syslog delivery is not checked, only quiet stderr"
	d_start d7 -f "$T/c7.conf" -d 1
	d_wait 15 "the first poll" has_mail "$T/M7" 2
	d_stop
fi
[ ! -s "$D_ERR" ] || { PF_ERR=$D_ERR; t_fail "the daemon wrote to stderr without --log stderr"; }

# --- 8. -j 2: a stalled server (timeout = 3) does not hold up a good account.
printf '%s\n' 'STALL' >"$T/stall.script"
t_bg "$TESTLIB/pop3-script-server" --script "$T/stall.script" --ready-file "$T/stall.port" \
	--log "$T/stall.log" --max-seconds 60 2>"$T/stall.stderr"
t_wait_file "$T/stall.port"
pf_config "$T/slow.part" account=slow tls=none port="$(cat "$T/stall.port")" timeout=3 \
	maildir="$T/M8slow"
pf_config "$T/c8.conf" keep=true maildir="$T/M8" state_dir="$T/state8"
sed 1d "$T/slow.part" >"$T/slow.block"
# slow first in config order: its failure is the exit code, and -j 1 would make lab wait for it.
{ head -n 1 "$T/c8.conf"; cat "$T/slow.block"; sed 1d "$T/c8.conf"; } >"$T/c8.tmp"
mv "$T/c8.tmp" "$T/c8.conf"
chmod 0600 "$T/c8.conf"
pf_run j2 -f "$T/c8.conf" -j 2
pf_expect_rc 2 "-j 2 with a stalled first account"
pf_verify "$T/manifest7" "$T/M8"
first=$(grep -n 'lab: .* new, ' "$PF_ERR" | head -n 1 | cut -d: -f1)
stall=$(grep -n 'error: slow:' "$PF_ERR" | head -n 1 | cut -d: -f1)
[ -n "$first" ] && [ -n "$stall" ] || t_fail "-j 2: missing the good summary or the stalled account's error"
[ "$first" -lt "$stall" ] || t_fail "-j 2: the good account finished after the stalled one timed out"
[ "$PF_SECS" -ge 3 ] || t_fail "-j 2: the stalled account did not wait for its timeout"
t_log "daemon: ok"
