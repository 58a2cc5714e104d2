#!/usr/bin/env bash
# mbox: delivery into an mbox (issue 15 item 2) against the real Dovecot. Every message is read
# back, message for message and byte for byte, by three real readers (Python's mailbox, formail -s,
# mutt), which must agree with each other and with the originals; a message with ^>*From lines
# survives the mboxrd quoting; the From_ line names the Return-Path sender. An mbox locked by
# another program (an fcntl lock plus its dot lock, then a dot lock alone) makes popfetch wait
# mbox_lock_timeout, then fail with exit 10 and delete nothing (so does a dot lock made by
# procmail's lockfile); a stale dot lock is removed. In a spool folder the user may not create
# files in, the fcntl lock alone guards the append.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init mbox
for dep in formail lockfile mutt script; do
	command -v "$dep" >/dev/null || t_skip "$dep is not installed (apt-get install procmail mutt bsdutils)"
done

lab_start
lab_mkmail --count 150 --seed 11 --manifest "$T/manifest"

# One more message with every kind of line mboxrd quotes, and a Return-Path for the From_ line.
python3 - "$LAB_MAILDIR" "$T/manifest" 151 <<'PY'
import hashlib, json, sys
md, manifest, seq = sys.argv[1], sys.argv[2], int(sys.argv[3])
msg = (f"Return-Path: <sender@example.org>\nFrom: sender@example.org\nTo: alice@example.org\n"
       f"Subject: quoting\nMessage-ID: <quoting.{seq}@mkmail.popfetch.test>\nX-Bench-Seq: {seq}\n\n"
       "From the start\n>From once\n>>From twice\n>>>\nFrom\nFrom \n >From not quoted\n"
       ">Fro\nlast line\n").encode()
lines = msg.count(b"\n")
name = f"1764000999.M{seq:06d}P99.mkmail,S={len(msg)},W={len(msg) + lines}"
with open(f"{md}/new/{name}", "wb") as f:
    f.write(msg)
with open(manifest, "a") as f:
    f.write(json.dumps({"seq": seq, "sha256": hashlib.sha256(msg).hexdigest(), "size": len(msg),
                        "name": name, "message_id": f"<quoting.{seq}@mkmail.popfetch.test>",
                        "eol": True}) + "\n")
PY

MBOX=$T/mail/inbox
# read_back TAG [MANIFEST]: every reader splits the mbox; each result is checked against the
# manifest, and all three must be identical.
read_back() {
	local r n manifest=${2:-$T/manifest}
	for r in python formail mutt; do
		rm -rf "$T/$1-$r" "$T/$1-$r.work"
		n=$("$TESTLIB/mbox-split" --reader "$r" "$MBOX" "$T/$1-$r") ||
			t_fail "$1: $r could not read $MBOX"
		t_log "$1: $r read $n messages"
		pf_verify "$manifest" "$T/$1-$r"
	done
	diff -r "$T/$1-python/new" "$T/$1-formail/new" >/dev/null ||
		t_fail "$1: formail and Python's mailbox read different messages"
	diff -r "$T/$1-python/new" "$T/$1-mutt/new" >/dev/null ||
		t_fail "$1: mutt and Python's mailbox read different messages"
}

pf_config "$T/config" keep=false maildir=- mbox="$MBOX"
pf_run first -f "$T/config"
pf_expect_rc 0 "first poll into an mbox"
[ "$(lab_count)" = 0 ] || t_fail "delete mode left $(lab_count) messages on the server"
[ ! -e "$MBOX.lock" ] || t_fail "the dot lock $MBOX.lock was left behind"
[ "$(stat -c %a "$MBOX")" = 600 ] || t_fail "the new mbox has mode $(stat -c %a "$MBOX"), not 600"
read_back first
grep -q '^From sender@example.org ' "$MBOX" || t_fail "no From_ line names the Return-Path sender"
grep -q '^>>>From twice$' "$MBOX" || t_fail "'>>From twice' was not quoted to '>>>From twice'"
[ "$(grep -c '^From MAILER-DAEMON ' "$MBOX")" = 150 ] ||
	t_fail "messages without Return-Path: $(grep -c '^From MAILER-DAEMON ' "$MBOX") From_ lines with MAILER-DAEMON, expected 150"
before=$(sha256sum <"$MBOX")

pf_run second -f "$T/config"
pf_expect_rc 1 "second poll (server empty)"
[ "$(sha256sum <"$MBOX")" = "$before" ] || t_fail "a poll without new mail changed the mbox"

# --- locked by another program -----------------------------------------------------------
lab_mkmail --count 5 --seed 12 --first-seq 152 --append --manifest "$T/manifest"
pf_config "$T/locked.conf" keep=false maildir=- mbox="$MBOX" mbox_lock_timeout=2

# A holder as a mail reader locks: the dot lock with its pid, then a POSIX fcntl lock.
cat >"$T/holder.py" <<'PY'
import fcntl, os, sys, time
path, ready = sys.argv[1], sys.argv[2]
with open(path + ".lock", "w") as f:
    f.write("%d\n" % os.getpid())
fd = os.open(path, os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(ready, "w").write("ok")
time.sleep(120)
PY
t_bg python3 "$T/holder.py" "$MBOX" "$T/holder.ready"
holder=$T_BG_PID
t_wait_file "$T/holder.ready"
pf_run locked -f "$T/locked.conf"
pf_expect_rc 10 "poll while another program holds the mbox locks"
pf_expect_err "locked by another program" "locked mbox"
[ "$PF_MS" -ge 2000 ] || t_fail "popfetch gave up after $PF_MS ms, before mbox_lock_timeout (2 s)"
[ "$(lab_count)" = 5 ] || t_fail "a failed append deleted messages: $(lab_count) of 5 left"
[ "$(sha256sum <"$MBOX")" = "$before" ] || t_fail "the locked mbox was changed"
kill "$holder"
wait "$holder" 2>/dev/null || true

# The holder died: its dot lock names a dead pid. A fresh dot lock made by procmail's
# lockfile(1) (it holds no pid) still blocks, and so does a live process's dot lock alone.
rm -f "$MBOX.lock"
lockfile -r0 "$MBOX.lock" || t_fail "lockfile(1) could not take $MBOX.lock"
pf_run lockfile -f "$T/locked.conf"
pf_expect_rc 10 "poll while lockfile(1) holds the dot lock"
[ "$(lab_count)" = 5 ] || t_fail "a failed append deleted messages: $(lab_count) of 5 left"
rm -f "$MBOX.lock"
sleep 120 &
sleeper=$!
T_PIDS+=("$sleeper")
echo "$sleeper" >"$MBOX.lock"
pf_run dotlock -f "$T/locked.conf"
pf_expect_rc 10 "poll while a live process holds the dot lock"
pf_expect_err "$MBOX.lock" "dot lock named"
[ "$(lab_count)" = 5 ] || t_fail "a failed append deleted messages: $(lab_count) of 5 left"
[ "$(sha256sum <"$MBOX")" = "$before" ] || t_fail "the dot-locked mbox was changed"
kill "$sleeper"
wait "$sleeper" 2>/dev/null || true

# Now the dot lock is stale (its pid is gone): removed, and the poll delivers.
pf_run stale -f "$T/locked.conf"
pf_expect_rc 0 "poll after the holder died (stale dot lock)"
pf_expect_err "stale mbox lock" "stale dot lock"
[ "$(lab_count)" = 0 ] || t_fail "$(lab_count) messages left on the server"
[ ! -e "$MBOX.lock" ] || t_fail "the stale dot lock is still there"
read_back after-lock

# --- a mail spool popfetch may not create files in (/var/mail belongs to root or group mail) ----
# As the lab's unprivileged user: no dot lock can be made there, so the fcntl lock alone guards
# the append; it still makes popfetch wait for a holder, then deliver once the holder is gone.
U=${LAB_RUN_AS:-popfetchlab}
mkdir -m 0755 "$T/spool" "$T/user.state"
MBOX=$T/spool/$U
install -m 0600 -o "$U" /dev/null "$MBOX"
chown "$U:" "$T/user.state"
lab_mkmail --count 4 --seed 13 --first-seq 200 --manifest "$T/manifest-spool"
pf_config "$T/user.conf" keep=false maildir=- mbox="$MBOX" state_dir="$T/user.state" mbox_lock_timeout=2
chown "$U:" "$T/user.conf"
rm -f "$T/holder.ready"
t_bg python3 "$T/holder.py" "$MBOX" "$T/holder.ready"
holder=$T_BG_PID
t_wait_file "$T/holder.ready"
rm -f "$MBOX.lock"    # the holder could make one as root; the spool's own users cannot
PF_AS_USER=$U pf_run spool-locked -f "$T/user.conf"
pf_expect_rc 10 "poll into a spool without dot locks while another program holds the fcntl lock"
pf_expect_err "fcntl lock" "fcntl lock named"
[ "$(lab_count)" = 4 ] || t_fail "a failed append deleted messages: $(lab_count) of 4 left"
[ ! -s "$MBOX" ] || t_fail "the fcntl-locked mbox was changed"
kill "$holder"
wait "$holder" 2>/dev/null || true
PF_AS_USER=$U pf_run spool -f "$T/user.conf"
pf_expect_rc 0 "poll into a spool without dot locks"
[ "$(lab_count)" = 0 ] || t_fail "$(lab_count) messages left on the server"
[ ! -e "$MBOX.lock" ] || t_fail "a dot lock appeared where the user cannot create files"
read_back spool "$T/manifest-spool"
t_log "PASS"
