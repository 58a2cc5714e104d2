#!/usr/bin/env bash
# crash_lmtp: the LMTP destination across crashes (issue 15 item 3, DESIGN.md section 2). Like an
# MDA, an LMTP server cannot be asked later what it took: at-least-once, one message wide. Stop
# after step N (POPFETCH_TEST_STOP_AFTER_STEP) for every N in turn, then a resumed run: every
# message in Dovecot's mailbox, intact, the POP3 server empty; a duplicate only when the stop came
# between the server's 2xx and its record ("lmtp replied"), and then exactly that one message.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
. "$TESTLIB/mda-lib.sh"
. "$TESTLIB/crash-lib.sh"
t_init crash_lmtp

[ -x /usr/lib/dovecot/lmtp ] || t_skip "Dovecot's LMTP is not installed (apt-get install dovecot-lmtpd)"
COUNT=${CRASH_LMTP_COUNT:-6}
MAX_N=200
MIN_STEPS=12   # measured: 16
lab_start
lab_start_at "$T/dest" LAB_LMTP=1

prepare() {   # fresh messages on the server, Dovecot's mailbox and the state emptied
	lab_reset
	"$TESTLIB/lab-dovecot" reset "$T/dest"
	lab_mkmail --count "$COUNT" --seed 26 --manifest "$T/manifest"
	rm -rf "$T/B.state"
}

pf_config "$T/B.conf" keep=false maildir=- lmtp="unix:$DEST_LMTP_SOCKET" lmtp_recipient=alice \
	state_dir="$T/B.state"
crash_window_loop "$T/B.conf" "$DEST_MAILDIR" "lmtp replied" "the LMTP window" prepare
t_log "PASS"
