#!/usr/bin/env bash
# retention: keep = true with delete_after = N deletes from the server the messages delivered more
# than N days ago, and only those; --check reports them; the local copies stay.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init retention

lab_start
lab_mkmail --count 6 --seed 11 --manifest "$T/manifest"
pf_config "$T/config" keep=true delete_after=2
pf_run first -f "$T/config"
pf_expect_rc 0 "first poll"
[ "$(lab_count)" = 6 ] || t_fail "keep mode deleted messages on the first poll"

# Age the first three deliveries by three days (field 4 of a D record is when it was first seen).
store=$T/state/lab.uids
old=$(( $(date +%s) - 3 * 86400 ))
awk -v old="$old" '$1 == "D" && n < 3 { $4 = old; n++ } { print }' "$store" >"$store.new"
mv "$store.new" "$store"

pf_run check -f "$T/config" --check
pf_expect_rc 1 "--check: no new mail"
[ "$(lab_count)" = 6 ] || t_fail "--check deleted messages"

pf_run second -f "$T/config"
pf_expect_rc 1 "second poll: nothing new"
[ "$(lab_count)" = 3 ] || t_fail "expected 3 messages left on the server, found $(lab_count)"
[ "$(md_count "$T/Maildir")" = 6 ] || t_fail "local copies changed: $(md_count "$T/Maildir")"
pf_verify "$T/manifest" "$T/Maildir"

pf_run third -f "$T/config"
pf_expect_rc 1 "third poll"
[ "$(lab_count)" = 3 ] || t_fail "messages younger than delete_after were deleted"
t_log "retention: ok"
