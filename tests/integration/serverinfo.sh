#!/usr/bin/env bash
# serverinfo: `popfetch --serverinfo ACCOUNT [--login]` against the lab Dovecot.
# - implicit TLS and STARTTLS: greeting, CAPA (before and after STLS), TLS version and cipher, the
#   chain with subject, issuer, validity and names, "verifies: yes", the leaf's SHA-256
#   fingerprint equal to openssl's, and no login in Dovecot's log; exit 0.
# - --login: logs in, prints the message count and the maildrop's size, equal to the mailbox's.
# - a certificate the account does not trust (another CA): still the chain and the fingerprint,
#   "verifies: NO" with the reason, exit 11, and no login even with --login.
# - the printed tls_fingerprint line pasted into the config: --serverinfo verifies by the pin and a
#   poll works; a wrong pin is exit 11.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init serverinfo

lab_start
lab_mkmail --count 7 --seed 5 --manifest "$T/manifest"
logins() { grep -c 'Login: user=<alice>' "$LAB_LOG" || true; }
want() {   # REGEX CONTEXT: the last run's stdout matches
	grep -Eq -- "$1" "$PF_OUT" || { cat "$PF_OUT" >&2; t_fail "$2: stdout does not match /$1/"; }
}

FP=$(openssl x509 -noout -fingerprint -sha256 -in "$LAB_LAB_DIR/certs/server.pem" | sed 's/^.*=//')
[ ${#FP} = 95 ] || t_fail "cannot read the lab certificate's fingerprint ($FP)"

# --- implicit TLS, trusted: everything, no login
pf_config "$T/config" port="$LAB_PORT_TLS" tls=implicit
before=$(logins)
pf_run implicit -f "$T/config" --serverinfo lab
pf_expect_rc 0 "--serverinfo, implicit TLS"
want '^greeting: +.*Dovecot' "greeting"
want '^capabilities \(CAPA\):$' "CAPA heading"
for cap in UIDL USER TOP PIPELINING 'SASL PLAIN'; do want "^    $cap" "CAPA $cap"; done
want '^TLS: +TLSv1\.[23] [A-Z0-9_-]+$' "TLS version and cipher"
want '^  0 subject: +CN=localhost$' "leaf subject"
want '^    issuer: +CN=' "issuer"
want '^    valid: +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]+ UTC to [0-9]{4}-' "validity"
want '^    names: +.*DNS:localhost.*IP:127\.0\.0\.1' "subjectAltName"
want '^verifies: +yes' "verdict"
want "^fingerprint: +sha256:$FP\$" "fingerprint equals openssl's"
want "^to pin it: +tls_fingerprint = \"sha256:$FP\"\$" "the line to paste"
! grep -q '^login:' "$PF_OUT" || t_fail "--serverinfo without --login logged in"
[ "$(logins)" = "$before" ] || t_fail "--serverinfo without --login logged in (Dovecot log)"

# --- --login: the message count and the maildrop's size
pf_run login -f "$T/config" --serverinfo lab --login
pf_expect_rc 0 "--serverinfo --login"
octets=$(python3 - "$LAB_MAILDIR" <<'PY'
import os, sys
n = 0
for sub in ("new", "cur"):
    d = os.path.join(sys.argv[1], sub)
    for f in os.listdir(d):
        b = open(os.path.join(d, f), "rb").read()
        n += len(b) + b.count(b"\n") - b.count(b"\r\n")
print(n)
PY
)
want "^messages: +7, $octets octets\$" "message count and size"
[ "$(logins)" = $(( before + 1 )) ] || t_fail "--login did not log in once"

# --- STARTTLS on the plain port: CAPA before STLS names STLS, then TLS
pf_config "$T/config.stls" port="$LAB_PORT_PLAIN" tls=starttls
pf_run starttls -f "$T/config.stls" --serverinfo lab
pf_expect_rc 0 "--serverinfo, STARTTLS"
want '^capabilities before STLS \(CAPA\):$' "CAPA before STLS"
want '^    STLS$' "STLS offered"
want '^capabilities after STLS \(CAPA\):$' "CAPA after STLS"
want '^TLS: +TLSv1\.[23] ' "STARTTLS: TLS"
want "^fingerprint: +sha256:$FP\$" "STARTTLS: fingerprint"

# --- untrusted: another CA.  Still the fingerprint, the reason, exit 11, no login.
t_make_ca "$T/otherca"
pf_config "$T/config.untrusted" tls_ca_file="$T/otherca/ca.pem"
before=$(logins)
pf_run untrusted -f "$T/config.untrusted" --serverinfo lab --login
pf_expect_rc 11 "--serverinfo with an untrusted certificate"
want "^fingerprint: +sha256:$FP\$" "untrusted: the fingerprint is still shown"
want '^  0 subject: +CN=localhost$' "untrusted: the chain is still shown"
want '^verifies: +NO: .*issuer is not trusted by tls_ca_file' "untrusted: the reason"
pf_expect_err "does not verify.*not logging in" "untrusted: the error"
! grep -q '^login:' "$PF_OUT" || t_fail "logged in over an unverified connection"
[ "$(logins)" = "$before" ] || t_fail "logged in over an unverified connection (Dovecot log)"

# --- a scripted server whose certificate (from a CA the account trusts) lacks the host's name, and
#     one whose CA the account does not know: the reason names what is wrong
t_make_ca "$T/sca"
t_make_cert "$T/sca" "$T/other" "DNS:other.example"
printf '%s\n' 'S: +OK script server ready' 'C: CAPA' 'S: +OK' 'S: USER' 'S: UIDL' 'S: .' >"$T/si.script"
t_bg "$TESTLIB/pop3-script-server" --script "$T/si.script" --ready-file "$T/si.port" --log "$T/si.log" \
	--max-seconds 60 --tls --cert "$T/other.pem" --key "$T/other.key" 2>"$T/si.stderr"
t_wait_file "$T/si.port"
SFP=$(openssl x509 -noout -fingerprint -sha256 -in "$T/other.pem" | sed 's/^.*=//')
pf_config "$T/config.name" port="$(cat "$T/si.port")" tls_ca_file="$T/sca/ca.pem"
pf_run name -f "$T/config.name" --serverinfo lab
pf_expect_rc 11 "--serverinfo, certificate without the host's name"
want '^verifies: +NO: its names \(subjectAltName\) do not include 127\.0\.0\.1' "name mismatch reason"
want '^    names: +DNS:other\.example$' "scripted server: names"
want '^greeting: +script server ready$' "scripted server: greeting"
want "^fingerprint: +sha256:$SFP\$" "scripted server: fingerprint"
pf_config "$T/config.unknown" port="$(cat "$T/si.port")" tls_ca_file=-
pf_run unknown -f "$T/config.unknown" --serverinfo lab
pf_expect_rc 11 "--serverinfo, certificate from an unknown CA"
want '^verifies: +NO: unable to get local issuer certificate: its issuer is not trusted by the system store' \
	"unknown CA reason"
want "^fingerprint: +sha256:$SFP\$" "unknown CA: fingerprint"

# --- paste the printed line: the pin verifies, and a poll accepts it
line=$(sed -n 's/^to pin it: *//p' "$T/untrusted.out")
pf_config "$T/config.pinned" tls_ca_file=- maildir="$T/Maildir.pinned"
sed -i "s|^}|    $line\n}|" "$T/config.pinned"
pf_run pinned -f "$T/config.pinned" --serverinfo lab
pf_expect_rc 0 "--serverinfo with the pasted tls_fingerprint"
want '^verifies: +yes: the fingerprint' "pinned: verdict"
pf_run poll-pinned -f "$T/config.pinned"
pf_expect_rc 0 "a poll with the pasted tls_fingerprint"
pf_verify "$T/manifest" "$T/Maildir.pinned"

# --- a wrong pin: exit 11
sed -i "s|tls_fingerprint = .*|tls_fingerprint = \"sha256:$(printf 'AB:%.0s' $(seq 31))AB\"|" "$T/config.pinned"
pf_run wrongpin -f "$T/config.pinned" --serverinfo lab
pf_expect_rc 11 "--serverinfo with a wrong tls_fingerprint"
want "^verifies: +NO: its fingerprint is not the account's tls_fingerprint" "wrong pin: reason"
t_log "serverinfo: ok"
