#!/usr/bin/env bash
# backoff: DESIGN.md section 8 - after 3 refused logins in a row a one-shot run stops logging in
# (exit 3, naming when and --retry-now) without contacting the server; --retry-now and a changed
# password try at once; a successful login clears the record.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init backoff

lab_start
lab_mkmail --count 3 --seed 5 --manifest "$T/manifest"

pf_config "$T/bad.conf" password=wrong-one
for i in 1 2 3; do
	pf_run "bad$i" -f "$T/bad.conf"
	pf_expect_rc 3 "refused login $i"
	! grep -q 'not trying' "$PF_ERR" || t_fail "login $i was skipped too early"
done
[ -f "$T/state/lab.backoff" ] || t_fail "no backoff record after 3 refused logins"
t_no_secret "the backoff record" wrong-one "$T/state/lab.backoff"

# The 4th run must not log in: stop the server, so any attempt would be a network error (2).
"$TESTLIB/lab-dovecot" stop "$LAB_LAB_DIR"
pf_run bad4 -f "$T/bad.conf"
pf_expect_rc 3 "run during the backoff"
pf_expect_err 'not trying.*--retry-now' "run during the backoff"

# --retry-now tries anyway (and finds the server down: exit 2).
pf_run retry -f "$T/bad.conf" --retry-now
pf_expect_rc 2 "--retry-now with the server down"

# A changed password resets the record and logs in at once; success clears the record.
lab_start
pf_config "$T/good.conf"
pf_run good -f "$T/good.conf"
pf_expect_rc 0 "login with the corrected password"
[ ! -e "$T/state/lab.backoff" ] || t_fail "a successful login left the backoff record behind"
pf_verify "$T/manifest" "$T/Maildir"
t_log "backoff: ok"
