#!/usr/bin/env bash
# fetch_delete: delete mode. Everything is delivered intact and then removed from the server; a
# second poll finds nothing. Switching a keep account to -K deletes what is already safe locally
# (DESIGN.md section 8) without delivering it again.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init fetch_delete

lab_start
lab_mkmail --count 120 --seed 7 --manifest "$T/manifest"

pf_config "$T/config" keep=false
pf_run first -f "$T/config"
pf_expect_rc 0 "first poll in delete mode"
pf_verify "$T/manifest" "$T/Maildir" --strict-tmp
md_check_names "$T/Maildir"
[ "$(lab_count)" = 0 ] || t_fail "delete mode left $(lab_count) messages on the server"

pf_run second -f "$T/config"
pf_expect_rc 1 "second poll (server empty)"
[ "$(md_count "$T/Maildir")" = 120 ] || t_fail "second poll changed the Maildir: $(md_count "$T/Maildir") messages"

# keep = true in the config, fetched with -k, then -K: the 10 messages are deleted, not re-delivered.
lab_mkmail --count 10 --seed 8 --first-seq 121 --append --manifest "$T/manifest"
pf_config "$T/config-keep" keep=true
pf_run keep -f "$T/config-keep" -k
pf_expect_rc 0 "poll with -k"
[ "$(lab_count)" = 10 ] || t_fail "-k: the server has $(lab_count) messages, expected 10"
pf_run no-keep -f "$T/config-keep" -K
case $PF_RC in 0|1) ;; *) t_fail "-K after -k: popfetch exited $PF_RC, expected 0 or 1";; esac
[ "$(lab_count)" = 0 ] || t_fail "-K did not delete the messages delivered earlier: $(lab_count) left"
pf_verify "$T/manifest" "$T/Maildir" --strict-tmp
t_log "PASS"
