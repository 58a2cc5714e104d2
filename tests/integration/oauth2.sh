#!/usr/bin/env bash
# oauth2: popfetch's own OAuth2 client against tests/lib/oauth2-server (HTTPS on loopback, a
# certificate from a test CA that the account trusts through its tls_ca_file, which oauth2
# inherits) and the scripted POP3 server expecting the two-step XOAUTH2 with the right token.
# Covers `popfetch --authorize` with the device flow (RFC 8628: the test approves the user code
# popfetch prints, after one slow_down) and the loopback flow (RFC 8252 + PKCE: the test plays the
# browser, reads the URL popfetch prints, follows the server's redirect to popfetch's loopback
# port, after a forged redirect with a wrong state that must be ignored; the verifier it sends
# hashes to its challenge, and a code bound to another challenge fails); a denied device code,
# a browser that never answers; the token file (mode 0600); a cached token used without a
# refresh, a refresh when it is about to expire, invalid_grant after revocation with the
# --authorize advice; and no token, code, refresh token or PKCE verifier in any -vv trace.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init oauth2
command -v curl >/dev/null || t_skip "curl is not installed"

SERVER="$TESTLIB/pop3-script-server"
CLIENT_ID=popfetch-test.apps.example
t_make_ca "$T/ca"
t_make_cert "$T/ca" "$T/srv" "IP:127.0.0.1"

t_bg "$TESTLIB/oauth2-server" --cert "$T/srv.pem" --key "$T/srv.key" --client-id "$CLIENT_ID" \
	--ready-file "$T/oauth.port" --log "$T/oauth.log" --latest "$T/latest" --pkce-log "$T/pkce.log" \
	--max-seconds 280 \
	--device-slow-down 2>"$T/oauth.stderr"
t_wait_file "$T/oauth.port"
OP=$(cat "$T/oauth.port")
BASE="https://127.0.0.1:$OP"
ocurl() { curl -sS --max-time 10 --cacert "$T/ca/ca.pem" "$@"; }

conf() {   # NAME FLOW-KEYS POP3-PORT: $T/NAME.conf, account NAME, keep mode, own state
	local name=$1 keys=$2 port=${3:-1}
	(umask 077 && cat >"$T/$name.conf" <<EOF
state_dir = "$T/state"
account $name {
    host = "127.0.0.1"
    port = $port
    tls = implicit
    tls_ca_file = "$T/ca/ca.pem"
    timeout = 10
    user = "alice"
    maildir = "$T/$name.Maildir"
    keep = true
    oauth2 {
        client_id = "$CLIENT_ID"
        token_endpoint = "$BASE/token"
        scope = "pop offline_access"
$keys
    }
}
EOF
	)
}
DEVICE_KEYS="        device_authorization_endpoint = \"$BASE/device\""
LOOP_KEYS="        authorization_endpoint = \"$BASE/authorize\"
        flow = loopback"

authorize_bg() {   # NAME: starts `popfetch --authorize NAME` in the background (AUTH_PID)
	local name=$1
	t_bg timeout -k 5 "$PF_TIMEOUT" "$POPFETCH" -f "$T/$name.conf" --authorize "$name" \
		>"$T/$name.authorize.out" 2>"$T/$name.authorize.err"
	AUTH_PID=$T_BG_PID
}

s256() {   # VERIFIER: its RFC 7636 S256 code_challenge, BASE64URL(SHA256(VERIFIER)), by openssl
	printf '%s' "$1" | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '='
}

authorize_wait() {   # NAME WANT-RC
	local rc=0
	wait "$AUTH_PID" || rc=$?
	PF_ERR=$T/$1.authorize.err PF_RC=$rc
	[ "$rc" = "$2" ] || { cat "$T/$1.authorize.out" >&2; t_fail "--authorize $1 exited $rc, expected $2"; }
}

token_file_ok() {   # NAME: the token file exists with mode 0600
	local f=$T/state/$1.oauth2
	[ -f "$f" ] || t_fail "$1: no token file $f"
	[ "$(stat -c %a "$f")" = 600 ] || t_fail "$1: $f has mode $(stat -c %a "$f"), expected 600"
}

PROLOGUE='S: +OK script server ready
C: CAPA
S: +OK
S: USER
S: UIDL
S: SASL XOAUTH2
S: .'
EMPTY_POLL='C: STAT
S: +OK 0 0
C: UIDL
S: +OK
S: .
C: QUIT
S: +OK bye'

fetch_with() {   # NAME RUN TOKEN: one -vv poll that must log in with XOAUTH2 and TOKEN (exit 1)
	local name=$1 run=$2 token=$3 xo pid
	xo=$(printf 'user=alice\001auth=Bearer %s\001\001' "$token" | base64 -w0)
	printf '%s\nC: AUTH XOAUTH2\nS: + \nC: %s\nS: +OK welcome\n%s\n' "$PROLOGUE" "$xo" \
		"$EMPTY_POLL" >"$T/$run.script"
	t_bg "$SERVER" --script "$T/$run.script" --ready-file "$T/$run.port" --log "$T/$run.log" \
		--max-seconds 60 --once --tls --cert "$T/srv.pem" --key "$T/srv.key" 2>"$T/$run.stderr"
	pid=$T_BG_PID
	t_wait_file "$T/$run.port"
	sed -i "s/^    port = .*/    port = $(cat "$T/$run.port")/" "$T/$name.conf"
	pf_run "$run" -vv -f "$T/$name.conf"
	wait "$pid" || { cat "$T/$run.stderr" >&2; t_fail "$run: popfetch did not log in with the expected token"; }
	pf_expect_rc 1 "$run: a poll with an OAuth2 token"
}

expire_soon() {   # NAME: the stored access token has 10 s left (popfetch refreshes under 60 s)
	sed -i "s/^expires_at .*/expires_at $(( $(date +%s) + 10 ))/" "$T/state/$1.oauth2"
}

refreshes() { grep -c 'grant=refresh_token -> 200' "$T/oauth.log" || true; }

# --- device flow: popfetch prints the URI and code, we approve after its first poll
conf dev "$DEVICE_KEYS"
authorize_bg dev
CODE=$(t_wait_match "$T/dev.authorize.out" 'PF[0-9]+-TEST')
grep -qF "$BASE/device/verify" "$T/dev.authorize.out" || t_fail "dev: no verification URI printed"
sleep 1.5
ocurl "$BASE/device/verify?user_code=$CODE&action=approve" >/dev/null
authorize_wait dev 0
grep -q 'token grant=urn:ietf:params:oauth:grant-type:device_code -> 400 slow_down' "$T/oauth.log" ||
	t_fail "dev: the server's slow_down was never exercised"
token_file_ok dev
TOK1=$(cat "$T/latest")

# --- the stored token logs in, with no refresh
before=$(refreshes)
fetch_with dev dev-cached "$TOK1"
[ "$(refreshes)" = "$before" ] || t_fail "dev-cached: a valid token was refreshed"

# --- about to expire: refreshed (the server's counter gives the next token), stored, used
next_token() {   # the access token the server issues next (its tokens count up)
	local n
	n=$(cat "$T/latest")
	n=${n#ya29.pf-access-}
	printf 'ya29.pf-access-%d-%s' $(( ${n%%-*} + 1 )) "$(head -c 400 /dev/zero | tr '\0' A)"
}
expire_soon dev
TOK2=$(next_token)
fetch_with dev dev-refresh "$TOK2"
[ "$(refreshes)" = $(( before + 1 )) ] || t_fail "dev-refresh: no refresh_token grant was made"
[ "$(cat "$T/latest")" = "$TOK2" ] || t_fail "dev-refresh: the server issued another token than expected"
grep -qF "access_token $TOK2" "$T/state/dev.oauth2" || t_fail "dev-refresh: the new token was not stored"
grep -q '^refresh_token 1//pf-refresh-' "$T/state/dev.oauth2" ||
	t_fail "dev-refresh: the refresh token was lost (the server sent none: the old one stays)"
token_file_ok dev

# --- revoked: invalid_grant is exit 3 with the --authorize advice, and nothing is sent to POP3
ocurl "$BASE/control/revoke" >/dev/null
expire_soon dev
pf_run dev-revoked -vv -f "$T/dev.conf"
pf_expect_rc 3 "a revoked refresh token"
pf_expect_err "invalid_grant.*popfetch --authorize dev" dev-revoked
pf_expect_err "Testing" dev-revoked

# --- a file readable by others is refused (exit 6)
chmod 0644 "$T/state/dev.oauth2"
pf_run dev-perm -f "$T/dev.conf"
pf_expect_rc 6 "a token file readable by others"
pf_expect_err 'chmod 600' dev-perm
chmod 0600 "$T/state/dev.oauth2"

# --- device flow denied
conf deny "$DEVICE_KEYS"
authorize_bg deny
CODE=$(t_wait_match "$T/deny.authorize.out" 'PF[0-9]+-TEST')
ocurl "$BASE/device/verify?user_code=$CODE&action=deny" >/dev/null
authorize_wait deny 3
pf_expect_err 'denied' deny
[ ! -e "$T/state/deny.oauth2" ] || t_fail "deny: a token file was written"

# --- loopback flow: we are the browser
conf loop "$LOOP_KEYS"
authorize_bg loop
URL=$(t_wait_match "$T/loop.authorize.out" "$BASE/authorize\\?[^ ]+")
case $URL in
*code_challenge_method=S256*state=*) ;;
*) t_fail "loop: the authorization URL lacks PKCE or state: $URL";;
esac
REDIRECT=$(ocurl -o /dev/null -w '%{redirect_url}' "$URL")
case $REDIRECT in
http://127.0.0.1:*/\?code=*) ;;
*) t_fail "loop: the server did not redirect to popfetch's loopback port: $REDIRECT";;
esac
# A redirect with a forged state (RFC 6749 10.12) gets a 404 and does not end the wait.
FORGED=$(printf '%s' "$REDIRECT" | sed 's/state=[^&]*/state=forged/')
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$FORGED")" = 404 ] ||
	t_fail "loop: a redirect with a wrong state was not refused"
kill -0 "$AUTH_PID" 2>/dev/null || t_fail "loop: a forged redirect ended the authorization"
curl -s --max-time 10 "$REDIRECT" >"$T/loop.page" || t_fail "loop: the redirect page did not load"
grep -q 'popfetch is authorized' "$T/loop.page" || t_fail "loop: the browser page says: $(cat "$T/loop.page")"
authorize_wait loop 0
grep -q 'token grant=authorization_code -> 200' "$T/oauth.log" ||
	t_fail "loop: the code exchange (with the PKCE check) did not succeed"
token_file_ok loop
# PKCE (RFC 7636 4.2, 4.6), checked here apart from the server's own check: the verifier popfetch
# sent hashes (S256, by openssl) to the challenge of its URL.
VERIFIER=$(tail -n 1 "$T/pkce.log")
CHALLENGE=$(printf '%s' "$URL" | sed -n 's/.*[?&]code_challenge=\([^&]*\).*/\1/p')
[ "$(s256 "$VERIFIER")" = "$CHALLENGE" ] ||
	t_fail "loop: the code_verifier '$VERIFIER' does not hash to the URL's code_challenge '$CHALLENGE'"
fetch_with loop loop-fetch "$(cat "$T/latest")"

# --- loopback: a code bound to another challenge (an attacker's) is refused at the exchange, so
# the flow fails: the server's PKCE check works, and popfetch does not retry around it.
conf loopbad "$LOOP_KEYS"
authorize_bg loopbad
URL2=$(t_wait_match "$T/loopbad.authorize.out" "$BASE/authorize\\?[^ ]+")
OTHER=$(s256 "an-attacker-s-verifier-of-more-than-43-characters-0123456789")
REDIRECT=$(ocurl -o /dev/null -w '%{redirect_url}' "$(printf '%s' "$URL2" |
	sed "s/code_challenge=[^&]*/code_challenge=$OTHER/")")
curl -s --max-time 10 -o /dev/null "$REDIRECT" || true
authorize_wait loopbad 3
grep -q 'pkce: BASE64URL(SHA256(code_verifier)) is not the code_challenge' "$T/oauth.log" ||
	t_fail "loopbad: the server did not refuse the code_verifier (is its PKCE check gone?)"
[ ! -e "$T/state/loopbad.oauth2" ] || t_fail "loopbad: a token file was written"

# --- loopback: a browser that never answers ends the wait (test aid: POPFETCH_TEST_OAUTH2_WAIT)
conf slow "$LOOP_KEYS"
start=$(t_now_ms)
PF_QUIET=1 POPFETCH_TEST_OAUTH2_WAIT=2 pf_run slow -f "$T/slow.conf" --authorize slow
pf_expect_rc 3 "a browser that never answers"
pf_expect_err 'no answer from the browser within 2 s' slow
(( $(t_now_ms) - start < 30000 )) || t_fail "slow: the loopback wait did not end after 2 s"

# --- no token, refresh token, code or PKCE verifier in any output
# (plain or base64: t_no_secret; "code-" is too short for that and is looked for plain).
for secret in ya29.pf-access- 1//pf-refresh- "$VERIFIER"; do
	t_no_secret "the outputs" "$secret" "$T"/*.out "$T"/*.err
done
for f in "$T"/*.out "$T"/*.err; do
	! grep -qF -- code- "$f" || t_fail "$(basename "$f") shows an authorization code"
done
t_log "PASS"
