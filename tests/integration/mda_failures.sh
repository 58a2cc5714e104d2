#!/usr/bin/env bash
# mda_failures: what an MDA's refusal does (issue 15 item 1). Chosen messages are refused with
# exit 75 (EX_TEMPFAIL) and exit 1: they stay on the server, each is reported with its exit status
# (and the first stderr line), the rest are delivered and deleted, and the poll exits 10; the next
# poll delivers them exactly once. The MDA's environment, argv, stdin and descriptors never hold
# the password (popfetch itself runs with it in a variable of its environment) nor anything of
# popfetch's. A stuck MDA is killed with its process group at mda_timeout and the message stays.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
. "$TESTLIB/mda-lib.sh"
t_init mda_failures

lab_start
lab_mkmail --count 20 --seed 16 --manifest "$T/manifest"
maildir_new() { mkdir -p "$1/tmp" "$1/new" "$1/cur"; }
maildir_new "$T/md"
mkdir -p "$T/dump"
STORE="$TESTLIB/mda-store"

# 1. Seq 3 and 12 deferred (75), seq 7 refused (1); the password sits in popfetch's environment.
pf_config "$T/config" keep=false maildir=- \
	mda="MDA_FAIL='3:75 7:1 12:75' MDA_DUMP=$T/dump $STORE $T/md"
MY_SECRET=$LAB_PASS pf_run refusals -f "$T/config"
pf_expect_rc 10 "a poll in which the MDA refused three messages"
pf_expect_err "message [^ ]+ not delivered \(exit status 75: mda-store: refusing seq 3 with 75\), a temporary failure" "exit 75 reported"
pf_expect_err "not delivered \(exit status 1: mda-store: refusing seq 7 with 1\)" \
	"exit 1 reported with the MDA's first stderr line"
[ "$(grep -c 'not delivered' "$PF_ERR")" -ge 3 ] || t_fail "not every refusal was reported"
[ "$(lab_count)" = 3 ] || t_fail "the server keeps $(lab_count) messages, expected the 3 refused"
[ "$(md_seqs "$T/md" | tr '\n' ' ')" = "$(seq 1 20 | grep -vxE '3|7|12' | tr '\n' ' ')" ] ||
	t_fail "delivered: $(md_seqs "$T/md" | tr '\n' ' '), expected all but 3, 7 and 12"
mda_check_dump "$T/dump" "$LAB_PASS"
grep -q "^POPFETCH_ACCOUNT=lab$" "$T/dump"/*.env || t_fail "POPFETCH_ACCOUNT is not the account"
grep -qE "^POPFETCH_UID=[0-9A-Fa-f]{16}$" "$T/dump"/*.env || t_fail "POPFETCH_UID is not the server's UID"
for f in "$T/dump"/*.stdin; do      # POPFETCH_SIZE: the bytes the MDA got on stdin
	size=$(sed -n 's/^POPFETCH_SIZE=//p' "${f%.stdin}.env")
	[ "$size" = "$(wc -c <"$f")" ] || t_fail "POPFETCH_SIZE=$size, but stdin had $(wc -c <"$f") bytes"
done

# 2. The MDA takes everything now: the three arrive once, the server is empty.
pf_config "$T/config" keep=false maildir=- mda="$STORE $T/md"
pf_run second -f "$T/config"
pf_expect_rc 0 "the poll after the refusals"
pf_verify "$T/manifest" "$T/md" --strict-tmp
[ "$(lab_count)" = 0 ] || t_fail "the server still has $(lab_count) messages"
pf_run third -f "$T/config"
pf_expect_rc 1 "a third poll (nothing new)"

# 3. A stuck MDA: killed with its whole process group at mda_timeout, the message stays.
lab_mkmail --count 2 --seed 17 --first-seq 21 --append --manifest "$T/manifest"
marker=$((RANDOM % 50 + 40)).77          # a sleep no other test runs
pf_config "$T/config" keep=false maildir=- mda_timeout=2 mda="sleep $marker & sleep $marker; $STORE $T/md"
pf_run stuck -f "$T/config"
pf_expect_rc 10 "a poll whose MDA never ends"
pf_expect_err "killed after the 2 s deadline" "the deadline reported"
[ "$PF_SECS" -le 10 ] || t_fail "two stuck MDAs held the poll for $PF_SECS s (deadline 2 s each)"
sleep 0.2
! pgrep -f "sleep $marker" >/dev/null || t_fail "the MDA's children outlived the deadline"
[ "$(lab_count)" = 2 ] || t_fail "the server keeps $(lab_count) messages, expected 2"
pf_config "$T/config" keep=false maildir=- mda="$STORE $T/md"
pf_run after-stuck -f "$T/config"
pf_expect_rc 0 "the poll after the stuck MDA"
pf_verify "$T/manifest" "$T/md" --strict-tmp
t_log "PASS"
