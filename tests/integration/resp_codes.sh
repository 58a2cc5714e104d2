#!/usr/bin/env bash
# resp_codes: RFC 2449 and RFC 3206 response codes at login.  [IN-USE] and [SYS/TEMP] are server
# errors (exit 7), not wrong passwords, and never start the refused-login backoff: the next run
# tries again.  [LOGIN-DELAY] is reported and the account backs off for the delay CAPA announced:
# the next one-shot run does not connect at all until then (--retry-now does).
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init resp_codes
. "$TESTLIB/script-tests.sh"

for case in in-use:IN-USE sys-temp:SYS/TEMP; do
	code=${case%%:*}
	serve "$code" "code-$code.pop3"
	conf "$code"
	run "$code"
	expect_fail "$code" 7 "${case#*:}"
	srv_ok "$code"
	no_dele "$code"
	! grep -qi 'password\|refused login' "$PF_ERR" || t_fail "$code: reported as a login failure"
	[ ! -e "$T/$code.state/lab.backoff" ] || t_fail "$code: started the refused-login backoff"
done

serve delay code-login-delay.pop3
conf delay
run delay
expect_fail delay 7 'LOGIN-DELAY'
srv_ok delay
grep -q ' delay$' "$T/delay.state/lab.backoff" || t_fail "no LOGIN-DELAY record in the state"
after=$(awk '{ print $4 }' "$T/delay.state/lab.backoff")
now=$(date +%s)
[ $((after - now)) -gt 800 ] && [ $((after - now)) -le 900 ] ||
	t_fail "the backoff ends in $((after - now)) s, expected the 900 s CAPA announced"

# No server is listening now: a run that connected would fail with exit 2.
run delay
expect_fail delay 7 'pause between logins.*--retry-now'
run delay --retry-now
pf_expect_rc 2 "--retry-now connects despite the LOGIN-DELAY backoff"
t_log "resp_codes: ok"
