#!/usr/bin/env bash
# crash_mbox: the crash tests with an mbox destination (issue 15 item 2: exactly once across
# kill -9). First stop-after-step-N (POPFETCH_TEST_STOP_AFTER_STEP) for N = 1, 2, ... until a
# hooked run completes, in delete and keep mode; the steps include the middle of every message's
# append, so kills leave torn appends that the resumed run must cut back. After each resume the
# mbox, read back by Python's mailbox, holds every message exactly once and intact, nothing else
# (its size is the uninterrupted run's), and the server is as it should be. Then random SIGKILLs
# while 300 messages come through a latency proxy, and the same checks after a final run.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
. "$TESTLIB/crash-lib.sh"
t_init crash_mbox

COUNT=${CRASH_STEPS_COUNT:-20}
MAX_N=500
SEED=5
lab_start

# mbox_check MBOX CONTEXT: every message of the manifest exactly once, intact, nothing else.
mbox_check() {
	local out
	rm -rf "$T/split" "$T/split.work"
	"$TESTLIB/mbox-split" --reader python "$1" "$T/split" >/dev/null ||
		t_fail "$2: Python's mailbox cannot read $1"
	out=$("$TESTLIB/verify-maildir" --manifest "$T/manifest" "$T/split" 2>&1) ||
		{ echo "$out" >&2; t_fail "$2: the mbox is wrong"; }
}

# Reference: one uninterrupted run.
crash_fresh_mailbox "$COUNT"
pf_config "$T/ref.conf" keep=false maildir=- mbox="$T/A.mbox" state_dir="$T/A.state"
pf_run ref -f "$T/ref.conf"
pf_expect_rc 0 "reference run"
mbox_check "$T/A.mbox" "reference run"
ref_size=$(stat -c %s "$T/A.mbox")

cutbacks=0
run_until_done() {   # KEEP COUNT MIN: MIN steps at least, or the hook did not fire
	local keep=$1 count=$2 min=$3 n rc resume_rc want_server=0 size
	[ "$keep" = true ] && want_server=$count
	pf_config "$T/B.conf" keep="$keep" maildir=- mbox="$T/B.mbox" state_dir="$T/B.state"
	for ((n = 1; n <= MAX_N; n++)); do
		crash_fresh_mailbox "$count"
		rm -rf "$T/B.mbox" "$T/B.mbox.lock" "$T/B.state"
		crash_hooked_run "$n" "keep=$keep N=$n" "crash-$keep-$n" "$T/B.conf" " after step $n"
		rc=$CRASH_RC
		crash_resume_run "keep=$keep N=$n" "resume-$keep-$n" "$T/B.conf"
		resume_rc=$CRASH_RESUME_RC
		grep -q "cut .* back to" "$PF_ERR" && cutbacks=$((cutbacks + 1))
		mbox_check "$T/B.mbox" "keep=$keep N=$n"
		[ "$(lab_count)" = "$want_server" ] ||
			t_fail "keep=$keep N=$n: the server has $(lab_count) messages, expected $want_server"
		size=$(stat -c %s "$T/B.mbox")
		if [ "$count" = "$COUNT" ] && [ "$size" != "$ref_size" ]; then
			t_fail "keep=$keep N=$n: the mbox has $size bytes, the uninterrupted run's $ref_size"
		fi
		[ ! -e "$T/B.mbox.lock" ] || t_fail "keep=$keep N=$n: the resumed run left a dot lock"
		t_log "keep=$keep N=$n: $CRASH_STEP; resume exit $resume_rc; ok"
		if [ "$rc" = 0 ]; then
			[ "$resume_rc" = 1 ] || t_fail "keep=$keep: after a complete run, the next one exited $resume_rc"
			[ $((n - 1)) -ge "$min" ] ||
				t_fail "keep=$keep: only $((n - 1)) durability steps before a hooked run completed, expected at least $min: the test hook never fired"
			t_log "keep=$keep: $((n - 1)) durability steps, every one survived a SIGKILL"
			return 0
		fi
	done
	t_fail "keep=$keep: the hooked run never completed within N <= $MAX_N"
}

run_until_done false "$COUNT" 35              # measured: 45
run_until_done true "${CRASH_STEPS_KEEP_COUNT:-5}" 10   # measured: 14
[ "$cutbacks" -gt 0 ] || t_fail "no resumed run cut back a torn append: the half-append steps were not exercised"
t_log "$cutbacks resumed runs cut back a torn append"

# --- random SIGKILLs through a latency proxy (as crash_random.sh) -------------------------
RCOUNT=${CRASH_RANDOM_COUNT:-300}
KILLS=${CRASH_RANDOM_KILLS:-20}
RSEED=${CRASH_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$RSEED
t_log "random kills: seed $RSEED (CRASH_SEED=$RSEED repeats it), $RCOUNT messages, $KILLS kills"
lab_reset
lab_mkmail --count "$RCOUNT" --seed 11 --manifest "$T/manifest"
next_seq=$((RCOUNT + 1))
t_bg "$TESTLIB/latency-proxy" --listen 127.0.0.1:0 --to "127.0.0.1:$LAB_PORT_TLS" \
	--delay-ms 5 --ready-file "$T/proxy.port" --max-seconds 600 >"$T/proxy.log" 2>&1
t_wait_file "$T/proxy.port"
port=$(cat "$T/proxy.port")

pf_config "$T/calib.conf" keep=true port="$port" maildir=- mbox="$T/calib.mbox" state_dir="$T/calib.state"
pf_run calibrate -f "$T/calib.conf"
pf_expect_rc 0 "calibration run"
window=$PF_MS
[ "$window" -le 600 ] || window=600
[ "$window" -ge 50 ] || window=50
t_log "a full fetch of $RCOUNT messages takes $PF_MS ms: kills land within the first $window ms"

pf_config "$T/R.conf" keep=false port="$port" maildir=- mbox="$T/R.mbox" state_dir="$T/R.state"
for ((i = 1; i <= KILLS; i++)); do
	if [ "$(lab_count)" = 0 ]; then
		lab_mkmail --count 100 --seed $((11 + i)) --first-seq $next_seq --append --manifest "$T/manifest"
		next_seq=$((next_seq + 100))
	fi
	ms=$((RANDOM % (window + 1)))
	t_bg "$POPFETCH" -f "$T/R.conf" >>"$T/killed.out" 2>>"$T/killed.err"
	pid=$T_BG_PID
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -KILL "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	t_log "kill $i after ${ms} ms: exit $rc, $(grep -c '^From ' "$T/R.mbox" 2>/dev/null || echo 0) From_ lines, $(lab_count) on the server"
	case $rc in
	137|0|1) ;;
	*) PF_ERR=$T/killed.err; t_fail "a run exited $rc before it was killed" ;;
	esac
done
pf_run final -f "$T/R.conf"
case $PF_RC in 0|1) ;; *) t_fail "the final run exited $PF_RC";; esac
mbox_check "$T/R.mbox" "after $KILLS random kills"
[ "$(lab_count)" = 0 ] || t_fail "the server still has $(lab_count) messages after the final run"
pf_run again -f "$T/R.conf"
pf_expect_rc 1 "a poll after everything was fetched"
t_log "PASS"
