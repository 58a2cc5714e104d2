#!/usr/bin/env bash
# cve_regressions: one named case per vulnerability that hit fetchmail or mpop, replayed with
# tests/lib/pop3-script-server. Case names are the CVE ids; each comment says what went wrong
# there and what popfetch must do instead. Run it under the sanitizer build too
# (contrib/check.sh does): a memory error there is the regression.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init cve_regressions

. "$TESTLIB/script-tests.sh"

expected_messages
SAN=IP:127.0.0.1,DNS:localhost
t_make_ca "$T/ca"
t_make_cert "$T/ca" "$T/good" "$SAN"

no_raw_bytes() {   # NAME: no control byte but LF, no DEL, nothing >= 0x80 in stderr or stdout
	python3 - "$PF_ERR" "$PF_OUT" <<'PY' || t_fail "$1: server text reached the terminal unsanitised"
import sys
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    bad = sorted({b for b in data if (b < 0x20 and b != 0x0A) or b >= 0x7F})
    if bad:
        print(f"{path}: raw bytes {[hex(b) for b in bad]}", file=sys.stderr)
        sys.exit(1)
PY
}

# --- CVE-2005-2335 (fetchmail): a UIDL reply with an over-long UID overflowed a stack buffer.
# RFC 1939: a UID is 1-70 octets of 0x21-0x7E. 70 (every printable class, '/', '%', '.'
# included) is delivered and stored intact (a rerun fetches nothing); a UID of 71, 200 or 4000
# costs its message only (issue 12): message 2 stays on the server, never retrieved nor deleted,
# and message 1 is fetched and deleted.  A line of 10000 is over every line's bound (PF_LINE_MAX,
# 4 KiB): not a listing, refused before anything is fetched or deleted.
uid_of() {   # LEN: a UID of LEN octets cycling through every printable class
	python3 -c 'import sys; print("".join(chr(0x21 + (i * 7) % 94) for i in range(int(sys.argv[1]))))' "$1"
}
uid_script() {   # LEN FILE [--again]: listing-two.pop3 with message 2's UID LEN octets long
	local uid
	uid=$(uid_of "$1")
	{
		printf 'INCLUDE %s\nC: STAT\nS: +OK 2 100\nC: UIDL\nS: +OK\nS: 1 uid-one\n' "$SCRIPTS/login.pop3"
		printf 'S: 2 %s\nS: .\n' "$uid"
		# LIST only when something is new.
		[ "${3:-}" = --again ] || printf 'C: LIST\nS: +OK\nS: 1 50\nS: 2 50\nS: .\nINCLUDE %s\nINCLUDE %s\n' \
			"$SCRIPTS/retr-one.pop3" "$SCRIPTS/retr-two.pop3"
		printf 'INCLUDE %s\n' "$SCRIPTS/dele-quit.pop3"
	} >"$2"
}
uid_script 70 "$T/uid70.pop3"
uid_script 70 "$T/uid70-again.pop3" --again
serve CVE-2005-2335-uid70 "$T/uid70.pop3"
conf CVE-2005-2335-uid70
run CVE-2005-2335-uid70
pf_expect_rc 0 "CVE-2005-2335: a 70-octet UID"
srv_ok CVE-2005-2335-uid70
md_is CVE-2005-2335-uid70 "$T/exp-one" "$T/exp-two"
origins_are CVE-2005-2335-uid70 uid-one "$(uid_of 70)"
serve CVE-2005-2335-uid70-again "$T/uid70-again.pop3"
conf CVE-2005-2335-uid70-again state_dir="$T/CVE-2005-2335-uid70.state" maildir="$T/CVE-2005-2335-uid70.Maildir"
run CVE-2005-2335-uid70-again
pf_expect_rc 1 "CVE-2005-2335: the 70-octet UID was stored intact (rerun: nothing new)"
srv_ok CVE-2005-2335-uid70-again
md_is CVE-2005-2335-uid70 "$T/exp-one" "$T/exp-two"
for len in 71 200 4000; do
	name=CVE-2005-2335-uid$len
	{
		printf 'INCLUDE %s\nC: STAT\nS: +OK 2 100\nC: UIDL\nS: +OK\nS: 1 uid-one\n' "$SCRIPTS/login.pop3"
		printf 'S: 2 %s\nS: .\nC: LIST\nS: +OK\nS: 1 50\nS: 2 50\nS: .\n' "$(uid_of "$len")"
		printf 'INCLUDE %s\nC: DELE 1\nS: +OK\nC: QUIT\nS: +OK bye\n' "$SCRIPTS/retr-one.pop3"
	} >"$T/$name.pop3"
	serve "$name" "$T/$name.pop3"
	conf "$name"
	run "$name"
	pf_expect_rc 0 "$name: message 1 beside an over-long UID"
	srv_ok "$name"
	pf_expect_err 'message 2 left on the server' "$name"
	never_sent "$name" 'RETR 2|DELE 2' "the message with the over-long UID was touched"
	md_is "$name" "$T/exp-one"
done
name=CVE-2005-2335-uid10000
uid_script 10000 "$T/$name.pop3"
serve "$name" "$T/$name.pop3"
conf "$name"
run "$name"
expect_fail "$name" 4 'longer than'
never_sent "$name" RETR "a message was fetched from a listing with a line over the bound"
no_dele "$name"
no_quit "$name"
md_is "$name"

# --- CVE-2008-2711 and CVE-2021-36386 (fetchmail): long or odd server text crashed the log
# formatting (a buffer overrun in the varargs logging; an over-long message in report_*). A
# ~3.9 KB -ERR full of printf directives, with a bare CR and a second -ERR line after it, at
# PASS (exit 3) and as the greeting (exit 7, [SYS/TEMP]): printed as data (the directives appear
# literally), sanitised and bounded (err_clean: 1-3 printable lines of at most 1 KiB).
serve CVE-2008-2711-pass cve-format-pass.pop3
conf CVE-2008-2711-pass
run CVE-2008-2711-pass
expect_fail CVE-2008-2711-pass 3 '%s%n%x'
serve CVE-2021-36386-greeting cve-format-greeting.pop3
conf CVE-2021-36386-greeting
run CVE-2021-36386-greeting
expect_fail CVE-2021-36386-greeting 7 '%s%n%x'
no_credentials CVE-2021-36386-greeting

# --- CVE-2010-1167 (fetchmail): untrusted server text was printed raw, so a server could send
# terminal escape sequences to the user's terminal or forge log lines. ESC, BEL, BS, CR, DEL and
# an 8-bit CSI in a -ERR greeting (7), a login -ERR (3), a status line that is not POP3 (4), an
# invalid UIDL line (4), and in a -vv protocol trace of a good session: never raw on stderr.
for c in greeting:7 pass:3 status:4 uidl:4; do
	name=CVE-2010-1167-${c%%:*}
	serve "$name" "cve-escape-${c%%:*}.pop3"
	conf "$name"
	run "$name"
	expect_fail "$name" "${c#*:}" '.'
	no_raw_bytes "$name"
done
never_sent CVE-2010-1167-uidl RETR "a message was fetched from an invalid listing"
! grep -q '^popfetch: forged line' "$T/CVE-2010-1167-greeting.err" || t_fail "CVE-2010-1167: a server forged a log line"
serve CVE-2010-1167-trace cve-escape-trace.pop3
conf CVE-2010-1167-trace
run CVE-2010-1167-trace -vv
pf_expect_rc 0 "CVE-2010-1167: a good session with escapes, traced with -vv"
srv_ok CVE-2010-1167-trace
grep -q 'RED' "$PF_ERR" || t_fail "CVE-2010-1167-trace: -vv shows no server text (nothing was checked)"
no_raw_bytes CVE-2010-1167-trace
md_is CVE-2010-1167-trace "$T/exp-one" "$T/exp-two"

# --- CVE-2011-1947 (fetchmail): no timeout in the TLS handshake, so a server that accepted the
# connection and then said nothing hung fetchmail for ever. With timeout = 2: implicit TLS to a
# server that never answers the ClientHello, and STARTTLS whose handshake never starts. Exit 11
# or 2 within 10 s, no credentials.
printf 'STALL\n' >"$T/silent.pop3"
serve CVE-2011-1947-implicit "$T/silent.pop3"
conf CVE-2011-1947-implicit tls=implicit tls_ca_file="$T/ca/ca.pem" timeout=2
serve CVE-2011-1947-starttls starttls-stall.pop3
conf CVE-2011-1947-starttls tls=starttls tls_ca_file="$T/ca/ca.pem" timeout=2
for name in CVE-2011-1947-implicit CVE-2011-1947-starttls; do
	run "$name"
	case $PF_RC in 2|11) ;; *) t_fail "$name: popfetch exited $PF_RC, expected 11 or 2";; esac
	expect_fail "$name" "$PF_RC" '[Tt]ime|TLS|handshake'
	no_credentials "$name"
done

# --- CVE-2021-39272 (fetchmail): with STARTTLS asked for, fetchmail went on in plaintext when the
# server (or a man in the middle) did not offer STLS, and logged in. tls = starttls against no
# STLS in CAPA, no CAPA at all, and STLS refused: exit 11, and no credential ever sent.
for c in nostls nocapa refused; do
	name=CVE-2021-39272-$c
	serve "$name" "starttls-$c.pop3"
	conf "$name" tls=starttls tls_ca_file="$T/ca/ca.pem"
	run "$name"
	expect_fail "$name" 11 'STLS|STARTTLS|TLS'
	no_credentials "$name"
	md_is "$name"
done

# --- CVE-2019-8337 (mpop): the result of the certificate check was not acted on in one path, so
# an untrusted certificate was accepted. A server whose certificate comes from another CA than
# tls_ca_file, with implicit TLS and after STLS: exit 11, no credential. Control: the same
# server with a certificate from the configured CA delivers.
t_make_ca "$T/rogue"
t_make_cert "$T/rogue" "$T/rogue-srv" "$SAN"
serve CVE-2019-8337-control two-messages.pop3 --tls --cert "$T/good.pem" --key "$T/good.key"
conf CVE-2019-8337-control tls=implicit tls_ca_file="$T/ca/ca.pem"
run CVE-2019-8337-control
pf_expect_rc 0 "CVE-2019-8337 control: a trusted certificate"
srv_ok CVE-2019-8337-control
serve CVE-2019-8337-implicit two-messages.pop3 --tls --cert "$T/rogue-srv.pem" --key "$T/rogue-srv.key"
conf CVE-2019-8337-implicit tls=implicit tls_ca_file="$T/ca/ca.pem"
serve CVE-2019-8337-starttls starttls-good.pop3 --cert "$T/rogue-srv.pem" --key "$T/rogue-srv.key"
conf CVE-2019-8337-starttls tls=starttls tls_ca_file="$T/ca/ca.pem"
for name in CVE-2019-8337-implicit CVE-2019-8337-starttls; do
	run "$name"
	expect_fail "$name" 11 '[Cc]ertif|[Vv]erif'
	no_credentials "$name"
	md_is "$name"
done
t_log "PASS"
