#!/usr/bin/env bash
# mda_programs: `mda` with the real MDAs people use (issue 15 item 1), each filing by Subject:
# maildrop with a rule file, procmail with a recipe (and mda_from_line), and Dovecot's LDA with a
# Sieve script (dovecot-lda with its own -c config in a temp dir). Every message must land exactly
# once, intact, in the folder the rule names, and a second poll must hand nothing over again.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
. "$TESTLIB/mda-lib.sh"
t_init mda_programs

LDA=/usr/lib/dovecot/dovecot-lda
for dep in maildrop maildirmake procmail; do
	command -v "$dep" >/dev/null || t_skip "$dep is not installed (apt-get install maildrop procmail)"
done
[ -x "$LDA" ] || t_skip "dovecot-lda is not installed (apt-get install dovecot-core)"
[ -e /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] || t_skip "dovecot-sieve is not installed"

WORD=mail       # in 7 of the 40 Subjects of seed 15 ("mail", "maildir"); the rules file those in "Retry"
lab_start
lab_mkmail --count 40 --seed 15 --manifest "$T/manifest"
mda_split_manifest "$T/manifest" "$WORD" "$T/manifest.retry" "$T/manifest.inbox"

# poll NAME MDA [key=value ...]: a keep-mode account (its own state) delivering through MDA, twice.
poll() {
	local name=$1 mda=$2
	shift 2
	pf_config "$T/$name.conf" keep=true maildir=- mda="$mda" state_dir="$T/$name.state" "$@"
	pf_run "$name" -f "$T/$name.conf"
	pf_expect_rc 0 "$name: first poll"
	pf_run "$name-again" -f "$T/$name.conf"
	pf_expect_rc 1 "$name: second poll (nothing new)"
}

verify_filed() {   # INBOX FOLDER: each message once, intact, where the rule put it
	pf_verify "$T/manifest.inbox" "$1"
	pf_verify "$T/manifest.retry" "$2"
}

# maildrop: a rule file; maildrop does not create Maildirs.
maildirmake "$T/maildrop"
maildirmake -f Retry "$T/maildrop"
cat >"$T/mailfilter" <<RULES
DEFAULT="$T/maildrop/"
if (/^Subject:.*$WORD/)
{
	to "$T/maildrop/.Retry/"
}
RULES
chmod 600 "$T/mailfilter"
poll maildrop "maildrop $T/mailfilter"
verify_filed "$T/maildrop" "$T/maildrop/.Retry"

# procmail: a recipe, and the mbox From line procmail is used to (mda_from_line).
cat >"$T/procmailrc" <<RULES
MAILDIR=$T/procmail/
DEFAULT=$T/procmail/
LOGFILE=$T/procmail.log
:0
* ^Subject:.*$WORD
.Retry/
RULES
chmod 600 "$T/procmailrc"
poll procmail "procmail -m $T/procmailrc" mda_from_line=true
verify_filed "$T/procmail" "$T/procmail/.Retry"

# Dovecot's LDA with Sieve, configured in a temp dir. Dovecot never delivers as root: when the
# test runs as root the LDA runs as the lab's unprivileged user (how a system delivers for a user).
mkdir -p "$T/lda/home"
cat >"$T/lda/dovecot.conf" <<CONF
base_dir = $T/lda/run
state_dir = $T/lda/state
log_path = $T/lda/lda.log
protocols =
mail_location = maildir:$T/lda/mail:INDEX=$T/lda/index
postmaster_address = postmaster@localhost
protocol lda {
  mail_plugins = sieve
}
plugin {
  sieve = file:$T/lda/sieve;active=$T/lda/active.sieve
}
CONF
cat >"$T/lda/active.sieve" <<SIEVE
require ["fileinto", "mailbox"];
if header :contains "subject" "$WORD" {
  fileinto :create "Retry";
}
SIEVE
as_user=""
if [ "$(id -u)" = 0 ]; then
	u=${LAB_RUN_AS:-popfetchlab}
	chown -R "$u:$(id -gn "$u")" "$T/lda"
	as_user="setpriv --reuid=$u --regid=$(id -g "$u") --clear-groups "
fi
poll lda "${as_user}env HOME=$T/lda/home $LDA -c $T/lda/dovecot.conf -e -f \"\$POPFETCH_SENDER\""
verify_filed "$T/lda/mail" "$T/lda/mail/.Retry"
grep -q "stored mail into mailbox 'Retry'" "$T/lda/lda.log" ||
	t_fail "the LDA log does not show the Sieve fileinto"
t_log "PASS"
