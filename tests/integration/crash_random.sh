#!/usr/bin/env bash
# crash_random: SIGKILL popfetch at random moments while it fetches in delete mode through a
# latency proxy (so kills land in every phase: connect, TLS, listing, RETR, delivery, DELE, QUIT),
# then let it finish: no message lost, none duplicated, the server empty.
# The first KILLS (20) kills fall anywhere within the measured length of one full fetch of 300
# messages (at most 600 ms). A kill counts as mid-fetch when the killed run had delivered some of
# the messages but not all; more kills, aimed between the latest kill that delivered nothing and
# the earliest that came after the whole delivery, follow until MID_WANT (10) landed mid-fetch,
# up to MAX_KILLS (50) in all: fewer is a failure. Before each kill the server is topped up with new
# messages to 300, so a kill is never wasted on an empty mailbox. CRASH_SEED=S repeats a
# run (the seed is printed).
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init crash_random

COUNT=${CRASH_RANDOM_COUNT:-300}
KILLS=${CRASH_RANDOM_KILLS:-20}
MID_WANT=${CRASH_RANDOM_MID:-10}
MAX_KILLS=${CRASH_RANDOM_MAX_KILLS:-50}
DELAY_MS=${CRASH_RANDOM_DELAY_MS:-5}
SEED=${CRASH_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
t_log "seed $SEED (CRASH_SEED=$SEED repeats this run): $COUNT messages, $KILLS kills and more until $MID_WANT landed mid-fetch (at most $MAX_KILLS), $DELAY_MS ms each way"

lab_start
lab_mkmail --count "$COUNT" --seed 11 --manifest "$T/manifest"
next_seq=$((COUNT + 1))
t_bg "$TESTLIB/latency-proxy" --listen 127.0.0.1:0 --to "127.0.0.1:$LAB_PORT_TLS" \
	--delay-ms "$DELAY_MS" --ready-file "$T/proxy.port" --max-seconds 600 >"$T/proxy.log" 2>&1
t_wait_file "$T/proxy.port"
port=$(cat "$T/proxy.port")

# Small batches spread the delivery over the fetch: a descriptor limit of 64 allows 16 messages a
# batch (src/fetch_batch.c, batch_limit), each batch linked into new/ and committed on its own, so a
# kill in the middle of the fetch finds some messages delivered and some not. With the default
# limit all 300 are one batch whose links take microseconds: a kill almost never lands within.
# Odd kills run with the default batches, even and aimed kills with small ones.

# Calibration: one full fetch with small batches (the slower) in keep mode into a scratch Maildir
# (the server keeps everything).
pf_config "$T/calib.conf" keep=true port="$port" maildir="$T/calib" state_dir="$T/calib.state"
( ulimit -n 64
  pf_run calibrate -f "$T/calib.conf" -v
  pf_expect_rc 0 "calibration run"
  grep -q 'up to 16 messages a batch' "$PF_ERR" || t_fail "calibration: not 16 messages a batch under ulimit -n 64"
  echo "$PF_MS" >"$T/calib.ms" ) || t_fail "the calibration run failed"
window=$(cat "$T/calib.ms")
t_log "a full fetch of $COUNT messages (16 a batch) takes $window ms"
[ "$window" -le 600 ] || window=600
[ "$window" -ge 50 ] || window=50
t_log "kills land within the first $window ms"

pf_config "$T/config" keep=false port="$port"
finished=0 mid=0 lo=0 hi=$window
for ((i = 1; i <= MAX_KILLS; i++)); do
	[ "$i" -le "$KILLS" ] || [ "$mid" -lt "$MID_WANT" ] || break
	on_server=$(lab_count)
	if [ "$on_server" -lt "$COUNT" ]; then
		add=$((COUNT - on_server))
		lab_mkmail --count $add --seed $((11 + i)) --first-seq $next_seq --append --manifest "$T/manifest"
		next_seq=$((next_seq + add))
	fi
	before=$(md_count "$T/Maildir")
	if [ "$i" -le "$KILLS" ]; then
		ms=$((RANDOM % (window + 1)))               # anywhere: every phase
	else
		ms=$((lo + RANDOM % (hi - lo + 1)))         # aimed at the delivery
	fi
	# No timeout wrapper here: the kill below comes within 600 ms (and killing a wrapper would
	# orphan popfetch instead of killing it; bash -c execs popfetch, so its pid is popfetch's).
	if [ "$i" -le "$KILLS" ] && [ $((i % 2)) = 1 ]; then batches=default; else batches=small; fi
	if [ $batches = default ]; then
		t_bg "$POPFETCH" -f "$T/config" >>"$T/killed.out" 2>>"$T/killed.err"
	else
		# shellcheck disable=SC2016
		t_bg bash -c 'ulimit -n 64 && exec "$@"' small "$POPFETCH" -f "$T/config" \
			>>"$T/killed.out" 2>>"$T/killed.err"
	fi
	pid=$T_BG_PID
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -KILL "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	after=$(md_count "$T/Maildir")
	case $rc in
	137) ;;
	0|1) finished=$((finished + 1)) ;;     # it was faster than the kill
	*) PF_ERR=$T/killed.err; t_fail "a run exited $rc before it was killed" ;;
	esac
	if [ "$rc" != 137 ] || [ "$after" -ge $((next_seq - 1)) ]; then
		landed="after the delivery"
		[ "$ms" -ge "$hi" ] || hi=$ms
	elif [ "$after" = "$before" ]; then
		landed="before any delivery"
		[ "$ms" -le "$lo" ] || lo=$ms
	else
		landed="mid-fetch"
		mid=$((mid + 1))
	fi
	# The bounds come from noisy timings: start over when they leave no room.
	[ $((hi - lo)) -ge 20 ] || { lo=0; hi=$window; }
	t_log "kill $i ($batches batches) after ${ms} ms: exit $rc, $landed ($before -> $after delivered of $((next_seq - 1)), $(lab_count) on the server)"
done
kills=$((i - 1))
t_log "$mid of $kills kills landed mid-fetch; $finished runs finished before their kill"
[ "$mid" -ge "$MID_WANT" ] ||
	t_fail "only $mid of $kills kills landed mid-fetch (some but not all messages delivered), expected $MID_WANT"

pf_run final -f "$T/config"
case $PF_RC in 0|1) ;; *) t_fail "the final run exited $PF_RC";; esac
pf_verify "$T/manifest" "$T/Maildir"
[ "$(lab_count)" = 0 ] || t_fail "the server still has $(lab_count) messages after the final run"
pf_run again -f "$T/config"
pf_expect_rc 1 "a poll after everything was fetched"
t_log "PASS ($mid of $kills kills landed mid-fetch)"
