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
# for the fetch: one batch. nofile_poll NAME WANT ULIMIT-ARGS: a fresh poll of the 205 in a subshell.
nofile_poll() {
	local name=$1 want=$2
	shift 2
	( ulimit "$@"
	  pf_config "$T/config-$name" keep=true maildir="$T/Maildir-$name" state_dir="$T/state-$name"
	  pf_run "$name" -f "$T/config-$name" -v
	  pf_expect_rc 0 "poll under ulimit $*"
	  grep -q "up to $want messages a batch" "$PF_ERR" || t_fail "ulimit $*: not $want a batch"
	  pf_verify "$T/manifest" "$T/Maildir-$name" --strict-tmp
	) || t_fail "the poll under ulimit $* failed"
}
nofile_poll fd64 16 -n 64
if [ "$(ulimit -H -n)" = unlimited ] || [ "$(ulimit -H -n)" -ge 4096 ]; then
	nofile_poll fd256 1024 -S -n 256
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
t_no_secret "STARTTLS poll with -vv" "$LAB_PASS" "$PF_ERR" "$PF_OUT"
pf_verify "$T/manifest" "$T/Maildir-stls" --strict-tmp
md_check_names "$T/Maildir-stls"

[ "$(lab_count)" = 205 ] || t_fail "keep mode: the server mailbox has $(lab_count) messages, expected 205"

pf_run check -f "$T/config" -c
pf_expect_rc 1 "--check with nothing new"
[ "$(md_count "$T/Maildir")" = 205 ] || t_fail "--check delivered messages"

# max_size and the two ways LIST is asked: five 2000-byte messages and one of 200,000. Under
# max_size 100000 the maildrop is larger than max_size, so LIST is read before any RETR and the
# big one is never requested; under 1000000 the whole maildrop fits, so LIST goes out with the
# RETRs (src/fetch.c, sizes_and_requests) and all six arrive.
lab_reset
lab_mkmail --count 5 --seed 44 --size-profile fixed:2000 --manifest "$T/manifest-small"
lab_mkmail --count 0 --big 200000 --seed 45 --first-seq 6 --manifest "$T/manifest-big"
cat "$T/manifest-small" "$T/manifest-big" >"$T/manifest-six"
[ "$(lab_count)" = 6 ] || t_fail "mkmail did not make the six messages"
pf_config "$T/config-max" keep=true max_size=100000 maildir="$T/Maildir-max" state_dir="$T/state-max"
pf_run max -f "$T/config-max" -vv
pf_expect_rc 0 "max_size 100000 over a 210 KB maildrop"
grep -q 'skipping message 6' "$PF_ERR" || t_fail "max_size: message 6 was not skipped by its LIST size"
! grep -q 'C: RETR 6' "$PF_ERR" || t_fail "max_size: message 6 was requested"
grep -n 'C: LIST\|C: RETR' "$PF_ERR" | head -n 1 | grep -q 'C: LIST' ||
	t_fail "max_size: a RETR went out before LIST"
pf_verify "$T/manifest-small" "$T/Maildir-max" --strict-tmp
pf_config "$T/config-all" keep=true max_size=1000000 maildir="$T/Maildir-all" state_dir="$T/state-all"
pf_run all -f "$T/config-all" -vv
pf_expect_rc 0 "max_size 1000000 over a 210 KB maildrop"
pf_verify "$T/manifest-six" "$T/Maildir-all" --strict-tmp
t_log "PASS"
