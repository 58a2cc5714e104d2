#!/usr/bin/env bash
# crash_steps (STYLE.md item 11): stop popfetch after durability step N for N = 1, 2, 3, ...
# (POPFETCH_TEST_STOP_AFTER_STEP, SIGKILL), resume without the hook, and compare with an
# uninterrupted run: every message exactly once and intact, nothing left on the server in delete
# mode, nothing fetched twice in keep mode. Ends when a hooked run completes (N beyond the last step);
# fails if the hook never stopped a run or a pass has fewer steps than it must.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
. "$TESTLIB/crash-lib.sh"
t_init crash_steps

COUNT=${CRASH_STEPS_COUNT:-20}
MAX_N=500
SEED=5
lab_start

# Reference: one uninterrupted run into Maildir A.
crash_fresh_mailbox "$COUNT"
pf_config "$T/ref.conf" keep=false maildir="$T/A" state_dir="$T/A.state"
pf_run ref -f "$T/ref.conf"
pf_expect_rc 0 "reference run"
pf_verify "$T/manifest" "$T/A" --strict-tmp
[ "$(lab_count)" = 0 ] || t_fail "reference run left $(lab_count) messages on the server"
md_seqs "$T/A" >"$T/A.seqs"

# run_until_done KEEP COUNT MIN: the step loop; KEEP is true or false. The hook must really stop
# the runs: the first hooked run must end by its SIGKILL, and a pass must count at least MIN steps
# before a hooked run completes (else the hook, or the steps it counts, are gone).
run_until_done() {
	local keep=$1 count=$2 min=$3 n rc resume_rc
	pf_config "$T/B.conf" keep="$keep" maildir="$T/B" state_dir="$T/B.state"
	for ((n = 1; n <= MAX_N; n++)); do
		crash_fresh_mailbox "$count"
		rm -rf "$T/B" "$T/B.state"
		crash_hooked_run "$n" "keep=$keep N=$n" "crash-$keep-$n" "$T/B.conf" " after step $n"
		rc=$CRASH_RC
		crash_resume_run "keep=$keep N=$n" "resume-$keep-$n" "$T/B.conf"
		resume_rc=$CRASH_RESUME_RC
		pf_check_b "$keep" "$count" "N=$n (hooked exit $rc, resume exit $resume_rc)"
		t_log "keep=$keep N=$n: $CRASH_STEP; resume exit $resume_rc; ok"
		if [ "$rc" = 0 ]; then
			[ "$n" -gt 1 ] ||
				t_fail "keep=$keep: the run hooked to stop after step 1 ran to completion: the test hook never fired"
			[ "$((n - 1))" -ge "$min" ] ||
				t_fail "keep=$keep: only $((n - 1)) durability steps before a hooked run completed, expected at least $min"
			[ "$resume_rc" = 1 ] || t_fail "keep=$keep: after a complete run, the next one exited $resume_rc, expected 1"
			t_log "keep=$keep: $((n - 1)) durability steps (at least $min expected), every one survived a SIGKILL"
			return 0
		fi
	done
	t_fail "keep=$keep: the hooked run never completed within N <= $MAX_N"
}

pf_check_b() {   # KEEP COUNT CONTEXT: Maildir B has every message once; the server as it should be
	local keep=$1 count=$2 ctx=$3 out want_server=0
	out=$("$TESTLIB/verify-maildir" --manifest "$T/manifest" "$T/B" 2>&1) ||
		{ echo "$out" >&2; t_fail "keep=$keep $ctx: Maildir B is wrong"; }
	[ "$keep" = true ] && want_server=$count
	[ "$(lab_count)" = "$want_server" ] ||
		t_fail "keep=$keep $ctx: the server has $(lab_count) messages, expected $want_server"
	if [ "$keep" = false ]; then
		md_seqs "$T/B" | cmp -s - "$T/A.seqs" ||
			t_fail "keep=$keep $ctx: the delivered set differs from the uninterrupted run's"
	fi
}

# 20 messages are one batch made durable by one syncfs where src/fs_sync.c trusts it ("batch
# synced"); the 5 of keep mode are fewer than MAILDIR_SYNCFS_MIN: an fsync each ("message synced").
# The least number of steps a pass has (DESIGN.md section 2): one link into new/ per message, at
# least one data sync, the pending-journal commit, the sync of new/, the delivered commit, and in
# delete mode the DELEs: COUNT + 5, or COUNT + 4 in keep mode (QUIT and the further syncs are extra).
run_until_done false "$COUNT" $((COUNT + 5))
# Keep mode: the pending-journal window (DESIGN.md section 2) must not duplicate either.
KEEP_COUNT=${CRASH_STEPS_KEEP_COUNT:-5}
run_until_done true "$KEEP_COUNT" $((KEEP_COUNT + 4))
t_log "PASS"
