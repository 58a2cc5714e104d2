#!/usr/bin/env bash
# import_configs: what --import makes of the setups people have, as popfetch(1) documents it.
# A fetchmail file with several accounts (STARTTLS, a disabled certificate check on a provider's
# host, an MDA, an IMAP entry), an mpop file (passwordeval, mbox delivery, a filter, an eval line)
# and getmail files (an MDA_external, an IMAP retriever): --dry-run prints each account (secrets
# masked), its UID count and every warning, and writes nothing; the real import writes what loads
# and works (a --check over STARTTLS against the lab). A UID state that cannot be read or found
# imports nothing for that account (exit 5, no config, no uid store), a delete-mode fetchmail
# without an idfile imports with none.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init import_configs

lab_start
lab_mkmail --count 5 --seed 71 --manifest "$T/manifest"
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_STATE_HOME=$T/home/.state
mkdir -p "$HOME"
cfg=$T/config state=$T/home/.state/popfetch

expect_out() {   # REGEX CONTEXT: the last run's stdout matches
	grep -Eq -- "$1" "$PF_OUT" || { cat "$PF_OUT" >&2; t_fail "$2: output does not match /$1/"; }
}
expect_no_out() {   # REGEX CONTEXT
	! grep -Eq -- "$1" "$PF_OUT" || { cat "$PF_OUT" >&2; t_fail "$2: output matches /$1/"; }
}
nothing_written() {   # CONTEXT
	[ ! -e "$cfg" ] || t_fail "$1: $cfg was written"
	[ -z "$(find "$state" -name '*.uids' 2>/dev/null)" ] || t_fail "$1: a uid store was written"
}

# --- fetchmail: four entries ---------------------------------------------------------------------
cat >"$HOME/.fetchmailrc" <<EOF
set daemon 300
set idfile "~/fetchids"
# STARTTLS: no ssl, so fetchmail used STLS when offered; popfetch requires it
poll 127.0.0.1 proto pop3 port $LAB_PORT_PLAIN
  user alice there with password "wonderland" sslcertfile "$LAB_CAFILE" keep
poll pop.gmail.com proto pop3
  user "me@gmail.com" password "secret-gmail" options ssl no sslcertck keep
poll imap.example.com proto imap user carol password x
poll pop.example.net user dora password y keep mda "/usr/bin/procmail -d %T"
EOF
chmod 0600 "$HOME/.fetchmailrc"
printf '%s\n' "alice@127.0.0.1 not-on-the-server" "me@gmail.com@pop.gmail.com G1" \
	"me@gmail.com@pop.gmail.com G2" "dora@pop.example.net D1" >"$HOME/fetchids"

pf_run fm-dry -f "$cfg" --import fetchmail --dry-run
pf_expect_rc 0 "fetchmail --dry-run"
nothing_written "fetchmail --dry-run"
expect_out '^account alice ' "fetchmail: the STARTTLS account"
expect_out 'tls = starttls' "fetchmail: STARTTLS"
expect_out "tls_ca_file = \"$LAB_CAFILE\"" "fetchmail: sslcertfile"
expect_out 'UID state: 1 UIDs' "fetchmail: alice's UIDs"
expect_out 'provider = "gmail"' "fetchmail: the gmail preset"
expect_out 'UID state: 2 UIDs' "fetchmail: the gmail UIDs"
expect_out 'did not verify the certificate of pop.gmail.com: imported WITH verification' \
	"fetchmail: no sslcertck"
expect_out 'tls_fingerprint = "sha256:' "fetchmail: how to pin instead"
expect_out '^skipped: poll imap.example.com' "fetchmail: the IMAP entry"
expect_out 'IMAP entry: not imported' "fetchmail: the IMAP entry's reason"
expect_out 'mda = "/usr/bin/procmail -d %T"' "fetchmail: the MDA"
expect_out '%T/%F/%s substitutions.*POPFETCH_SENDER' "fetchmail: the MDA's substitutions"
expect_out 'set daemon 300: run popfetch -d 300' "fetchmail: set daemon"
expect_out 'password = "\*\*\*\*\*\*\*\*"' "fetchmail: masked password"
expect_no_out 'wonderland|secret-gmail' "fetchmail: a password in the output"
expect_out '^would import 3, skipped 1, not imported 0' "fetchmail: the summary"

# Written for real, with --maildir DIR (every account delivers there, the MDA too): created
# 0600, the uid stores bound to host and user, and the STARTTLS account works against the lab.
pf_run fm-write -f "$cfg" --import fetchmail --maildir "$T/Maildir"
pf_expect_rc 0 "fetchmail import"
[ "$(stat -c %a "$cfg")" = 600 ] || t_fail "the new config has mode $(stat -c %a "$cfg")"
[ "$(grep -c '^account ' "$cfg")" = 3 ] || t_fail "fetchmail: $(grep -c '^account ' "$cfg") accounts written, expected 3"
grep -q '^H 127.0.0.1 alice$' "$state/alice.uids" || t_fail "alice's store is not bound to 127.0.0.1 and alice"
grep -q '^D not-on-the-server - ' "$state/alice.uids" || t_fail "alice's UID is not recorded as delivered"
[ "$(grep -c '^D G[12] - ' "$state/me.uids")" = 2 ] || t_fail "the gmail UIDs are not recorded"
pf_run fm-check -f "$cfg" -c alice
pf_expect_rc 0 "--check of the imported STARTTLS account (5 new)"
pf_run fm-again -f "$cfg" --import fetchmail --maildir "$T/Maildir"
pf_expect_rc 0 "importing the same file again"
expect_out 'skipped: .*the same mailbox as alice' "a second import does not duplicate accounts"
[ "$(grep -c '^account ' "$cfg")" = 3 ] || t_fail "a second import added accounts"
rm -rf "$cfg" "$state"

# --- unusable UID state: nothing is written for the account --------------------------------------
printf 'no at sign here\n' >"$HOME/fetchids"
pf_run fm-bad -f "$cfg" --import fetchmail --maildir "$T/Maildir"
pf_expect_rc 5 "fetchmail with an unparsable idfile"
expect_out '^not imported: poll 127.0.0.1, user alice: fetchmail idfile, line 1' "the idfile's line"
expect_out 'add --adopt' "the way out"
nothing_written "fetchmail with an unparsable idfile"
rm -f "$HOME/fetchids"
pf_run fm-none -f "$cfg" --import fetchmail --maildir "$T/Maildir"
pf_expect_rc 5 "fetchmail in keep mode without an idfile"
expect_out 'no UID state: .*fetchids does not exist' "a missing idfile"
nothing_written "fetchmail in keep mode without an idfile"
# Delete mode without an idfile: fetchmail deleted what it fetched (and removes an empty idfile).
cat >"$HOME/.fetchmailrc" <<EOF
poll 127.0.0.1 proto pop3 port $LAB_PORT_TLS user alice password wonderland ssl sslcertfile "$LAB_CAFILE"
EOF
pf_run fm-delete -f "$cfg" --import fetchmail --maildir "$T/Maildir"
pf_expect_rc 0 "fetchmail in delete mode without an idfile"
expect_out 'UID state: 0 UIDs' "delete mode starts empty"
grep -q 'keep = false' "$cfg" || t_fail "delete mode was not carried over"
rm -rf "$cfg" "$state"

# --- mpop ------------------------------------------------------------------------------------------
mkdir -p "$HOME/.config/mpop" "$HOME/.mpop_uidls"
cat >"$HOME/.config/mpop/config" <<EOF
defaults
tls on
keep on
account lab
host 127.0.0.1
port $LAB_PORT_TLS
tls_starttls off
tls_trust_file $LAB_CAFILE
tls_certcheck off
user alice
passwordeval "echo wonderland"
delivery mbox ~/mbox
filter /usr/local/bin/spamcheck
eval echo skipsize 100
EOF
printf ' 2 127.0.0.1 alice\nU1\nU2\n' >"$HOME/.mpop_uidls/alice_at_127.0.0.1"
pf_run mpop-dry -f "$cfg" --import mpop --dry-run
pf_expect_rc 0 "mpop --dry-run (the XDG config, found by default)"
nothing_written "mpop --dry-run"
expect_out 'password_command = "echo wonderland"' "mpop: passwordeval"
expect_out 'mbox = "~/mbox"' "mpop: delivery mbox"
expect_out 'tls = implicit' "mpop: tls_starttls off"
expect_out 'imported WITH verification' "mpop: tls_certcheck off"
expect_out 'warning: filter' "mpop: the filter"
expect_out 'eval line 14 not run' "mpop: the eval line"
expect_out 'UID state: 2 UIDs from .*alice_at_127.0.0.1' "mpop: the uidls file"
pf_run mpop-write -f "$cfg" --import mpop
pf_expect_rc 0 "mpop import (mbox delivery)"
grep -q 'mbox = "~/mbox"' "$cfg" || t_fail "mpop: mbox was not written"
grep -q 'password_command = "echo wonderland"' "$cfg" || t_fail "mpop: passwordeval was not written"
rm -rf "$cfg" "$state"
printf ' 3 127.0.0.1 alice\nU1\n' >"$HOME/.mpop_uidls/alice_at_127.0.0.1"
pf_run mpop-bad -f "$cfg" --import mpop --maildir "$T/Maildir"
pf_expect_rc 5 "mpop with a cut-short uidls file"
expect_out 'not imported: account lab: mpop uidls file: ends 2 UIDs short' "mpop: the reason"
nothing_written "mpop with a cut-short uidls file"

# --- getmail ---------------------------------------------------------------------------------------
mkdir -p "$HOME/.getmail"
cat >"$HOME/.getmail/getmailrc" <<EOF
[retriever]
type = SimplePOP3SSLRetriever
server = 127.0.0.1
port = $LAB_PORT_TLS
username = alice
password_command = ("/bin/echo", "wonderland")
ca_certs = $LAB_CAFILE
[destination]
type = MDA_external
path = /usr/bin/maildrop
arguments = ("-d", "alice")
[options]
delete = false
read_all = false
EOF
printf 'G1\0001700000000\n' >"$HOME/.getmail/oldmail-127.0.0.1-$LAB_PORT_TLS-alice"
pf_run gm-dry -f "$cfg" --import getmail --dry-run
pf_expect_rc 0 "getmail --dry-run"
expect_out 'password_command = "/bin/echo wonderland"' "getmail: password_command"
expect_out 'mda = "/usr/bin/maildrop -d alice"' "getmail: MDA_external"
expect_out 'UID state: 1 UIDs' "getmail: the oldmail file"
printf 'G1 1700000000\n' >"$HOME/.getmail/oldmail-127.0.0.1-$LAB_PORT_TLS-alice"
pf_run gm-bad -f "$cfg" --import getmail --maildir "$T/Maildir"
pf_expect_rc 5 "getmail with an unparsable oldmail file"
expect_out 'getmail oldmail file, line 1' "getmail: the reason"
nothing_written "getmail with an unparsable oldmail file"
cat >"$T/imap.rc" <<EOF
[retriever]
type = SimpleIMAPSSLRetriever
server = imap.example.com
username = alice
[destination]
type = Maildir
path = ~/Mail/
EOF
pf_run gm-imap -f "$cfg" --import getmail "$T/imap.rc"
pf_expect_rc 0 "a getmail IMAP file (nothing to import is no error)"
expect_out 'skipped: getmail rc' "getmail: the IMAP retriever is skipped"
expect_out 'IMAP retriever' "getmail: and named"
nothing_written "a getmail IMAP file"

# One file per account: the user's config has accounts.d/, so the account goes there, its uid
# store into the main config's state_dir; -K overrides the peer's keep.
mkdir -p "$T/split/accounts.d"
printf 'state_dir = "%s"\n' "$T/split-state" >"$T/split/config"
chmod 0600 "$T/split/config"
cp "$T/split/config" "$T/split/config.before"
printf 'G1\0001700000000\nG2\0001700000000\n' >"$HOME/.getmail/oldmail-127.0.0.1-$LAB_PORT_TLS-alice"
pf_run gm-split -f "$T/split/config" --import getmail --maildir "$T/Maildir" -K
pf_expect_rc 0 "getmail into accounts.d"
[ -f "$T/split/accounts.d/alice.conf" ] || t_fail "no accounts.d/alice.conf"
[ "$(stat -c %a "$T/split/accounts.d/alice.conf")" = 600 ] || t_fail "accounts.d/alice.conf is not 0600"
cmp -s "$T/split/config" "$T/split/config.before" || t_fail "the main config was changed"
grep -q 'keep = false' "$T/split/accounts.d/alice.conf" || t_fail "-K was not applied"
[ "$(grep -c '^D G[12] - ' "$T/split-state/alice.uids")" = 2 ] ||
	t_fail "the UIDs are not in the main config's state_dir"

# A getmaildir of its own (getmail --getmaildir DIR --rcfile rc): the oldmail file beside the rc.
mkdir -p "$T/gmdir"
sed 's/^username = alice/username = bob/' "$HOME/.getmail/getmailrc" >"$T/gmdir/rc"
printf 'B1\0001700000000\n' >"$T/gmdir/oldmail-127.0.0.1-$LAB_PORT_TLS-bob"
pf_run gm-own-dir -f "$cfg" --import getmail "$T/gmdir/rc" --dry-run
pf_expect_rc 0 "getmail with the oldmail file beside its rc"
expect_out "UID state: 1 UIDs from $T/gmdir/oldmail-" "the oldmail file beside the rc"

# A uid store of that name already bound to another server or user is never written to: the
# account is not imported, and the store is left as it was.
mkdir -p "$state"
printf 'popfetch-uids 1\nH other.example bob\n' >"$state/alice.uids"
cp "$state/alice.uids" "$T/foreign.before"
pf_run gm-foreign -f "$cfg" --import getmail --maildir "$T/Maildir"
pf_expect_rc 5 "a uid store bound elsewhere"
expect_out 'not written: ' "a uid store bound elsewhere"
[ ! -e "$cfg" ] || t_fail "the account was written over a foreign uid store"
cmp -s "$state/alice.uids" "$T/foreign.before" || t_fail "the foreign uid store was changed"
rm -rf "$state"

pf_run gm-nofile -f "$cfg" --import getmail "$T/missing.rc"
pf_expect_rc 5 "a missing getmail file"
pf_expect_err "does not exist" "a missing getmail file"
pf_run stray-dry -f "$cfg" --dry-run
pf_expect_rc 5 "--dry-run without --import"
pf_expect_err -- "--dry-run goes with --import" "--dry-run without --import"
pf_run bad-peer -f "$cfg" --import offlineimap
pf_expect_rc 5 "an unknown peer"
pf_expect_err "fetchmail, mpop or getmail" "an unknown peer"

t_log "PASS: every mapping as documented; unusable state imports nothing"
