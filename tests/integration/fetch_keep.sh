#!/usr/bin/env bash
# fetch_keep: keep mode over implicit TLS and STARTTLS against a real Dovecot. Every byte arrives,
# a second poll fetches nothing, new mail is fetched exactly once, the server keeps everything.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init fetch_keep

lab_start
lab_mkmail --count 200 --seed 42 --manifest "$T/manifest"
[ "$(lab_count)" = 200 ] || t_fail "mkmail did not fill the lab mailbox"

pf_config "$T/config" keep=true
pf_run first -f "$T/config"
pf_expect_rc 0 "first poll (200 new messages, implicit TLS)"
pf_verify "$T/manifest" "$T/Maildir" --strict-tmp
md_check_names "$T/Maildir"
[ "$(md_count "$T/Maildir")" = 200 ] || t_fail "first poll delivered $(md_count "$T/Maildir") messages, expected 200"

pf_run second -f "$T/config"
pf_expect_rc 1 "second poll (nothing new)"
[ "$(md_count "$T/Maildir")" = 200 ] || t_fail "second poll delivered something: $(md_count "$T/Maildir") messages now"

md_seqs "$T/Maildir" >"$T/seqs.before"
lab_mkmail --count 5 --seed 43 --first-seq 201 --append --manifest "$T/manifest"
pf_run third -f "$T/config"
pf_expect_rc 0 "third poll (5 new messages)"
pf_verify "$T/manifest" "$T/Maildir" --strict-tmp
md_seqs "$T/Maildir" >"$T/seqs.after"
new=$(comm -13 "$T/seqs.before" "$T/seqs.after" | tr '\n' ' ')
[ "$new" = "201 202 203 204 205 " ] || t_fail "third poll fetched seqs '$new', expected 201..205"

# Descriptor limits: a batch holds one open file per message. A hard limit of 64 allows 16 a
# batch (13 batches for these 205); a soft limit of 256 under a hard one of 4096 or more is raised
# for the fetch: one batch.
( ulimit -n 64
  pf_config "$T/config-fd64" keep=true maildir="$T/Maildir-fd64" state_dir="$T/state-fd64"
  pf_run fd64 -f "$T/config-fd64" -v
  pf_expect_rc 0 "poll under a descriptor limit of 64"
  grep -q 'up to 16 messages a batch' "$PF_ERR" || t_fail "64 descriptors: not 16 a batch"
  pf_verify "$T/manifest" "$T/Maildir-fd64" --strict-tmp
) || t_fail "the poll under a descriptor limit of 64 failed"
if [ "$(ulimit -H -n)" = unlimited ] || [ "$(ulimit -H -n)" -ge 4096 ]; then
	( ulimit -S -n 256
	  pf_config "$T/config-fd256" keep=true maildir="$T/Maildir-fd256" state_dir="$T/state-fd256"
	  pf_run fd256 -f "$T/config-fd256" -v
	  pf_expect_rc 0 "poll under a soft descriptor limit of 256"
	  grep -q 'up to 1024 messages a batch' "$PF_ERR" || t_fail "soft limit 256: not raised"
	  pf_verify "$T/manifest" "$T/Maildir-fd256" --strict-tmp
	) || t_fail "the poll under a soft descriptor limit of 256 failed"
else
	t_log "hard descriptor limit $(ulimit -H -n) < 4096: the raise is not tested here"
fi

# STARTTLS on the plain port, fresh state: the same 205 messages into another Maildir.
pf_config "$T/config-stls" keep=true tls=starttls port="$LAB_PORT_PLAIN" \
	maildir="$T/Maildir-stls" state_dir="$T/state-stls"
pf_run stls-check -f "$T/config-stls" --check
pf_expect_rc 0 "--check with 205 new messages"
[ "$(md_count "$T/Maildir-stls")" = 0 ] || t_fail "--check delivered messages"
pf_run stls -f "$T/config-stls" -vv
pf_expect_rc 0 "STARTTLS poll with -vv"
[ -s "$PF_ERR" ] || t_fail "-vv printed no protocol trace"
! grep -q "$LAB_PASS" "$PF_ERR" "$PF_OUT" || t_fail "-vv trace shows the password"
pf_verify "$T/manifest" "$T/Maildir-stls" --strict-tmp
md_check_names "$T/Maildir-stls"

[ "$(lab_count)" = 205 ] || t_fail "keep mode: the server mailbox has $(lab_count) messages, expected 205"

pf_run check -f "$T/config" -c
pf_expect_rc 1 "--check with nothing new"
[ "$(md_count "$T/Maildir")" = 205 ] || t_fail "--check delivered messages"
t_log "PASS"
