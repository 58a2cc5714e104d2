#!/usr/bin/env bash
# crash_random: SIGKILL popfetch at random moments (20 times) while it fetches 300 messages in delete mode
# through a latency proxy (so kills land in every phase: connect, TLS, listing, RETR, delivery,
# DELE, QUIT), then let it finish: no message lost, none duplicated, the server empty.
# The kill window is the measured length of one full fetch (at most 600 ms), and whenever a run
# got everything before its kill, another batch of new messages arrives, so no kill is wasted on
# an empty mailbox. CRASH_SEED=S repeats a run (the seed is printed).
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init crash_random

COUNT=${CRASH_RANDOM_COUNT:-300}
KILLS=${CRASH_RANDOM_KILLS:-20}
DELAY_MS=${CRASH_RANDOM_DELAY_MS:-5}
REFILL=100
SEED=${CRASH_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
t_log "seed $SEED (CRASH_SEED=$SEED repeats this run): $COUNT messages, $KILLS kills, $DELAY_MS ms each way"

lab_start
lab_mkmail --count "$COUNT" --seed 11 --manifest "$T/manifest"
next_seq=$((COUNT + 1))
t_bg "$TESTLIB/latency-proxy" --listen 127.0.0.1:0 --to "127.0.0.1:$LAB_PORT_TLS" \
	--delay-ms "$DELAY_MS" --ready-file "$T/proxy.port" --max-seconds 600 >"$T/proxy.log" 2>&1
t_wait_file "$T/proxy.port"
port=$(cat "$T/proxy.port")

# Calibration: one full fetch in keep mode into a scratch Maildir (the server keeps everything).
pf_config "$T/calib.conf" keep=true port="$port" maildir="$T/calib" state_dir="$T/calib.state"
pf_run calibrate -f "$T/calib.conf"
pf_expect_rc 0 "calibration run"
window=$PF_MS
[ "$window" -le 600 ] || window=600
[ "$window" -ge 50 ] || window=50
t_log "a full fetch of $COUNT messages takes $PF_MS ms: kills land within the first $window ms"

pf_config "$T/config" keep=false port="$port"
finished=0
for ((i = 1; i <= KILLS; i++)); do
	if [ "$(lab_count)" = 0 ]; then
		lab_mkmail --count $REFILL --seed $((11 + i)) --first-seq $next_seq --append --manifest "$T/manifest"
		t_log "the server was empty: $REFILL new messages (seq $next_seq..$((next_seq + REFILL - 1)))"
		next_seq=$((next_seq + REFILL))
	fi
	ms=$((RANDOM % (window + 1)))
	# No timeout wrapper here: the kill below comes within 600 ms (and killing a wrapper would
	# orphan popfetch instead of killing it).
	t_bg "$POPFETCH" -f "$T/config" >>"$T/killed.out" 2>>"$T/killed.err"
	pid=$T_BG_PID
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -KILL "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	t_log "kill $i after ${ms} ms: exit $rc, $(md_count "$T/Maildir") delivered, $(lab_count) on the server"
	case $rc in
	137) ;;
	0|1) finished=$((finished + 1)) ;;     # it was faster than the kill
	*) PF_ERR=$T/killed.err; t_fail "a run exited $rc before it was killed" ;;
	esac
done

pf_run final -f "$T/config"
case $PF_RC in 0|1) ;; *) t_fail "the final run exited $PF_RC";; esac
pf_verify "$T/manifest" "$T/Maildir"
[ "$(lab_count)" = 0 ] || t_fail "the server still has $(lab_count) messages after the final run"
pf_run again -f "$T/config"
pf_expect_rc 1 "a poll after everything was fetched"
t_log "PASS ($finished of $KILLS runs finished before their kill)"
