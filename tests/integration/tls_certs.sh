#!/usr/bin/env bash
# tls_certs: certificate and STARTTLS failures against tests/lib/pop3-script-server with
# certificates made here. Every failure exits 11 and sends no credential; each is paired with a
# positive control (the same server set-up, one thing changed), so a pass means "refused for the
# right reason". Elsewhere: a certificate for another host name (errors.sh "wronghost"), an
# unknown CA (errors.sh "unknownca", cve_regressions.sh CVE-2019-8337), STLS not offered or
# refused (cve_regressions.sh CVE-2021-39272), a TLS handshake that stalls (CVE-2011-1947).
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init tls_certs

. "$TESTLIB/script-tests.sh"

expected_messages
SAN=IP:127.0.0.1,DNS:localhost

make_self_signed() {   # PREFIX: PREFIX.pem / PREFIX.key, self-signed for 127.0.0.1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 30 \
		-subj "/CN=127.0.0.1" -addext "subjectAltName=$SAN" \
		-addext "basicConstraints=critical,CA:FALSE" >"$1.log" 2>&1 ||
		t_fail "cannot make a self-signed certificate $1 (see $1.log)"
}

make_expired() {   # CADIR PREFIX: a certificate from CADIR for 127.0.0.1, valid 2020-2021 only
	local ca=$1 out=$2 db=$2.db
	mkdir -p "$db"
	: >"$db/index.txt"
	echo 01 >"$db/serial"
	printf '%s\n' '[ca]' 'default_ca = old' '[old]' "database = $db/index.txt" \
		"new_certs_dir = $db" "serial = $db/serial" 'default_md = sha256' 'policy = any' \
		'unique_subject = no' '[any]' 'commonName = supplied' >"$db/ca.cnf"
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "extendedKeyUsage=serverAuth" \
		"keyUsage=critical,digitalSignature,keyEncipherment" "subjectAltName=$SAN" >"$out.ext"
	{
		openssl req -newkey rsa:2048 -nodes -keyout "$out.key" -out "$out.csr" -subj "/CN=127.0.0.1" &&
			openssl ca -batch -notext -config "$db/ca.cnf" -cert "$ca/ca.pem" -keyfile "$ca/ca.key" \
				-in "$out.csr" -out "$out.pem" -extfile "$out.ext" \
				-startdate 20200101000000Z -enddate 20210101000000Z
	} >"$out.log" 2>&1 || t_fail "cannot make an expired certificate $out (see $out.log)"
}

fingerprint() {   # PEM: its SHA-256 fingerprint as "sha256:AB:CD:..."
	openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^[^=]*=/sha256:/'
}

t_make_ca "$T/ca"
t_make_cert "$T/ca" "$T/good" "$SAN"
make_self_signed "$T/self"
make_expired "$T/ca" "$T/expired"
tls_server() { serve "$1" "$2" --cert "$T/$3.pem" --key "$T/$3.key" "${@:4}"; }   # NAME SCRIPT CERT [opts]
tconf() { conf "$1" tls=implicit tls_ca_file="$T/ca/ca.pem" "${@:2}"; }   # conf, implicit TLS, our CA

refused() {   # NAME REGEX: exit 11 with a TLS error, no credential sent, nothing delivered
	run "$1"
	expect_fail "$1" 11 "$2"
	no_credentials "$1"
	md_is "$1"
}

# --- control: a certificate from the configured CA, implicit TLS
tls_server good two-messages.pop3 good --tls
tconf good
run good
pf_expect_rc 0 "implicit TLS with a trusted certificate (control)"
srv_ok good
md_is good "$T/exp-one" "$T/exp-two"

# --- self-signed, checked against the system store: refused
tls_server self two-messages.pop3 self --tls
conf self tls=implicit
refused self '[Cc]ertif|[Vv]erif'

# --- expired (signed by the configured CA, valid 2020-2021)
tls_server expired two-messages.pop3 expired --tls
tconf expired
refused expired '[Ee]xpired'

# --- a pinned fingerprint replaces CA and name checks: the self-signed certificate is accepted
# when its fingerprint is pinned (as sha256:AB:.. and as bare lowercase hex)...
fp=$(fingerprint "$T/self.pem")
tls_server pin two-messages.pop3 self --tls
conf pin tls=implicit tls_fingerprint="$fp"
run pin
pf_expect_rc 0 "self-signed certificate with its fingerprint pinned"
srv_ok pin
md_is pin "$T/exp-one" "$T/exp-two"
hexfp=$(printf '%s' "${fp#sha256:}" | tr -d ':' | tr 'A-F' 'a-f')
tls_server pinhex two-messages.pop3 self --tls
conf pinhex tls=implicit tls_fingerprint="$hexfp"
run pinhex
pf_expect_rc 0 "fingerprint pinned as bare lowercase hex"
srv_ok pinhex
# ...and any other certificate is refused, even one the CA file would trust.
tls_server pinwrong two-messages.pop3 good --tls
tconf pinwrong tls_fingerprint="$fp"
refused pinwrong '[Ff]ingerprint'

# --- STARTTLS: control, then a reply injected before the handshake (DESIGN.md section 3)
tls_server stls starttls-good.pop3 good
tconf stls tls=starttls
run stls
pf_expect_rc 0 "STARTTLS (control)"
srv_ok stls
md_is stls "$T/exp-one" "$T/exp-two"
tls_server inject starttls-inject.pop3 good
tconf inject tls=starttls
refused inject 'TLS|STLS|before'
last=$(grep '^C: ' "$T/inject.log" | tail -n 1)
[ "$last" = "C: STLS" ] || t_fail "inject: the client went on after the injected reply ('$last')"

# --- tls_min_version = 1.3 against a server that stops at TLS 1.2: refused; 1.2 works (control)
tls_server tls12 two-messages.pop3 good --tls --tls-max 1.2
tconf tls12 tls_min_version=1.2
run tls12
pf_expect_rc 0 "tls_min_version = 1.2 against a TLS 1.2 server (control)"
srv_ok tls12
tls_server tls13 two-messages.pop3 good --tls --tls-max 1.2
tconf tls13 tls_min_version=1.3
refused tls13 'TLS|[Pp]rotocol|version'
t_log "PASS"
