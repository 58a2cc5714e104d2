#!/usr/bin/env bash
# lmtp_dovecot: `lmtp` into Dovecot's own LMTP service (issue 15 item 3). One lab Dovecot is the
# POP3 source, a second one (LAB_LMTP=1) the destination on a unix socket. Every message arrives
# once, intact, over one LMTP connection per poll (PIPELINING used, as Dovecot offers it); a 5xx
# (unknown recipient) and a 4xx (the destination mailbox cannot be written) leave the messages on
# the server with the server's reply reported and exit 10; the next good poll delivers them once.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
. "$TESTLIB/mda-lib.sh"
t_init lmtp_dovecot

[ -x /usr/lib/dovecot/lmtp ] || t_skip "Dovecot's LMTP is not installed (apt-get install dovecot-lmtpd)"
lab_start
lab_start_at "$T/dest" LAB_LMTP=1
t_log "LMTP destination: $DEST_LMTP_SOCKET, mailbox $DEST_MAILDIR"
lmtp_sessions() { grep -c 'lmtp([0-9]*): Info: Disconnect from local' "$DEST_LOG" || true; }

lab_mkmail --count 60 --seed 18 --manifest "$T/manifest"
pf_config "$T/config" keep=false maildir=- lmtp="unix:$DEST_LMTP_SOCKET" lmtp_recipient=alice
before=$(lmtp_sessions)
pf_run first -f "$T/config" -v
pf_expect_rc 0 "the first poll into LMTP"
pf_verify "$T/manifest" "$DEST_MAILDIR"
[ "$(lab_count)" = 0 ] || t_fail "the server keeps $(lab_count) messages"
grep -q "connected to unix:$DEST_LMTP_SOCKET (PIPELINING)" "$PF_ERR" || t_fail "PIPELINING was not used"
sleep 0.2
[ "$(( $(lmtp_sessions) - before ))" = 1 ] || t_fail "$(( $(lmtp_sessions) - before )) LMTP sessions for one poll"
pf_run nothing -f "$T/config"
pf_expect_rc 1 "a poll with nothing new"
[ "$(( $(lmtp_sessions) - before ))" = 1 ] || t_fail "a poll without mail connected to LMTP"

# 5xx: an unknown recipient. Nothing is delivered, nothing deleted.
lab_mkmail --count 5 --seed 19 --first-seq 61 --append --manifest "$T/manifest"
pf_config "$T/bob.conf" keep=false maildir=- lmtp="unix:$DEST_LMTP_SOCKET" lmtp_recipient=bob
pf_run unknown -f "$T/bob.conf"
pf_expect_rc 10 "a poll whose recipient the LMTP server refuses"
pf_expect_err "not delivered \(550 5\.1\.1 <bob> User doesn't exist.*refused for good" "the 5xx reported"
[ "$(lab_count)" = 5 ] || t_fail "after a 5xx the server keeps $(lab_count) messages, expected 5"

# 4xx: the destination mailbox cannot be written (Dovecot answers 451 after DATA).
chmod 000 "$DEST_MAILDIR/tmp"
pf_run tempfail -f "$T/config"
chmod 700 "$DEST_MAILDIR/tmp"
pf_expect_rc 10 "a poll the LMTP server answers with 4xx"
pf_expect_err "not delivered \(451 .*a temporary failure" "the 4xx reported"
[ "$(lab_count)" = 5 ] || t_fail "after a 4xx the server keeps $(lab_count) messages, expected 5"

pf_run recovered -f "$T/config"
pf_expect_rc 0 "the poll after the failures"
pf_verify "$T/manifest" "$DEST_MAILDIR"
[ "$(lab_count)" = 0 ] || t_fail "the server keeps $(lab_count) messages"
t_log "PASS"
