#!/usr/bin/env bash
# adopt: popfetch --adopt ACCOUNT against the lab Dovecot, for users whose old fetcher's state
# cannot be carried over. Without a terminal it refuses unless --yes; with --yes it records every
# UID on the server as delivered, downloads and deletes nothing, and says how many; the next poll
# fetches exactly the mail that arrived after. `--import ... --adopt` does the same for an account
# whose UID state is missing, before the account is written.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init adopt

lab_start
lab_mkmail --count 5 --seed 81 --manifest "$T/manifest-old"
pf_config "$T/config" keep=true

# No controlling terminal (setsid): the question cannot be asked, so --yes is needed.
no_tty() {   # NAME ARGS...: pf_run in a new session
	local name=$1
	shift
	PF_OUT=$T/$name.out PF_ERR=$T/$name.err PF_RC=0
	timeout -k 5 "$PF_TIMEOUT" setsid -w "$POPFETCH" "$@" >"$PF_OUT" 2>"$PF_ERR" </dev/null || PF_RC=$?
	t_log "popfetch $* (no terminal) -> exit $PF_RC"
}

no_tty refused -f "$T/config" --adopt lab
pf_expect_rc 5 "--adopt without a terminal and without --yes"
pf_expect_err -- "--yes" "the refusal names --yes"
[ ! -s "$T/state/lab.uids" ] || ! grep -q '^D ' "$T/state/lab.uids" ||
	t_fail "a refused --adopt recorded UIDs"

# On a terminal (script(1) gives it one) the question is asked; no is no.
on_tty() {   # NAME ANSWER ARGS...: popfetch on a pseudo-terminal, ANSWER typed after a second
	local name=$1 answer=$2 cmd
	shift 2
	PF_OUT=$T/$name.out PF_RC=0
	printf -v cmd '%q ' "$POPFETCH" "$@"
	{ sleep 1; echo "$answer"; } | timeout -k 5 "$PF_TIMEOUT" script -qec "$cmd" /dev/null >"$PF_OUT" 2>&1 || PF_RC=$?
	t_log "popfetch $* (terminal, answered $answer) -> exit $PF_RC"
}
if command -v script >/dev/null; then
	on_tty asked-no n -f "$T/config" --adopt lab
	[ "$PF_RC" = 5 ] || { cat "$PF_OUT" >&2; t_fail "answering n: exit $PF_RC, expected 5"; }
	grep -q 'Record every message now on 127.0.0.1 for alice as delivered' "$PF_OUT" ||
		t_fail "--adopt on a terminal did not ask"
	grep -q 'not confirmed: nothing recorded' "$PF_OUT" || t_fail "answering n: no message"
	[ ! -s "$T/state/lab.uids" ] || ! grep -q '^D ' "$T/state/lab.uids" ||
		t_fail "answering n recorded UIDs"
else
	t_log "script(1) is missing: the terminal question is not tested here"
fi

pf_run two -f "$T/config" --adopt lab other
pf_expect_rc 5 "--adopt with two accounts"

no_tty adopt -f "$T/config" --adopt lab --yes
pf_expect_rc 0 "--adopt --yes"
grep -q '^lab: recorded 5 UIDs as delivered (5 messages on the server' "$PF_OUT" ||
	{ cat "$PF_OUT" >&2; t_fail "--adopt did not say it recorded 5 UIDs"; }
[ "$(md_count "$T/Maildir")" = 0 ] || t_fail "--adopt delivered $(md_count "$T/Maildir") messages"
[ "$(lab_count)" = 5 ] || t_fail "--adopt changed the server mailbox ($(lab_count) messages)"
[ "$(grep -c '^D .* - ' "$T/state/lab.uids")" = 5 ] || t_fail "the store does not hold 5 adopted UIDs"

pf_run nothing -f "$T/config"
pf_expect_rc 1 "a poll right after --adopt has nothing new"

lab_mkmail --count 3 --seed 82 --first-seq 6 --manifest "$T/manifest-new"
pf_run after -f "$T/config"
pf_expect_rc 0 "the poll after new mail"
pf_verify "$T/manifest-new" "$T/Maildir" --strict-tmp
[ "$(md_seqs "$T/Maildir" | tr '\n' ' ')" = "6 7 8 " ] ||
	t_fail "the poll after --adopt delivered seqs '$(md_seqs "$T/Maildir" | tr '\n' ' ')', expected 6 7 8"

if command -v script >/dev/null; then
	on_tty again y -f "$T/config" --adopt lab
else
	no_tty again -f "$T/config" --adopt lab --yes
fi
[ "$PF_RC" = 0 ] || { cat "$PF_OUT" >&2; t_fail "--adopt again (answered y): exit $PF_RC"; }
grep -q 'recorded 0 UIDs' "$PF_OUT" || t_fail "a second --adopt recorded UIDs again"

# --- --import --adopt: getmail in keep mode, its oldmail file lost --------------------------------
export HOME=$T/home XDG_STATE_HOME=$T/home/.state
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
path = $T/Maildir-gm/
[options]
delete = false
read_all = false
EOF
pf_run gm -f "$T/config-gm" --import getmail
pf_expect_rc 5 "getmail without its oldmail file"
[ ! -e "$T/config-gm" ] || t_fail "an account without state was written"
pf_run gm-adopt -f "$T/config-gm" --import getmail --adopt
pf_expect_rc 0 "getmail without its oldmail file, with --adopt"
grep -q 'adopted: 8 UIDs on the server recorded as delivered' "$PF_OUT" ||
	{ cat "$PF_OUT" >&2; t_fail "--import --adopt did not record the 8 UIDs"; }
[ "$(stat -c %a "$T/config-gm")" = 600 ] || t_fail "config-gm has mode $(stat -c %a "$T/config-gm")"
lab_mkmail --count 2 --seed 83 --first-seq 9 --manifest "$T/manifest-gm"
pf_run gm-poll -f "$T/config-gm"
pf_expect_rc 0 "the poll after --import --adopt"
pf_verify "$T/manifest-gm" "$T/Maildir-gm" --strict-tmp
[ "$(md_seqs "$T/Maildir-gm" | tr '\n' ' ')" = "9 10 " ] ||
	t_fail "after --import --adopt the poll delivered '$(md_seqs "$T/Maildir-gm" | tr '\n' ' ')', expected 9 10"

t_log "PASS: --adopt records what is there and the next poll fetches only what came after"
