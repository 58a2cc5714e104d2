#!/usr/bin/env bash
# oauth2_token: `popfetch --token ACCOUNT` against tests/lib/oauth2-server.  After --authorize
# (device flow) it prints the stored token without a refresh; about to expire, it refreshes,
# stores and prints the new one; while another process holds the account's lock (as a poll
# does) it waits and refreshes only after the lock is released; after revocation it exits 3
# with the --authorize advice and prints nothing on stdout; an account without OAuth2 is exit 5.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init oauth2_token
command -v curl >/dev/null || t_skip "curl is not installed"

CLIENT_ID=popfetch-test.apps.example
t_make_ca "$T/ca"
t_make_cert "$T/ca" "$T/srv" "IP:127.0.0.1"
t_bg "$TESTLIB/oauth2-server" --cert "$T/srv.pem" --key "$T/srv.key" --client-id "$CLIENT_ID" \
	--ready-file "$T/oauth.port" --log "$T/oauth.log" --latest "$T/latest" --max-seconds 200 \
	2>"$T/oauth.stderr"
t_wait_file "$T/oauth.port"
BASE="https://127.0.0.1:$(cat "$T/oauth.port")"
ocurl() { curl -sS --max-time 10 --cacert "$T/ca/ca.pem" "$@"; }

(umask 077 && cat >"$T/config" <<EOF
state_dir = "$T/state"
account tok {
    host = "127.0.0.1"
    port = 1
    tls_ca_file = "$T/ca/ca.pem"
    timeout = 10
    user = "alice"
    maildir = "$T/Maildir"
    oauth2 {
        client_id = "$CLIENT_ID"
        token_endpoint = "$BASE/token"
        device_authorization_endpoint = "$BASE/device"
        scope = "pop offline_access"
    }
}
account plain {
    host = "127.0.0.1"
    port = 1
    user = "bob"
    password = "secret"
    maildir = "$T/Maildir2"
}
EOF
)
refreshes() { grep -c 'grant=refresh_token -> 200' "$T/oauth.log" || true; }
expire_soon() { sed -i "s/^expires_at .*/expires_at $(( $(date +%s) + 10 ))/" "$T/state/tok.oauth2"; }

# --- before any authorization: exit 3, the advice names --authorize
pf_run none -f "$T/config" --token tok
pf_expect_rc 3 "--token before --authorize"
pf_expect_err "popfetch --authorize tok" "--token before --authorize"
[ ! -s "$PF_OUT" ] || t_fail "--token printed something without a token"

pf_run status-none -f "$T/config" --status tok
pf_expect_rc 0 "--status before --authorize"
grep -q '^  oauth2 token: none: run popfetch --authorize tok$' "$PF_OUT" ||
	t_fail "--status before --authorize: $(cat "$PF_OUT")"

# --- authorize with the device flow
t_bg timeout -k 5 "$PF_TIMEOUT" "$POPFETCH" -f "$T/config" --authorize tok >"$T/auth.out" 2>"$T/auth.err"
AUTH_PID=$T_BG_PID
CODE=$(t_wait_match "$T/auth.out" 'PF[0-9]+-TEST')
ocurl "$BASE/device/verify?user_code=$CODE&action=approve" >/dev/null
wait "$AUTH_PID" || { cat "$T/auth.err" >&2; t_fail "--authorize failed"; }
TOK1=$(cat "$T/latest")

# --- a valid token: printed as stored, no refresh, nothing but the token and a newline
before=$(refreshes)
pf_run cached -f "$T/config" --token tok
pf_expect_rc 0 "--token with a valid token"
[ "$(cat "$PF_OUT")" = "$TOK1" ] || t_fail "--token printed '$(head -c 60 "$PF_OUT")...', not the stored token"
[ "$(wc -l <"$PF_OUT")" = 1 ] || t_fail "--token printed more than one line"
[ "$(refreshes)" = "$before" ] || t_fail "a valid token was refreshed"

# --- about to expire: refreshed, stored, printed
expire_soon
pf_run refresh -f "$T/config" --token tok
pf_expect_rc 0 "--token refreshing"
TOK2=$(cat "$T/latest")
[ "$TOK2" != "$TOK1" ] || t_fail "the server issued no new token"
[ "$(cat "$PF_OUT")" = "$TOK2" ] || t_fail "--token did not print the refreshed token"
[ "$(refreshes)" = $(( before + 1 )) ] || t_fail "no refresh_token grant was made"
grep -qF "access_token $TOK2" "$T/state/tok.oauth2" || t_fail "the refreshed token was not stored"
# --status shows the stored token's expiry (and never the token)
exp=$(sed -n 's/^expires_at //p' "$T/state/tok.oauth2")
pf_run status-token -f "$T/config" --status --json tok
pf_expect_rc 0 "--status --json with a token"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["accounts"][0]["oauth2"]; sys.exit(0 if o == {"token": True, "expires_at": int(sys.argv[2]), "refresh_token": True} else 1)' \
	"$PF_OUT" "$exp" || t_fail "--status --json: oauth2 is not the stored expiry: $(cat "$PF_OUT")"
pf_run status-token-text -f "$T/config" --status tok
grep -Eq '^  oauth2 token: expires [0-9-]+ [0-9:]+ \(in [0-9]+ (h|min) [0-9]+ (min|s)\); a refresh token is stored' "$PF_OUT" ||
	t_fail "--status: no token expiry: $(cat "$PF_OUT")"
! grep -q 'ya29\|pf-refresh' "$PF_OUT" "$T/status-token.out" || t_fail "--status printed a token"

# --- the account's lock held (as by a poll): --token waits, refreshes after the release
expire_soon
t_bg flock "$T/state/tok.lock" sleep 2
LOCK_PID=$T_BG_PID
sleep 0.3
pf_run locked -f "$T/config" --token tok
pf_expect_rc 0 "--token while the lock was held for 2 s"
wait "$LOCK_PID" || true
[ "$PF_MS" -ge 1500 ] || t_fail "--token did not wait for the lock (${PF_MS} ms)"
[ "$(cat "$PF_OUT")" = "$(cat "$T/latest")" ] || t_fail "--token after the lock: not the newest token"
[ "$(refreshes)" = $(( before + 2 )) ] || t_fail "--token after the lock: no refresh"
t_log "waited ${PF_MS} ms for the lock"

# --- revoked grant: exit 3, the --authorize advice, nothing on stdout
ocurl "$BASE/control/revoke" >/dev/null
expire_soon
pf_run revoked -f "$T/config" --token tok
pf_expect_rc 3 "--token with a revoked grant"
pf_expect_err "invalid_grant.*popfetch --authorize tok" "--token with a revoked grant"
[ ! -s "$PF_OUT" ] || t_fail "--token printed something for a revoked grant"

# --- no OAuth2 for the account, or no such account: exit 5
pf_run plain -f "$T/config" --token plain
pf_expect_rc 5 "--token for a password account"
pf_expect_err "plain has no OAuth2" "--token for a password account"
pf_run nosuch -f "$T/config" --token nosuch
pf_expect_rc 5 "--token for an unknown account"
for f in "$T"/*.err; do
	! grep -q 'ya29.pf-access-\|1//pf-refresh-' "$f" || t_fail "a token reached $f"
done
t_log "oauth2_token: ok"
