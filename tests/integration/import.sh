#!/usr/bin/env bash
# import: switching from the real fetchmail, mpop and getmail6 (the Debian packages) to popfetch.
# Each peer fetches part of the lab mailbox in keep mode with its own config, over TLS that trusts
# the lab CA (fetchmail: implicit TLS, sslcertfile; mpop: STARTTLS, tls_trust_file, passwordeval;
# getmail: SimplePOP3SSLRetriever, ca_certs), into a Maildir. More mail arrives. Then
# `popfetch --import PEER` writes the account (a new config, created 0600) with the peer's UIDs
# recorded as delivered, and ONE popfetch poll must deliver exactly the messages the peer had not:
# into the same Maildir, each message once, byte-exact (verify-maildir), and a second poll nothing.
# In delete mode the import never lets popfetch delete a message the peer had not delivered.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init import

for peer in fetchmail mpop getmail; do
	command -v "$peer" >/dev/null || t_skip "$peer is not installed (apt-get install fetchmail mpop getmail6)"
done
lab_start
# getmail refuses to deliver as root: run as root (as the lab does), its Maildir belongs to the
# lab's unprivileged user and getmail delivers as that user (destination option `user`).
RUN_AS=''
[ "$(id -u)" != 0 ] || RUN_AS=${LAB_RUN_AS:-popfetchlab}
as_run_as() {   # DIR: hand DIR to RUN_AS when there is one
	[ -z "$RUN_AS" ] || chown -R "$RUN_AS" "$1"
}
PEER_TIMEOUT=60

# fresh_lab SEED [mkmail args]: an empty mailbox with messages 1..10 (manifest $T/manifest)
fresh_lab() {
	local seed=$1
	shift
	lab_reset
	lab_mkmail --count 10 --seed "$seed" --manifest "$T/manifest" "$@"
}

more_mail() {   # SEED [mkmail args]: messages 11..15 arrive
	local seed=$1
	shift
	lab_mkmail --count 5 --seed "$seed" --first-seq 11 --append --manifest "$T/manifest" "$@"
}

# peer_home NAME: HOME and XDG dirs of their own for one peer and its popfetch
peer_home() {
	export HOME=$T/home-$1 XDG_CONFIG_HOME=$T/home-$1/.config XDG_STATE_HOME=$T/home-$1/.state
	mkdir -p "$HOME" "$T/Maildir-$1/cur" "$T/Maildir-$1/new" "$T/Maildir-$1/tmp"
}

# import_and_poll NAME PEER_COUNT [IMPORT ARGS...]: --import, one poll, the checks
import_and_poll() {
	local name=$1 had=$2 cfg=$T/config-$1 md=$T/Maildir-$1 before after new want
	shift 2
	[ "$(md_count "$md")" = "$had" ] || t_fail "$name delivered $(md_count "$md") messages, expected $had"
	md_seqs "$md" >"$T/$name.seqs.before"
	pf_run "$name-dry" -f "$cfg" --import "$name" "$@" --dry-run
	pf_expect_rc 0 "$name --import --dry-run"
	[ ! -e "$cfg" ] || t_fail "$name --dry-run wrote $cfg"
	grep -q "UID state: $had UIDs" "$PF_OUT" || t_fail "$name --dry-run does not report $had UIDs"
	! grep -q 'password = "wonderland"' "$PF_OUT" || t_fail "$name --dry-run shows the password"
	pf_run "$name-import" -f "$cfg" --import "$name" "$@"
	pf_expect_rc 0 "$name --import"
	[ "$(stat -c %a "$cfg")" = 600 ] || t_fail "$name: $cfg was created with mode $(stat -c %a "$cfg")"
	grep -q "^account " "$cfg" || t_fail "$name: no account in $cfg"
	pf_run "$name-poll" -f "$cfg"
	pf_expect_rc 0 "$name: first popfetch poll after the import"
	pf_verify "$T/manifest" "$md" --strict-tmp
	md_seqs "$md" >"$T/$name.seqs.after"
	new=$(comm -13 <(sort "$T/$name.seqs.before") <(sort "$T/$name.seqs.after") | sort -n | tr '\n' ' ')
	want=$(comm -23 <(seq 1 15 | sort) <(sort "$T/$name.seqs.before") | sort -n | tr '\n' ' ')
	[ "$new" = "$want" ] || t_fail "$name: popfetch delivered '$new', expected '$want'"
	[ "$(md_count "$md")" = 15 ] || t_fail "$name: $(md_count "$md") messages in the Maildir, expected 15"
	pf_run "$name-again" -f "$cfg"
	pf_expect_rc 1 "$name: a second poll has nothing new"
	[ "$(lab_count)" = 15 ] || t_fail "$name: keep mode, but the server has $(lab_count) messages"
	t_log "$name: the peer had $had, popfetch delivered $(echo "$new" | wc -w) new"
}

# --- fetchmail: implicit TLS, 6 of 10 (--fetchlimit), into the Maildir through a tiny MDA -----
# fetchmail checks the certificate's CommonName (localhost), not its IP address entry; popfetch
# checks subjectAltName (127.0.0.1). fetchmail cannot write a Maildir itself: its MDA does, and
# the imported account runs the same MDA (mda = "..."), into the same Maildir.
# fetchmail breaks lines longer than its buffer, so this mailbox has no very long lines (mkmail's
# fixed profile): what is compared is popfetch's work, not fetchmail's.
peer_home fetchmail
fresh_lab 61 --size-profile fixed:3000
cat >"$T/mda.sh" <<'EOF'
#!/bin/sh
f=$(date +%s).$$.mda
cat >"$1/tmp/$f" && mv "$1/tmp/$f" "$1/new/$f"
EOF
chmod 0755 "$T/mda.sh"
cat >"$HOME/.fetchmailrc" <<EOF
poll 127.0.0.1 proto pop3 port $LAB_PORT_TLS
  user alice there with password "wonderland" is root here
  options ssl sslcertck sslcertfile "$LAB_CAFILE" sslcommonname localhost keep
  mda "$T/mda.sh $T/Maildir-fetchmail"
EOF
chmod 0600 "$HOME/.fetchmailrc"
rc=0
timeout "$PEER_TIMEOUT" fetchmail -N --nosyslog --fetchlimit 6 >"$T/fetchmail.log" 2>&1 || rc=$?
# 13: "fetchlimit reached", the point of this run
[ "$rc" = 13 ] || { cat "$T/fetchmail.log" >&2; t_fail "fetchmail exited $rc, expected 13"; }
[ "$(grep -c . "$HOME/.fetchids")" = 6 ] || t_fail "fetchmail's idfile does not hold 6 UIDs"
more_mail 62 --size-profile fixed:3000
import_and_poll fetchmail 6
grep -q "sslcommonname" "$T/fetchmail-import.out" || t_fail "fetchmail: sslcommonname not named"
grep -q "mda = \"$T/mda.sh $T/Maildir-fetchmail\"" "$T/config-fetchmail" ||
	t_fail "fetchmail: the MDA was not carried over"

# --- mpop: STARTTLS with passwordeval, all 10, then 5 more arrive ---------------------------------
peer_home mpop
fresh_lab 63
cat >"$HOME/.mpoprc" <<EOF
defaults
tls on
keep on

account lab
host 127.0.0.1
port $LAB_PORT_PLAIN
tls_trust_file $LAB_CAFILE
user alice
passwordeval "echo wonderland"
delivery maildir $T/Maildir-mpop
EOF
chmod 0600 "$HOME/.mpoprc"
timeout "$PEER_TIMEOUT" mpop -q lab >"$T/mpop.log" 2>&1 || { cat "$T/mpop.log" >&2; t_fail "mpop failed"; }
more_mail 64
import_and_poll mpop 10
grep -q 'tls = starttls' "$T/config-mpop" || t_fail "mpop: STARTTLS was not carried over"
grep -q 'password_command = "echo wonderland"' "$T/config-mpop" ||
	t_fail "mpop: passwordeval was not carried over as password_command"

# --- getmail: implicit TLS with ca_certs, 4 of 10 ------------------------------------------------
# The first run takes 4 (max_messages_per_session in a copy of the rc: the state file is named
# after server, port and user, so both runs share it); the rc imported has no such limit, which
# would otherwise become popfetch's fetch_limit.
peer_home getmail
fresh_lab 65
as_run_as "$T/Maildir-getmail"
mkdir -p "$HOME/.getmail"
cat >"$HOME/.getmail/getmailrc" <<EOF
[retriever]
type = SimplePOP3SSLRetriever
server = 127.0.0.1
port = $LAB_PORT_TLS
username = alice
password = wonderland
ca_certs = $LAB_CAFILE

[destination]
type = Maildir
path = $T/Maildir-getmail/
${RUN_AS:+user = $RUN_AS}

[options]
delete = false
read_all = false
EOF
{ cat "$HOME/.getmail/getmailrc"; echo "max_messages_per_session = 4"; } >"$HOME/.getmail/first"
timeout "$PEER_TIMEOUT" getmail --getmaildir "$HOME/.getmail" --rcfile first >"$T/getmail.log" 2>&1 ||
	{ cat "$T/getmail.log" >&2; t_fail "getmail failed"; }
more_mail 66
import_and_poll getmail 4

# --- delete mode: never a message the peer had not delivered ----------------------------------
# getmail takes 4 of 10 again (keep mode), the import switches to delete mode (-K), and a poll
# limited to 2 messages (-l 2) may delete only the 4 getmail delivered and the 2 it delivered
# itself: the 4 nobody fetched stay on the server; the next poll fetches them.
fresh_lab 67
# A new mailbox: getmail's oldmail and popfetch's store of the mailbox above must go, or the
# new mailbox's UIDs, equal to the old ones whenever Dovecot gives both the same UIDVALIDITY
# (made in the same second), would count as fetched already.
rm -f "$HOME/.getmail"/oldmail-*
rm -rf "$XDG_STATE_HOME/popfetch"
md=$T/Maildir-delete
mkdir -p "$md/cur" "$md/new" "$md/tmp"
as_run_as "$md"
sed -i "s|^path = .*|path = $md/|" "$HOME/.getmail/getmailrc" "$HOME/.getmail/first"
timeout "$PEER_TIMEOUT" getmail --getmaildir "$HOME/.getmail" --rcfile first >"$T/getmail2.log" 2>&1 ||
	{ cat "$T/getmail2.log" >&2; t_fail "getmail (second mailbox) failed"; }
[ "$(md_count "$md")" = 4 ] || t_fail "getmail delivered $(md_count "$md") of the second mailbox, expected 4"
pf_run delete-import -f "$T/config-delete" --import getmail -K
pf_expect_rc 0 "getmail import in delete mode"
grep -q 'keep = false' "$T/config-delete" || t_fail "-K did not make the account delete"
pf_run delete-poll -f "$T/config-delete" -l 2
pf_expect_rc 0 "a delete-mode poll of 2 messages"
[ "$(md_count "$md")" = 6 ] || t_fail "$(md_count "$md") messages delivered, expected 6"
[ "$(lab_count)" = 4 ] || t_fail "the server holds $(lab_count) messages, expected the 4 nobody delivered"
pf_run delete-rest -f "$T/config-delete"
pf_expect_rc 0 "the next delete-mode poll"
[ "$(lab_count)" = 0 ] || t_fail "the server still holds $(lab_count) messages"
pf_verify "$T/manifest" "$md" --strict-tmp

t_log "PASS: fetchmail, mpop and getmail each handed over; popfetch fetched exactly what they had not"
