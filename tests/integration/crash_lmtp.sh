#!/usr/bin/env bash
# crash_lmtp: the LMTP destination across crashes (issue 15 item 3, DESIGN.md section 2). Like an
# MDA, an LMTP server cannot be asked later what it took: at-least-once, one message wide. Stop
# after step N (POPFETCH_TEST_STOP_AFTER_STEP) for every N in turn, then a resumed run: every
# message in Dovecot's mailbox, intact, the POP3 server empty; a duplicate only when the stop came
# between the server's 2xx and its record ("lmtp replied"), and then exactly that one message.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
. "$TESTLIB/mda-lib.sh"
t_init crash_lmtp

[ -x /usr/lib/dovecot/lmtp ] || t_skip "Dovecot's LMTP is not installed (apt-get install dovecot-lmtpd)"
COUNT=${CRASH_LMTP_COUNT:-6}
MAX_N=200
lab_start
lab_start_at "$T/dest" LAB_LMTP=1

counts() {   # MANIFEST MAILDIR: "missing duplicated corrupt unknown"
	"$TESTLIB/verify-maildir" --manifest "$1" --json --quiet "$2" | head -n 1 | python3 -c '
import json, sys
c = json.load(sys.stdin)
print(c["missing"], c["duplicated"], c["corrupt"], c["unknown"])'
}

pf_config "$T/B.conf" keep=false maildir=- lmtp="unix:$DEST_LMTP_SOCKET" lmtp_recipient=alice \
	state_dir="$T/B.state"
for ((n = 1; n <= MAX_N; n++)); do
	lab_reset
	"$TESTLIB/lab-dovecot" reset "$T/dest"
	lab_mkmail --count "$COUNT" --seed 26 --manifest "$T/manifest"
	rm -rf "$T/B.state"
	PF_QUIET=1 POPFETCH_TEST_STEP_LOG=1 POPFETCH_TEST_STOP_AFTER_STEP=$n pf_run "crash-$n" -f "$T/B.conf"
	rc=$PF_RC
	step=$(grep -o 'after step .*' "$PF_ERR" || echo 'ran to completion')
	case $rc in
	137) grep -q "after step $n\b" "$PF_ERR" || t_fail "N=$n: killed, but not by the test hook" ;;
	0) ;;
	*) t_fail "N=$n: the hooked run exited $rc (expected 137, or 0 past the last step)" ;;
	esac
	PF_QUIET=1 pf_run "resume-$n" -f "$T/B.conf"
	case $PF_RC in 0|1) ;; *) t_fail "N=$n ($step): the resumed run exited $PF_RC" ;; esac
	read -r missing dup corrupt unknown < <(counts "$T/manifest" "$DEST_MAILDIR")
	[ "$missing$corrupt$unknown" = 000 ] ||
		t_fail "N=$n ($step): missing=$missing corrupt=$corrupt unknown=$unknown"
	case $step in
	*"(lmtp replied)"*) [ "$dup" -le 1 ] || t_fail "N=$n ($step): $dup duplicates, the window is one message" ;;
	*) [ "$dup" = 0 ] || t_fail "N=$n ($step): $dup duplicates outside the LMTP window" ;;
	esac
	[ "$(lab_count)" = 0 ] || t_fail "N=$n ($step): the server keeps $(lab_count) messages"
	t_log "N=$n: $step; resumed: every message delivered, $dup duplicated"
	if [ "$rc" = 0 ]; then
		t_log "$((n - 1)) steps, every one survived a SIGKILL; PASS"
		exit 0
	fi
done
t_fail "the hooked run never completed within N <= $MAX_N"
