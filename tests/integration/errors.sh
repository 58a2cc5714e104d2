#!/usr/bin/env bash
# errors: every failure gives its exit code (DESIGN.md section 6), an error on stderr that names the
# problem, and loses nothing: all cases run in delete mode against a lab mailbox of N messages, and
# after each one the server still holds all N.
. "${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}/common.sh"
t_init errors

N=8
SERVER="$TESTLIB/pop3-script-server"
lab_start
lab_mkmail --count $N --seed 3 --manifest "$T/manifest"

conf() {   # NAME [key=value ...]: $T/NAME.conf in delete mode, with its own state and Maildir
	local name=$1
	shift
	pf_config "$T/$name.conf" keep=false state_dir="$T/$name.state" maildir="$T/$name.Maildir" "$@"
}

expect() {   # NAME RC REGEX: run $T/NAME.conf, check the exit code, the message, that nothing was lost
	pf_run "$1" -f "$T/$1.conf"
	expect_after_run "$@"
}

expect_after_run() {   # NAME RC REGEX: expect's checks, of the run that just ended
	local name=$1 rc=$2 re=$3 pw
	pf_expect_rc "$rc" "$name"
	pf_expect_err "$re" "$name"
	t_log "  stderr: $(head -n 3 "$PF_ERR" | tr '\n' '|')"
	[ "$(wc -l <"$PF_ERR")" -le 3 ] || t_fail "$name: expected a short error, got $(wc -l <"$PF_ERR") lines"
	pw=$(sed -n 's/^ *password = "\(.*\)"$/\1/p' "$T/$name.conf")
	[ -z "$pw" ] || t_no_secret "$name: the output" "$pw" "$PF_ERR" "$PF_OUT"
	[ "$(lab_count)" = $N ] || t_fail "$name: the server has $(lab_count) messages left, expected $N"
	[ "$(md_count "$T/$name.Maildir")" = 0 ] || t_fail "$name: messages were delivered despite the failure"
}

script_server() {   # NAME SCRIPT-TEXT [options]: starts pop3-script-server, sets SRV_PORT
	local name=$1 text=$2
	shift 2
	printf '%s\n' "$text" >"$T/$name.script"
	t_bg "$SERVER" --script "$T/$name.script" --ready-file "$T/$name.port" --log "$T/$name.log" \
		--max-seconds 60 "$@" 2>"$T/$name.stderr"
	t_wait_file "$T/$name.port"
	SRV_PORT=$(cat "$T/$name.port")
}

# --- authentication
conf badpass password=not-the-password
expect badpass 3 '[Aa]uth|[Pp]assword|[Ll]ogin'

# --- network
conf nohost host=nonexistent.invalid
expect nohost 2 'nonexistent\.invalid'

conf refused port="$(t_free_port)"
expect refused 2 '[Rr]efused|[Cc]onnect'

# A server that accepts and never says a word (plain: the greeting is what stalls, not TLS).
script_server stall1 'STALL'
conf stall1 tls=none port="$SRV_PORT" timeout=2
expect stall1 2 '[Tt]ime|[Dd]eadline|[Ss]tall|respond'
[ "$PF_SECS" -lt 20 ] || t_fail "stalled greeting: popfetch took $PF_SECS s with timeout = 2"

# A server that greets over TLS and then stops answering: CAPA (or USER) never gets a reply.
script_server stall2 $'S: +OK script server ready\nSTALL' --tls \
	--cert "$LAB_LAB_DIR/certs/server.pem" --key "$LAB_LAB_DIR/certs/server.key"
conf stall2 port="$SRV_PORT" timeout=2
expect stall2 2 '[Tt]ime|[Dd]eadline|[Ss]tall|respond'
[ "$PF_SECS" -lt 20 ] || t_fail "stalled session: popfetch took $PF_SECS s with timeout = 2"

# --- TLS
t_make_ca "$T/otherca"
conf unknownca tls_ca_file="$T/otherca/ca.pem"
expect unknownca 11 '[Cc]ertif|[Vv]erif|TLS'

t_make_cert "$T/otherca" "$T/otherhost" "DNS:otherhost.example"
# Were the handshake accepted, the server plays along up to the password (USER, PASS or AUTH
# PLAIN, all logged), so the credentials check below is checked first and can see them.
script_server wronghost $'S: +OK must not get here\nC: CAPA\nS: +OK\nS: USER\nS: SASL PLAIN\nS: .
C~ ^(USER|AUTH|APOP) \nS: +OK\nC~ .\nS: +OK\nC~ .\nS: -ERR the test stops here' --tls --once \
	--cert "$T/otherhost.pem" --key "$T/otherhost.key"
conf wronghost port="$SRV_PORT" tls_ca_file="$T/otherca/ca.pem"
pf_run wronghost -f "$T/wronghost.conf"
! grep -Eq '^C: (USER|PASS|AUTH|APOP)' "$T/wronghost.log" ||
	t_fail "wronghost: credentials were sent to an unverified server: $(grep -E '^C: ' "$T/wronghost.log" | tr '\n' '|')"
expect_after_run wronghost 11 '[Cc]ertif|[Vv]erif|TLS|[Hh]ost|name'

# starttls against a server that does not offer STLS: refuse, and no credentials in the clear.
script_server nostls $'S: +OK plain server\nC: CAPA\nS: +OK\nS: USER\nS: .\nC~ .\nCLOSE' --once
conf nostls tls=starttls port="$SRV_PORT"
pf_run nostls -f "$T/nostls.conf"
case $PF_RC in 4|11) ;; *) t_fail "nostls: popfetch exited $PF_RC, expected 4 or 11";; esac
pf_expect_err 'STLS|STARTTLS|TLS' nostls
! grep -Eq '^C: (USER|PASS|AUTH)' "$T/nostls.log" || t_fail "nostls: credentials were sent without TLS"

# --- local delivery: nothing may be deleted on the server
echo "not a directory" >"$T/file-in-the-way"
conf notadir maildir="$T/file-in-the-way"
expect notadir 10 'file-in-the-way'

# As an unprivileged user, a Maildir it cannot write (root ignores file modes, so drop to the
# lab's user). Its config and state are its own; the Maildir belongs to root.
U=${LAB_RUN_AS:-popfetchlab}
mkdir -p "$T/ro/Maildir/cur" "$T/ro/Maildir/new" "$T/ro/Maildir/tmp" "$T/user.state"
chmod -R 0755 "$T/ro"
conf user state_dir="$T/user.state" maildir="$T/ro/Maildir"
chown "$U:" "$T/user.conf" "$T/user.state"
mkdir -p "$T/user.Maildir"         # expect() counts it: stays empty
PF_AS_USER=$U expect user 10 'ro/Maildir|[Pp]ermission'
[ "$(md_count "$T/ro/Maildir")" = 0 ] || t_fail "user: messages appeared in the unwritable Maildir"

# --- configuration
conf typo host=- hots=127.0.0.1
line=$(grep -n 'hots' "$T/typo.conf" | cut -d: -f1)
expect typo 5 "typo\\.conf:$line\\b.*hots|hots.*typo\\.conf:$line\\b"

conf perms
chmod 0644 "$T/perms.conf"
expect perms 6 'perms\.conf'

# --- a second popfetch while the account's lock is held
conf locked
mkdir -p "$T/locked.state"
chmod 0700 "$T/locked.state"
# shellcheck disable=SC2016
t_bg bash -c 'exec 9>"$1/lab.lock" && flock -x 9 && echo held >"$2" && exec sleep 60' _ \
	"$T/locked.state" "$T/lock-held"
lock_pid=$T_BG_PID
t_wait_file "$T/lock-held"
expect locked 8 '[Ll]ock'
kill "$lock_pid"
wait "$lock_pid" 2>/dev/null || true
pf_run unlocked -f "$T/locked.conf"
pf_expect_rc 0 "after the lock was released"
pf_verify "$T/manifest" "$T/locked.Maildir" --strict-tmp
[ "$(lab_count)" = 0 ] || t_fail "after the lock was released: $(lab_count) messages left on the server"
t_log "PASS"
