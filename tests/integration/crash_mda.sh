#!/usr/bin/env bash
# crash_mda: the MDA destination across crashes (issue 15 item 1, DESIGN.md section 2). An MDA
# cannot be asked what it did, so popfetch promises at-least-once there, never a loss, and the
# pending journal makes the window one message wide:
#   1. stop-after-step-N (POPFETCH_TEST_STOP_AFTER_STEP) for every N in turn, then a resumed run:
#      every message delivered, intact, the server empty; a duplicate only when the stop came
#      between an MDA's exit and its record ("mda exited"), and then exactly that one message;
#   2. random SIGKILLs while 150 messages go through the MDA (60 more whenever a run got them
#      all): nothing lost, at most one duplicate per kill, the server empty at the end.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
. "$TESTLIB/mda-lib.sh"
. "$TESTLIB/crash-lib.sh"
t_init crash_mda

COUNT=${CRASH_MDA_COUNT:-8}
KILLS=${CRASH_MDA_KILLS:-15}
MAX_N=200
MIN_STEPS=15   # measured: 20
lab_start
STORE="$TESTLIB/mda-store"
new_maildir() { rm -rf "$1"; mkdir -p "$1/tmp" "$1/new" "$1/cur"; }

prepare() {   # fresh messages on the server, an empty Maildir B and no state
	lab_reset
	lab_mkmail --count "$COUNT" --seed 24 --manifest "$T/manifest"
	new_maildir "$T/B"
	rm -rf "$T/B.state"
}

# 1. Every step in turn.
pf_config "$T/B.conf" keep=false maildir=- mda="$STORE $T/B" state_dir="$T/B.state"
crash_window_loop "$T/B.conf" "$T/B" "mda exited" "the MDA's window" prepare

# 2. Random SIGKILLs.
SEED=${CRASH_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
t_log "seed $SEED (CRASH_SEED=$SEED repeats this run): $KILLS kills"
lab_reset
lab_mkmail --count 150 --seed 25 --manifest "$T/manifest"
new_maildir "$T/calib"
pf_config "$T/calib.conf" keep=true maildir=- mda="$STORE $T/calib" state_dir="$T/calib.state"
pf_run calibrate -f "$T/calib.conf"
pf_expect_rc 0 "calibration run"
window=$PF_MS
[ "$window" -ge 100 ] || window=100
t_log "150 messages through the MDA take $PF_MS ms: kills land within the first $window ms"
new_maildir "$T/C"
pf_config "$T/C.conf" keep=false maildir=- mda="$STORE $T/C" state_dir="$T/C.state"
kills=0 next_seq=151
for ((i = 1; i <= KILLS; i++)); do
	if [ "$(lab_count)" = 0 ]; then   # no kill is wasted on an empty mailbox
		lab_mkmail --count 60 --seed $((25 + i)) --first-seq $next_seq --append --manifest "$T/manifest"
		next_seq=$((next_seq + 60))
	fi
	ms=$((RANDOM % window))
	t_bg "$POPFETCH" -f "$T/C.conf" >>"$T/killed.out" 2>>"$T/killed.err"
	pid=$T_BG_PID
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -KILL "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	case $rc in
	137) kills=$((kills + 1)) ;;
	0|1) ;;
	*) PF_ERR=$T/killed.err; t_fail "a run exited $rc before it was killed" ;;
	esac
	t_log "kill $i after ${ms} ms: exit $rc, $(md_count "$T/C") stored, $(lab_count) on the server"
done
sleep 0.5          # an MDA a kill orphaned may still be storing its message
pf_run final -f "$T/C.conf"
case $PF_RC in 0|1) ;; *) t_fail "the final run exited $PF_RC" ;; esac
read -r missing dup corrupt unknown < <(crash_counts "$T/manifest" "$T/C")
[ "$missing$corrupt$unknown" = 000 ] || t_fail "after $kills kills: missing=$missing corrupt=$corrupt unknown=$unknown"
[ "$dup" -le "$kills" ] || t_fail "$dup duplicates after $kills kills: more than one a kill"
[ "$(lab_count)" = 0 ] || t_fail "the server keeps $(lab_count) messages"
t_log "$kills kills: nothing lost, $dup duplicated (at most one a kill); PASS"
