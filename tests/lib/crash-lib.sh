# crash-lib.sh - the stop-after-step-N steps the crash tests share (sourced after common.sh).
# Each N is a run that the test hook (POPFETCH_TEST_STOP_AFTER_STEP, src/util.c) kills after
# durability step N, then a resumed run without the hook; the tests differ only in what they
# check after it.
#
#   crash_fresh_mailbox COUNT
#       the lab's mailbox reset to COUNT messages of seed $SEED, their manifest in $T/manifest
#       (the same messages every time).
#   crash_hooked_run N CONTEXT NAME CONF [HOOK_SUFFIX]
#       popfetch -f CONF as run NAME, stopped after step N: it must end by the hook's SIGKILL
#       after step N (137) or run to completion past the last step (0); else fails with CONTEXT
#       (HOOK_SUFFIX ends the "not by the test hook" message). Sets CRASH_RC to its exit code
#       and CRASH_STEP to the step the hook named ("after step ...") or "ran to completion".
#   crash_resume_run CONTEXT NAME CONF
#       popfetch -f CONF as run NAME without the hook: it must exit 0 or 1, else fails with
#       CONTEXT. Sets CRASH_RESUME_RC.
#   crash_counts MANIFEST MAILDIR
#       prints "missing duplicated corrupt unknown" from verify-maildir.
#   crash_window_loop CONF MAILDIR WINDOW WHERE PREPARE...
#       the whole step loop of an at-least-once destination (MDA, LMTP): for N = 1, 2, ... up to
#       $MAX_N, PREPARE (a command and its arguments) puts fresh messages with $T/manifest on the
#       server and empties the destination, then a hooked and a resumed run of CONF; after them
#       MAILDIR holds every message intact and nothing else, the server is empty, and a duplicate
#       (one at most) only when the hook stopped in the window, a step whose log names
#       "(WINDOW)"; WHERE names that window in the failure message. Returns when a hooked run
#       completes, having logged how many steps survived; fails if none did within $MAX_N, or
#       if fewer than $MIN_STEPS steps came before it (the hook did not fire: a hooked run that
#       completes at once proves nothing).

crash_fresh_mailbox() {   # COUNT
	lab_reset
	lab_mkmail --count "$1" --seed "$SEED" --manifest "$T/manifest"
}

crash_hooked_run() {   # N CONTEXT NAME CONF [HOOK_SUFFIX]
	local n=$1 ctx=$2
	PF_QUIET=1 POPFETCH_TEST_STEP_LOG=1 POPFETCH_TEST_STOP_AFTER_STEP=$n pf_run "$3" -f "$4"
	CRASH_RC=$PF_RC
	# POPFETCH_TEST_STEP_LOG: the hook says which step it stopped after.
	CRASH_STEP=$(grep -o 'after step .*' "$PF_ERR" || echo 'ran to completion')
	case $CRASH_RC in
	137) grep -q "after step $n\b" "$PF_ERR" || t_fail "$ctx: killed, but not by the test hook${5:-}" ;;
	0) ;;
	*) t_fail "$ctx: the hooked run exited $CRASH_RC (expected 137, or 0 past the last step)" ;;
	esac
}

crash_resume_run() {   # CONTEXT NAME CONF
	PF_QUIET=1 pf_run "$2" -f "$3"
	CRASH_RESUME_RC=$PF_RC
	case $CRASH_RESUME_RC in
	0|1) ;;
	*) t_fail "$1: the resumed run exited $CRASH_RESUME_RC" ;;
	esac
}

crash_counts() {   # MANIFEST MAILDIR
	"$TESTLIB/verify-maildir" --manifest "$1" --json --quiet "$2" | head -n 1 | python3 -c '
import json, sys
c = json.load(sys.stdin)
print(c["missing"], c["duplicated"], c["corrupt"], c["unknown"])'
}

crash_window_loop() {   # CONF MAILDIR WINDOW WHERE PREPARE...
	local conf=$1 maildir=$2 window=$3 where=$4 n step missing dup corrupt unknown
	shift 4
	for ((n = 1; n <= MAX_N; n++)); do
		"$@"
		crash_hooked_run "$n" "N=$n" "crash-$n" "$conf"
		step=$CRASH_STEP
		crash_resume_run "N=$n ($step)" "resume-$n" "$conf"
		read -r missing dup corrupt unknown < <(crash_counts "$T/manifest" "$maildir")
		[ "$missing$corrupt$unknown" = 000 ] ||
			t_fail "N=$n ($step): missing=$missing corrupt=$corrupt unknown=$unknown"
		case $step in
		*"($window)"*) [ "$dup" -le 1 ] || t_fail "N=$n ($step): $dup duplicates, the window is one message" ;;
		*) [ "$dup" = 0 ] || t_fail "N=$n ($step): $dup duplicates outside $where" ;;
		esac
		[ "$(lab_count)" = 0 ] || t_fail "N=$n ($step): the server keeps $(lab_count) messages"
		t_log "N=$n: $step; resumed: every message delivered, $dup duplicated"
		if [ "$CRASH_RC" = 0 ]; then
			[ $((n - 1)) -ge "${MIN_STEPS:?MIN_STEPS: the fewest steps a pass must have}" ] ||
				t_fail "only $((n - 1)) steps before a hooked run completed, expected at least $MIN_STEPS: the test hook never fired"
			t_log "$((n - 1)) steps, every one survived a SIGKILL"
			return 0
		fi
	done
	t_fail "the hooked run never completed within N <= $MAX_N"
}
