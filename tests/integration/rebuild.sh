#!/usr/bin/env bash
# rebuild: a lost or corrupted uid store.  Corruption is reported (exit 10, naming the file and
# --rebuild-state) and never treated as empty; --rebuild-state regenerates the store from the
# X-Popfetch-UIDL lines in the Maildir, after which a poll downloads nothing again - also for
# messages a mail reader has moved to cur/ with flags.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init rebuild

lab_start
lab_mkmail --count 12 --seed 31 --manifest "$T/manifest"
pf_config "$T/config" keep=true
pf_run first -f "$T/config"
pf_expect_rc 0 "first poll"
# A mail reader reads two messages: new/NAME becomes cur/NAME:2,S.
for f in $(find "$T/Maildir/new" -type f | head -n 2); do
	mv "$f" "$T/Maildir/cur/$(basename "$f"):2,S"
done

store=$T/state/lab.uids
sed -i '0,/^D /s/^D /X /' "$store"
pf_run corrupt -f "$T/config"
pf_expect_rc 10 "poll with a corrupted uid store"
pf_expect_err "lab\\.uids.*corrupt.*--rebuild-state" "corrupted store"
[ "$(md_count "$T/Maildir")" = 12 ] || t_fail "a corrupted store led to new deliveries"

pf_run rebuild -f "$T/config" --rebuild-state lab
pf_expect_rc 0 "--rebuild-state"
grep -q 'rebuilt the uid store from 12 messages' "$PF_OUT" || t_fail "unexpected output: $(cat "$PF_OUT")"
[ -f "$store.bak" ] || t_fail "the corrupted store was not kept as lab.uids.bak"
pf_run after -f "$T/config"
pf_expect_rc 1 "poll after the rebuild: nothing new"
pf_verify "$T/manifest" "$T/Maildir"

rm -f "$store" "$store.bak"
pf_run rebuild2 -f "$T/config" --rebuild-state lab
pf_expect_rc 0 "--rebuild-state with no store at all"
pf_run after2 -f "$T/config"
pf_expect_rc 1 "poll after rebuilding a lost store"
pf_verify "$T/manifest" "$T/Maildir"
t_log "rebuild: ok"
