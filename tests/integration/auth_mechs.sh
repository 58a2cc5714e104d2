#!/usr/bin/env bash
# auth_mechs: every `auth =` value logs in and fetches, and the -vv trace names the mechanism but
# never shows the password or an AUTH payload. Dovecot serves USER, PLAIN, LOGIN, CRAM-MD5 and APOP
# (its {PLAIN} passwd-file scheme makes the last two possible) over implicit TLS, CRAM-MD5 once over
# STARTTLS; ~/.netrc supplies the password when the config has none, and one readable by others is
# refused (exit 6). XOAUTH2 and OAUTHBEARER with a token from password_command run against the
# scripted server here (XOAUTH2 in two steps, as Outlook wants; a refused token gets the RFC 7628 /
# Google dummy reply before the -ERR); oauth2_dovecot.sh runs both against Dovecot's oauth2 passdb.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init auth_mechs

N=3
PW=wonderland
SERVER="$TESTLIB/pop3-script-server"
export LAB_AUTH_MECHANISMS="plain login cram-md5 apop"
lab_start
lab_mkmail --count $N --seed 11 --manifest "$T/manifest"

conf() {   # NAME [key=value ...]: $T/NAME.conf in keep mode, with its own state and Maildir
	local name=$1
	shift
	pf_config "$T/$name.conf" state_dir="$T/$name.state" maildir="$T/$name.Maildir" "$@"
}

no_secret() {   # NAME SECRET...: none of the secrets in the run's output, plain or base64 (common.sh)
	local name=$1 s
	shift
	for s in "$@"; do
		t_no_secret "$name: the -vv output" "$s" "$PF_ERR" "$PF_OUT"
	done
}

trace_has() {   # NAME REGEX: the last run's trace has a line matching REGEX
	grep -Eq -- "$2" "$PF_ERR" || t_fail "$1: the -vv trace has no line matching /$2/"
}

# --- Dovecot, implicit TLS: every mechanism it can serve
declare -A want=(
	[user]='^.*C: PASS \*\*\*\*$'
	[plain]='^.*C: AUTH PLAIN \*\*\*\*$'
	[login]='^.*C: AUTH LOGIN$'
	[cram-md5]='^.*C: AUTH CRAM-MD5$'
	[apop]='^.*C: APOP alice \*\*\*\*$'
	[auto]='^.*C: AUTH PLAIN \*\*\*\*$'
)
for mech in user plain login cram-md5 apop auto; do
	conf "$mech" auth="$mech"
	pf_run "$mech" -vv -f "$T/$mech.conf"
	pf_expect_rc 0 "auth = $mech"
	pf_verify "$T/manifest" "$T/$mech.Maildir"
	trace_has "$mech" "${want[$mech]}"
	no_secret "$mech" "$PW"
done
# Dovecot saw the mechanisms we claim to have used.
for m in CRAM-MD5 APOP LOGIN; do
	grep -q "method=$m" "$LAB_LOG" || t_fail "the Dovecot log shows no login with method=$m"
done

# --- STARTTLS: CRAM-MD5 only after the handshake
conf stls tls=starttls port="$LAB_PORT_PLAIN" auth=cram-md5
pf_run stls -vv -f "$T/stls.conf"
pf_expect_rc 0 "starttls + cram-md5"
pf_verify "$T/manifest" "$T/stls.Maildir"
stls_line=$(grep -n 'C: STLS' "$PF_ERR" | head -n 1 | cut -d: -f1)
auth_line=$(grep -n 'C: AUTH CRAM-MD5' "$PF_ERR" | head -n 1 | cut -d: -f1)
[ -n "$stls_line" ] && [ -n "$auth_line" ] && [ "$stls_line" -lt "$auth_line" ] ||
	t_fail "starttls: AUTH CRAM-MD5 was not sent after STLS"
no_secret stls "$PW"

# --- refusals: a wrong password is exit 3; a mechanism the server lacks is exit 5, nothing sent
conf badcram auth=cram-md5 password=not-the-password
pf_run badcram -vv -f "$T/badcram.conf"
pf_expect_rc 3 "cram-md5 with a wrong password"
no_secret badcram not-the-password

conf noxo auth=xoauth2
pf_run noxo -vv -f "$T/noxo.conf"
pf_expect_rc 5 "xoauth2 against a server without it"
pf_expect_err 'does not offer AUTH XOAUTH2' noxo
! grep -q 'C: AUTH' "$PF_ERR" || t_fail "noxo: AUTH was sent although the server lacks XOAUTH2"

# --- ~/.netrc when the config has no password
mkdir -p "$T/home"
(umask 077 && printf 'machine other.example login alice password nope\nmachine 127.0.0.1\n\tlogin alice\n\tpassword %s\n' \
	"$PW" >"$T/home/.netrc")
conf netrc password=- auth=plain
OLD_HOME=$HOME
export HOME=$T/home
pf_run netrc -vv -f "$T/netrc.conf"
pf_expect_rc 0 "password from ~/.netrc"
pf_verify "$T/manifest" "$T/netrc.Maildir"
no_secret netrc "$PW"
chmod 0644 "$T/home/.netrc"
conf netrcperm password=-
pf_run netrcperm -f "$T/netrcperm.conf"
pf_expect_rc 6 "a .netrc readable by others"
pf_expect_err '\.netrc.*chmod 600' netrcperm
no_secret netrcperm "$PW"
rm "$T/home/.netrc"
conf nonetrc password=-
pf_run nonetrc -f "$T/nonetrc.conf"
pf_expect_rc 5 "no password, no password_command, no .netrc"
pf_expect_err 'neither password nor password_command' nonetrc
export HOME=$OLD_HOME

# --- XOAUTH2 and OAUTHBEARER against the scripted server (implicit TLS)
TOKEN="ya29.$(head -c 600 /dev/zero | tr '\0' 'T')"   # a long token: OAUTHBEARER must use "+ "
printf '%s\n' "$TOKEN" >"$T/token"
XO=$(printf 'user=alice\001auth=Bearer %s\001\001' "$TOKEN" | base64 -w0)
ERRJSON=$(printf '{"status":"invalid_token","scope":"https://mail.google.com/"}' | base64 -w0)
PROLOGUE='S: +OK script server ready
C: CAPA
S: +OK
S: USER
S: UIDL
S: SASL PLAIN XOAUTH2 OAUTHBEARER
S: .'
EMPTY_POLL='C: STAT
S: +OK 0 0
C: UIDL
S: +OK
S: .
C: QUIT
S: +OK bye'

oauth() {   # NAME MECH SCRIPT-BODY WANT-RC: one run against a scripted server
	local name=$1 mech=$2 body=$3 rc=$4
	printf '%s\n%s\n' "$PROLOGUE" "$body" >"$T/$name.script"
	t_bg "$SERVER" --script "$T/$name.script" --ready-file "$T/$name.port" --log "$T/$name.log" \
		--max-seconds 60 --once --tls --cert "$LAB_LAB_DIR/certs/server.pem" \
		--key "$LAB_LAB_DIR/certs/server.key" 2>"$T/$name.stderr"
	local pid=$T_BG_PID
	t_wait_file "$T/$name.port"
	conf "$name" port="$(cat "$T/$name.port")" auth="$mech" password=- \
		password_command="cat $T/token"
	pf_run "$name" -vv -f "$T/$name.conf"
	wait "$pid" || { cat "$T/$name.stderr" >&2; t_fail "$name: the client did not follow the script"; }
	pf_expect_rc "$rc" "auth = $mech ($name)"
	no_secret "$name" "$TOKEN" "${TOKEN:0:40}" "${XO:0:40}"
}

# Two steps: the token only after "+ " (Outlook refuses it on the AUTH line).
oauth xoauth2 xoauth2 "C: AUTH XOAUTH2
S: + 
C: $XO
S: +OK welcome
$EMPTY_POLL" 1
trace_has xoauth2 '^.*C: AUTH XOAUTH2$'
trace_has xoauth2 '^.*C: \*\*\*\*$'

# A refused token: the error challenge gets an empty line, then the final -ERR (exit 3).
oauth xoauth2bad xoauth2 "C: AUTH XOAUTH2
S: + 
C: $XO
S: + $ERRJSON
C: 
S: -ERR [AUTH] Authentication failed" 3
pf_expect_err 'invalid_token' xoauth2bad

# OAUTHBEARER (RFC 7628): a long token goes after "+ "; a refusal is answered with ^A ("AQ==").
oauth bearer oauthbearer "C: AUTH OAUTHBEARER
S: + 
C~ ^[A-Za-z0-9+/]+=*$
S: +OK welcome
$EMPTY_POLL" 1
trace_has bearer '^.*C: AUTH OAUTHBEARER$'
sent=$(sed -n 's/^C: \([A-Za-z0-9+/]\{100,\}=*\)$/\1/p' "$T/bearer.log" | head -n 1 | base64 -d | tr '\001' '|')
case $sent in
"n,a=alice,|"*"auth=Bearer $TOKEN||") ;;
*) t_fail "bearer: the OAUTHBEARER message is not RFC 7628's: ${sent:0:80}...";;
esac

oauth bearerbad oauthbearer "C: AUTH OAUTHBEARER
S: + 
C~ ^[A-Za-z0-9+/]+=*$
S: + $ERRJSON
C: AQ==
S: -ERR [AUTH] SASL authentication failed" 3
pf_expect_err 'invalid_token' bearerbad
t_log "PASS"
