#!/usr/bin/env bash
# store_binding: the uid store belongs to one server and one user (issue 12 item 4, DESIGN.md
# section 2). A store recorded for another host or user is never used to skip or delete anything:
# the poll stops (exit 5) naming both and the two ways on, and in delete mode NOTHING is deleted on
# the new server - even though its UIDs are exactly the ones the store holds as delivered (the
# dangerous case: a store keyed by the account name alone DELEs them unfetched). The port is no
# part of the binding; a store without binding (written before it existed) is bound on its next
# poll; --rebind-state keeps the store for the same mailbox under a new name, --fresh-state moves
# it aside for another mailbox. Two real Dovecots: lab A (as 127.0.0.1, users alice and bob) and
# lab B (as localhost), whose mailboxes are copies of alice's, UIDs included.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init store_binding

N=4
lab_start
lab_mkmail --count $N --seed 14 --manifest "$T/manifest"
store=$T/state/lab.uids
# bob logs in later; Dovecot re-reads its passwd-file at most once a second, so he is added now.
printf 'bob:{PLAIN}wonderland\n' >>"$LAB_LAB_DIR/users"

count_in() { md_count "$1"; }   # MAILDIR on a server

# --- the first poll, keep mode: the store records 127.0.0.1 and alice
pf_config "$T/config" keep=true
pf_run first -f "$T/config"
pf_expect_rc 0 "first poll"
pf_verify "$T/manifest" "$T/Maildir"
grep -qx 'H 127.0.0.1 alice' "$store" || t_fail "the store does not record 127.0.0.1 alice: $(head -n 3 "$store")"

# --- unchanged: the same server over STARTTLS on its other port keeps its UIDs
pf_config "$T/config" keep=true tls=starttls port="$LAB_PORT_PLAIN"
pf_run starttls -f "$T/config"
pf_expect_rc 1 "the same server on another port"
[ "$(md_count "$T/Maildir")" = $N ] || t_fail "another port downloaded again: $(md_count "$T/Maildir")"

# --- a store written before the binding (no H record) is bound on its next poll, nothing refetched
sed -i '/^H /d' "$store"
pf_run unbound -f "$T/config"
pf_expect_rc 1 "a store without binding"
[ "$(md_count "$T/Maildir")" = $N ] || t_fail "an unbound store downloaded again"
grep -qx 'H 127.0.0.1 alice' "$store" || t_fail "the unbound store was not bound: $(cat "$store")"

# --- lab B: a second Dovecot serving a copy of alice's mailbox, UIDs included, reached as localhost
B=$T/labb
for try in 1 2 3 4 5; do
	rc=0 pt=$(t_free_port) pp=$(t_free_port)
	[ "$pt" != "$pp" ] || continue
	PORT_TLS=$pt PORT_PLAIN=$pp "$TESTLIB/lab-dovecot" start "$B" >"$T/labb-start.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] && break
	"$TESTLIB/lab-dovecot" stop "$B" >/dev/null 2>&1 || true
done
[ "$rc" = 0 ] || { cat "$T/labb-start.log" >&2; t_fail "lab B did not start"; }
T_LABS+=("$B")
eval "$("$TESTLIB/lab-dovecot" env "$B" --prefix B_)"
for sub in mail index control; do
	cp -a "$LAB_LAB_DIR/$sub/alice/." "$B/$sub/alice/"
done
[ "$(count_in "$B_MAILDIR")" = $N ] || t_fail "lab B does not hold the copy"

# --- moved to another host, delete mode: stop before the listing, delete nothing
cp "$store" "$T/store.before"
pf_config "$T/config" keep=false host=localhost port="$B_PORT_TLS" tls_ca_file="$B_CAFILE"
pf_run moved -f "$T/config"
pf_expect_rc 5 "a store bound to another host"
pf_expect_err 'alice at 127\.0\.0\.1.*alice at localhost' moved
pf_expect_err 'popfetch --rebind-state lab.*popfetch --fresh-state lab' moved
pf_expect_err 'nothing was fetched or deleted' moved
[ "$(count_in "$B_MAILDIR")" = $N ] || t_fail "moved: the new server lost $((N - $(count_in "$B_MAILDIR"))) messages"
[ "$(md_count "$T/Maildir")" = $N ] || t_fail "moved: something was delivered"
cmp -s "$store" "$T/store.before" || t_fail "moved: the foreign store was changed"
pf_run moved-check -c -f "$T/config"
pf_expect_rc 5 "--check with a store bound to another host"

# --- way on 1: the same mailbox under a new name keeps its store; nothing is fetched twice
pf_run rebind -f "$T/config" --rebind-state lab
pf_expect_rc 0 "--rebind-state"
grep -q 'now belongs to alice at localhost' "$PF_OUT" || t_fail "rebind: unexpected output: $(cat "$PF_OUT")"
[ "$(grep '^H ' "$store" | tail -n 1)" = 'H localhost alice' ] || t_fail "rebind: the store does not record localhost"
pf_run rebound -f "$T/config"
pf_expect_rc 1 "a poll after --rebind-state: nothing new"
pf_verify "$T/manifest" "$T/Maildir"
[ "$(count_in "$B_MAILDIR")" = 0 ] || t_fail "rebound: delete mode left $(count_in "$B_MAILDIR") delivered messages"
pf_run rebind-again -f "$T/config" --rebind-state lab
pf_expect_rc 0 "--rebind-state a second time"
grep -q 'already belongs to alice at localhost' "$PF_OUT" || t_fail "rebind-again: $(cat "$PF_OUT")"

# --- another user (bob on lab A, whose mailbox is also a copy of alice's): stop, delete nothing
for sub in mail index control home; do
	cp -a "$LAB_LAB_DIR/$sub/alice" "$LAB_LAB_DIR/$sub/bob"
done
cp "$store" "$T/store.before"
pf_config "$T/config" keep=false host=localhost user=bob maildir="$T/bob.Maildir"
pf_run user -f "$T/config"
pf_expect_rc 5 "a store bound to another user"
pf_expect_err 'alice at localhost.*bob at localhost' user
[ "$(count_in "$LAB_LAB_DIR/mail/bob")" = $N ] || t_fail "user: bob's server mailbox lost messages"
[ "$(md_count "$T/bob.Maildir")" = 0 ] || t_fail "user: something was delivered"
cmp -s "$store" "$T/store.before" || t_fail "user: the foreign store was changed"

# --- way on 2: another mailbox starts a fresh store; the old one is kept beside it
pf_run fresh -f "$T/config" --fresh-state lab
pf_expect_rc 0 "--fresh-state"
aside=$T/state/lab.uids.localhost.old
grep -qF "kept as $aside" "$PF_OUT" || t_fail "fresh: unexpected output: $(cat "$PF_OUT")"
cmp -s "$aside" "$T/store.before" || t_fail "fresh: the old store was not kept as $aside"
[ ! -e "$store" ] || t_fail "fresh: the old store is still in place"
pf_run fresh-poll -f "$T/config"
pf_expect_rc 0 "the first poll of a fresh store"
pf_verify "$T/manifest" "$T/bob.Maildir"
[ "$(count_in "$LAB_LAB_DIR/mail/bob")" = 0 ] || t_fail "fresh-poll: bob's messages were not deleted"
grep -qx 'H localhost bob' "$store" || t_fail "fresh-poll: the new store is not bound to bob"
cmp -s "$aside" "$T/store.before" || t_fail "fresh-poll: the kept store changed"
[ "$(count_in "$LAB_MAILDIR")" = $N ] || t_fail "alice's mailbox was touched"

# --- no store at all: both ways on say so and succeed
pf_config "$T/none.conf" state_dir="$T/none.state"
pf_run none -f "$T/none.conf" --fresh-state lab
pf_expect_rc 0 "--fresh-state without a store"
grep -q 'no uid store yet' "$PF_OUT" || t_fail "none: $(cat "$PF_OUT")"
t_log "PASS"
