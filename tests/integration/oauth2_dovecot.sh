#!/usr/bin/env bash
# oauth2_dovecot: XOAUTH2 and OAUTHBEARER end to end against a real Dovecot. The token comes from
# popfetch's own OAuth2 client (`popfetch --authorize`, device flow, against tests/lib/oauth2-server
# over HTTPS with its own test CA); Dovecot's oauth2 passdb (lab-dovecot's OAuth2 mode) asks that
# server's RFC 7662 introspection endpoint about every token, so a login only works with a token
# the server issued and still considers active. Covers: XOAUTH2 with the stored token (two steps,
# no refresh); OAUTHBEARER with a token that expired right after --authorize, so popfetch refreshes
# it first; every byte fetched (verify-maildir) and each login seen by Dovecot and by the
# introspection endpoint; an access token revoked before its expiry, which Dovecot refuses and
# popfetch replaces with a refresh and a second AUTH on the same connection; a revoked grant, whose
# cached access token Dovecot refuses and whose refresh then fails (exit 3, --authorize advice); an expired access token with a revoked refresh
# token: exit 3 with the --authorize advice before Dovecot is even contacted; neither failure
# changes a Maildir; no access token, refresh token or AUTH payload in any -vv output.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init oauth2_dovecot

# Dovecot 2.3 builds the oauth2 passdb into its auth process (a build may make it a module);
# without it the lab's auth process dies at startup.
{ LC_ALL=C grep -aqs 'passdb_oauth2' /usr/lib/dovecot/auth /usr/lib/dovecot/modules/auth/*.so; } ||
	t_skip "Dovecot's oauth2 passdb is not available (not in /usr/lib/dovecot/auth)"

N=4
CLIENT_ID=popfetch-dovecot.apps.example
t_make_ca "$T/ca"
t_make_cert "$T/ca" "$T/srv" "IP:127.0.0.1"
t_bg "$TESTLIB/oauth2-server" --cert "$T/srv.pem" --key "$T/srv.key" --client-id "$CLIENT_ID" \
	--ready-file "$T/oauth.port" --log "$T/oauth.log" --latest "$T/latest" --max-seconds 280 \
	2>"$T/oauth.stderr"
t_wait_file "$T/oauth.port"
BASE="https://127.0.0.1:$(cat "$T/oauth.port")"

export LAB_OAUTH2_INTROSPECTION_URL="$BASE/introspect" LAB_OAUTH2_CA_FILE="$T/ca/ca.pem"
lab_start
grep -q '^  driver = oauth2$' "$LAB_LAB_DIR/dovecot.conf" || t_fail "the lab is not in OAuth2 mode"
lab_mkmail --count $N --seed 31 --manifest "$T/manifest"
[ "$(lab_count)" = $N ] || t_fail "mkmail did not fill the lab mailbox"

ohttp() {   # URL [FORM]: a GET (or a POST of FORM) to the OAuth2 server; prints the body
	python3 - "$T/ca/ca.pem" "$@" <<'PY' || t_fail "request to the OAuth2 server failed: $1"
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
with urllib.request.urlopen(sys.argv[2], data=data, context=ctx, timeout=10) as r:
    print(r.read().decode())
PY
}

conf() {   # NAME MECH: $T/NAME.conf, account NAME on the lab's pop3s port, keep mode, own Maildir
	# Two CAs: the lab's for POP3, ours for the OAuth2 server (the oauth2 block's own tls_ca_file).
	(umask 077 && cat >"$T/$1.conf" <<EOF
state_dir = "$T/state"
account $1 {
    host = "127.0.0.1"
    port = $LAB_PORT_TLS
    tls = implicit
    tls_ca_file = "$LAB_CAFILE"
    timeout = 10
    user = "alice"
    auth = $2
    maildir = "$T/$1.Maildir"
    keep = true
    oauth2 {
        client_id = "$CLIENT_ID"
        device_authorization_endpoint = "$BASE/device"
        token_endpoint = "$BASE/token"
        scope = "pop offline_access"
        tls_ca_file = "$T/ca/ca.pem"
    }
}
EOF
	)
}

authorize() {   # NAME RUN: `popfetch --authorize NAME`, device flow; we approve the code it prints
	local name=$1 run=$2 code pid rc=0
	t_bg timeout -k 5 "$PF_TIMEOUT" "$POPFETCH" -vv -f "$T/$name.conf" --authorize "$name" \
		>"$T/$run.out" 2>"$T/$run.err"
	pid=$T_BG_PID
	code=$(t_wait_match "$T/$run.out" 'PF[0-9]+-TEST')
	grep -qF "$BASE/device/verify" "$T/$run.out" || t_fail "$run: no verification URI printed"
	ohttp "$BASE/device/verify?user_code=$code&action=approve" >/dev/null
	wait "$pid" || rc=$?
	PF_ERR=$T/$run.err PF_RC=$rc
	[ "$rc" = 0 ] || { cat "$T/$run.out" >&2; t_fail "$run: --authorize $name exited $rc"; }
	[ "$(stat -c %a "$T/state/$name.oauth2")" = 600 ] || t_fail "$run: the token file is not mode 600"
	t_log "--authorize $name -> exit 0 (device flow approved)"
}

count() {   # FILE FIXED-STRING: lines containing it (0 when none)
	grep -cF -- "$2" "$1" || true
}

md_snapshot() {   # MAILDIR: every file with its size and hash, sorted
	(cd "$1" && find . -type f -exec sha256sum {} + | sort -k 2)
}

trace_has() {   # RUN REGEX: the last run's -vv trace has a line matching REGEX
	grep -Eq -- "$2" "$PF_ERR" || t_fail "$1: the -vv trace has no line matching /$2/"
}

dovecot_logins() {   # METHOD: successful logins of alice with METHOD in the Dovecot log
	count "$LAB_LOG" "Login: user=<alice>, method=$1,"
}

# --- XOAUTH2: the token --authorize stored logs in as it is, in two steps, and Dovecot asks
conf xo xoauth2
authorize xo xo-authorize
act=$(count "$T/oauth.log" 'introspect -> active')
ref=$(count "$T/oauth.log" 'grant=refresh_token')
pf_run xo -vv -f "$T/xo.conf"
pf_expect_rc 0 "auth = xoauth2 against Dovecot's oauth2 passdb"
pf_verify "$T/manifest" "$T/xo.Maildir" --strict-tmp
md_check_names "$T/xo.Maildir"
trace_has xo '^.*C: AUTH XOAUTH2$'
trace_has xo '^.*C: \*\*\*\*$'
[ "$(count "$T/oauth.log" 'introspect -> active')" -gt "$act" ] ||
	t_fail "xo: Dovecot never asked the introspection endpoint (see $T/oauth.log)"
[ "$(count "$T/oauth.log" 'grant=refresh_token')" = "$ref" ] || t_fail "xo: a fresh token was refreshed"
[ "$(dovecot_logins XOAUTH2)" = 1 ] || t_fail "xo: the Dovecot log shows no XOAUTH2 login of alice"

# --- OAUTHBEARER: the token from --authorize lives 2 s, so the poll refreshes it first; only the
# new one is active when Dovecot asks
conf bearer oauthbearer
ohttp "$BASE/control/ttl?seconds=2" >/dev/null
authorize bearer bearer-authorize
ohttp "$BASE/control/ttl?seconds=3600" >/dev/null
OLD=$(cat "$T/latest")
act=$(count "$T/oauth.log" 'introspect -> active')
pf_run bearer -vv -f "$T/bearer.conf"
pf_expect_rc 0 "auth = oauthbearer with a refreshed token"
pf_verify "$T/manifest" "$T/bearer.Maildir" --strict-tmp
trace_has bearer '^.*C: AUTH OAUTHBEARER$'
[ "$(count "$T/oauth.log" 'grant=refresh_token -> 200')" = $((ref + 1)) ] ||
	t_fail "bearer: the expiring token was not refreshed"
[ "$(cat "$T/latest")" != "$OLD" ] || t_fail "bearer: the server issued no new token"
[ "$(count "$T/oauth.log" 'introspect -> active')" -gt "$act" ] ||
	t_fail "bearer: Dovecot never asked the introspection endpoint"
[ "$(dovecot_logins OAUTHBEARER)" = 1 ] || t_fail "bearer: the Dovecot log shows no OAUTHBEARER login"
# The refresh mattered: the token --authorize got is dead by now (2 s), for Dovecot too.
for _ in $(seq 100); do
	ohttp "$BASE/introspect" "token=$OLD" | grep -q '"active": false' && break
	sleep 0.1
done
ohttp "$BASE/introspect" "token=$OLD" | grep -q '"active": false' ||
	t_fail "bearer: the 2-second token is still active after 10 s"

# --- a revoked access token: popfetch still holds xo's access token (valid for an hour by its
# clock), but the server revoked it before its expiry. Dovecot asks, gets "active": false, and
# refuses; popfetch answers Dovecot's error challenge (RFC 7628 3.2.3), forgets the token, refreshes
# and logs in again on the same connection: nothing new, exit 1.
ohttp "$BASE/control/revoke-access" >/dev/null
md_snapshot "$T/xo.Maildir" >"$T/xo.before"
inact=$(count "$T/oauth.log" 'introspect -> inactive')
refreshes=$(count "$T/oauth.log" 'token grant=refresh_token -> 200')
pf_run xo-renewed -vv -f "$T/xo.conf"
pf_expect_rc 1 "a revoked access token replaced by a refresh"
pf_expect_err 'refused the OAuth2 access token; getting a new one' xo-renewed
[ "$(count "$T/oauth.log" 'token grant=refresh_token -> 200')" = $((refreshes + 1)) ] ||
	t_fail "xo-renewed: not exactly one refresh after the refusal"
[ "$(count "$T/oauth.log" 'introspect -> inactive')" -gt "$inact" ] ||
	t_fail "xo-renewed: Dovecot did not ask about the revoked token"
[ "$(grep -c 'C: AUTH XOAUTH2' "$PF_ERR")" = 2 ] || t_fail "xo-renewed: not two AUTH XOAUTH2"

# --- revoked grant: the access token and the refresh token are dead. Dovecot refuses the cached
# token; popfetch's refresh then gets invalid_grant: exit 3 with the advice to run --authorize.
ohttp "$BASE/control/revoke" >/dev/null
inact=$(count "$T/oauth.log" 'introspect -> inactive')
pf_run xo-revoked -vv -f "$T/xo.conf"
pf_expect_rc 3 "a revoked grant"
pf_expect_err 'refused the OAuth2 access token; getting a new one' xo-revoked
pf_expect_err "invalid_grant.*run: popfetch --authorize xo" xo-revoked
[ "$(count "$T/oauth.log" 'introspect -> inactive')" -gt "$inact" ] ||
	t_fail "xo-revoked: Dovecot did not ask about the revoked token"
grep -q 'oauth2 failed: Introspection failed: Provided token is not valid' "$LAB_LOG" ||
	t_fail "xo-revoked: the Dovecot log does not show the oauth2 passdb refusing the token"
md_snapshot "$T/xo.Maildir" | cmp -s - "$T/xo.before" || t_fail "xo-revoked: the Maildir changed"

# --- expired access token and revoked refresh token: a new --authorize gets a 1-second token;
# once it is dead the grant is revoked, and the poll's refresh gets invalid_grant. popfetch says
# to run --authorize again (exit 3) and never connects to Dovecot.
ohttp "$BASE/control/ttl?seconds=1" >/dev/null
authorize xo xo-reauthorize
ohttp "$BASE/control/ttl?seconds=3600" >/dev/null
EXPIRED=$(cat "$T/latest")
for _ in $(seq 100); do
	ohttp "$BASE/introspect" "token=$EXPIRED" | grep -q '"active": false' && break
	sleep 0.1
done
ohttp "$BASE/introspect" "token=$EXPIRED" | grep -q '"active": false' ||
	t_fail "xo-expired: the 1-second token is still active after 10 s"
ohttp "$BASE/control/revoke" >/dev/null
introspections=$(count "$T/oauth.log" 'introspect ->')
t_wait_match "$LAB_LOG" 'Disconnected: .*auth failed' >/dev/null   # xo-revoked's session is logged
lines=$(wc -l <"$LAB_LOG")
pf_run xo-expired -vv -f "$T/xo.conf"
pf_expect_rc 3 "an expired access token whose refresh token was revoked"
pf_expect_err "invalid_grant.*run: popfetch --authorize xo" xo-expired
[ "$(count "$T/oauth.log" 'introspect ->')" = "$introspections" ] ||
	t_fail "xo-expired: a token reached Dovecot although the refresh failed"
! grep -q 'C: CAPA' "$PF_ERR" || t_fail "xo-expired: popfetch talked POP3 without a usable token"
! tail -n +$((lines + 1)) "$LAB_LOG" | grep -q 'pop3-login' ||
	t_fail "xo-expired: popfetch connected to Dovecot although it had no usable token"
md_snapshot "$T/xo.Maildir" | cmp -s - "$T/xo.before" || t_fail "xo-expired: the Maildir changed"
pf_verify "$T/manifest" "$T/bearer.Maildir" --strict-tmp

# --- no token, refresh token, device code or AUTH payload in any output (-vv traces included):
# t_no_secret finds a token also base64-encoded inside an XOAUTH2 or OAUTHBEARER payload.
for secret in ya29.pf-access- 1//pf-refresh-; do
	t_no_secret "the outputs" "$secret" "$T"/*.out "$T"/*.err
done
for f in "$T"/*.out "$T"/*.err; do
	! grep -qE -- '(^|[^a-z])dc-[0-9]' "$f" || t_fail "$(basename "$f") shows a device code"
done
# ...and the OAuth2 server's log, which the test prints on failure, names no token either.
! grep -qE 'ya29|pf-refresh' "$T/oauth.log" || t_fail "oauth.log shows a token"
t_log "PASS"
