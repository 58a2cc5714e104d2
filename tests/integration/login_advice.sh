#!/usr/bin/env bash
# login_advice: a refused login of a preset's account says what to do there (DESIGN.md section 9,
# issue 12 item 2).  Gmail's one answer to a wrong password, an account password and POP turned
# off, and Microsoft's three refusals of any password login, from the scripted server: exit 3,
# one clean error line with the server's text and the preset's advice, one login attempt on one
# connection (no retry loop), no QUIT-less hang.  An account without a preset gets the server's
# sanitised text alone, as before.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init login_advice

. "$TESTLIB/script-tests.sh"

refusal() {   # FILE MECH TEXT: a server that refuses the login (USER/PASS or AUTH PLAIN) with TEXT
	{
		printf 'S: +OK ready\nC: CAPA\n'
		if [ "$2" = plain ]; then
			printf 'S: +OK\nS: SASL PLAIN XOAUTH2\nS: USER\nS: .\nC~ ^AUTH PLAIN \n'
		else
			printf 'S: -ERR unknown command\nC: USER alice\nS: +OK\nC: PASS wonderland\n'
		fi
		printf 'S: %s\n' "$3"
	} >"$1"
}

check_refused() {   # NAME REGEX...: exit 3, one attempt, the server's text and every REGEX on stderr
	local name=$1 re
	shift
	expect_fail "$name" 3 'refused'
	srv_ok "$name"
	[ "$(grep -Ec '^C: (PASS|AUTH)' "$T/$name.log")" = 1 ] ||
		t_fail "$name: the login was tried more than once"
	[ "$(grep -c '^connection' "$T/$name.log")" = 1 ] || t_fail "$name: more than one connection"
	for re in "$@"; do
		pf_expect_err "$re" "$name"
	done
}

# --- Gmail: POP setting, app password with 2-Step Verification, or OAuth2 with --authorize
gmail='-ERR [AUTH] Username and password not accepted.'
refusal "$T/gmail.pop3" user "$gmail"
serve gmail "$T/gmail.pop3"
conf gmail provider=gmail account=home
run gmail
check_refused gmail 'Username and password not accepted' "POP is turned on in Gmail's settings" \
	'app password' '2-Step Verification' 'OAuth2' 'popfetch --authorize home'
# The server is not asked again: a second run is refused by the backoff only after 3 failures,
# and each run tries once.
serve gmail2 "$T/gmail.pop3"
conf gmail2 provider=gmail account=home state_dir="$T/gmail.state"
run gmail2
check_refused gmail2 'Username and password not accepted' 'app password'

# --- Microsoft: every password login refused, three wordings; OAuth2 only, --authorize ACCOUNT
i=0
for text in '-ERR Logon failure: unknown user name or bad password.' '-ERR Authentication failure' \
	'-ERR Basic authentication is disabled'; do
	i=$((i + 1))
	mech=user
	[ "$i" = 2 ] && mech=plain
	refusal "$T/ms$i.pop3" "$mech" "$text"
	serve "ms$i" "$T/ms$i.pop3"
	conf "ms$i" provider=outlook account=work
	run "ms$i"
	check_refused "ms$i" "${text#-ERR }" 'Microsoft accepts only OAuth2' 'popfetch --authorize work'
	grep -q 'Gmail' "$PF_ERR" && t_fail "ms$i: Gmail's advice for a Microsoft account"
done

# --- no preset: the server's sanitised text, no advice
refusal "$T/plain.pop3" user "$gmail"
serve plain "$T/plain.pop3"
conf plain
run plain
check_refused plain 'Username and password not accepted'
! grep -Eq 'app password|OAuth2|authorize' "$PF_ERR" || t_fail "plain: advice for an account without a preset"
t_log "PASS"
