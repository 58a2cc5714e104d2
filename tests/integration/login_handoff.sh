#!/usr/bin/env bash
# login_handoff: servers that hand the connection to a new process at login (Courier, qmail) or
# drop input that arrives with AUTH (Cyrus), scripted with tests/lib/pop3-script-server's
# DISCARD: everything the client sent behind PASS or AUTH before the reply is lost.  They all
# advertise PIPELINING; popfetch must still fetch and delete, over plaintext, implicit TLS and
# STARTTLS, with USER/PASS and AUTH PLAIN.  A client that pipelines the listing behind the login
# waits for a STAT reply that never comes and fails at `timeout`.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init login_handoff

. "$TESTLIB/script-tests.sh"

expected_messages
t_make_ca "$T/ca"
t_make_cert "$T/ca" "$T/srv" IP:127.0.0.1,DNS:localhost

handoff() {   # NAME SCRIPT WHAT [server options] -- [conf key=value ...]
	local name=$1 script=$2 what=$3 sopts=() copts=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sopts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	copts=("$@")
	serve "$name" "$script" "${sopts[@]}"
	conf "$name" timeout=3 "${copts[@]}"
	run "$name"
	pf_expect_rc 0 "$what"
	srv_ok "$name"
	! grep -q '^DISCARDED' "$T/$name.log" ||
		t_fail "$name: popfetch sent commands behind the login: $(grep '^DISCARDED' "$T/$name.log" | tr '\n' '|')"
	sent "$name" 'DELE' || t_fail "$name: nothing was deleted"
	md_is "$name" "$T/exp-one" "$T/exp-two"
	[ "$PF_MS" -le 2500 ] || t_fail "$name: popfetch took $PF_MS ms (waited for a lost reply?)"
}

TLS_SRV=(--cert "$T/srv.pem" --key "$T/srv.key")
TLS_CONF=(tls_ca_file="$T/ca/ca.pem")

handoff user handoff-user.pop3 "USER/PASS, plaintext" -- auth=user
handoff plain handoff-plain.pop3 "AUTH PLAIN, plaintext" -- auth=plain
handoff implicit-user handoff-user.pop3 "USER/PASS, implicit TLS" --tls "${TLS_SRV[@]}" -- \
	tls=implicit auth=user "${TLS_CONF[@]}"
handoff implicit-plain handoff-plain.pop3 "AUTH PLAIN, implicit TLS" --tls "${TLS_SRV[@]}" -- \
	tls=implicit auth=plain "${TLS_CONF[@]}"
handoff starttls handoff-stls.pop3 "USER/PASS, STARTTLS" "${TLS_SRV[@]}" -- \
	tls=starttls "${TLS_CONF[@]}"

t_log "PASS"
