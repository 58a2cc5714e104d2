# common.sh - shared by tests/integration/*.sh (sourced, not run).
#
# A test calls t_init NAME first: it gets a private directory $T under /tmp (traversable by the
# lab's unprivileged Dovecot user), and an EXIT trap that stops every server it started and removes
# $T (kept on failure, or always with POPFETCH_TEST_KEEP=1). Then typically:
#   lab_start                      Dovecot on two free loopback ports: LAB_PORT_TLS, LAB_PORT_PLAIN,
#                                  LAB_CAFILE, LAB_MAILDIR (the server mailbox), LAB_LOG, ...
#   lab_mkmail --count 20 --seed 1 --manifest "$T/manifest"
#   pf_config "$T/config" keep=false maildir="$T/Maildir"    (account "lab", mode 0600)
#   pf_run first -f "$T/config"; pf_expect_rc 0 "first run"
#   pf_verify "$T/manifest" "$T/Maildir"
# Environment: POPFETCH (the binary; make check exports it), TESTLIB (this directory),
# POPFETCH_REQUIRE_INTEGRATION=1 turns a skip (no Dovecot) into a failure (contrib/check.sh),
# PF_TIMEOUT (seconds per popfetch run, default 120).
set -euo pipefail
export LC_ALL=C

TESTLIB=${TESTLIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)}
POPFETCH=${POPFETCH:-$TESTLIB/../../src/popfetch}
PF_TIMEOUT=${PF_TIMEOUT:-120}
PATH=$PATH:/usr/sbin:/sbin          # dovecot, runuser, useradd
# A sanitizer report exits PF_SAN_EXIT (the caller's options kept): pf_run fails on it, and
# t_cleanup fails a test whose files hold a report (popfetch's stderr kept in $T by the test).
. "$TESTLIB/sanitizer-env.sh"
T_NAME=test T='' T_PIDS=() T_LABS=() PF_RC=0 PF_ERR='' PF_OUT='' PF_SECS=0 PF_MS=0

t_log() { printf '[%s %s] %s\n' "$T_NAME" "$(date +%T)" "$*"; }

t_fail() {   # message: prints what helps to debug, then exits 1 (the EXIT trap cleans up)
	printf '[%s] FAIL: %s\n' "$T_NAME" "$*" >&2
	if [ -n "$PF_ERR" ] && [ -f "$PF_ERR" ]; then
		echo "--- last popfetch stderr ($PF_ERR, exit $PF_RC):" >&2
		tail -n 40 "$PF_ERR" >&2
	fi
	if [ -n "${LAB_LOG:-}" ] && [ -f "$LAB_LOG" ]; then
		echo "--- Dovecot log tail ($LAB_LOG):" >&2
		tail -n 20 "$LAB_LOG" >&2
	fi
	exit 1
}

t_skip() {
	if [ "${POPFETCH_REQUIRE_INTEGRATION:-0}" = 1 ]; then
		t_fail "cannot run ($*), and POPFETCH_REQUIRE_INTEGRATION=1 forbids skipping"
	fi
	echo "[$T_NAME] SKIP: $*"
	exit 77
}

t_cleanup() {
	local rc=$? pid lab live=() running
	trap - EXIT
	# Only our own background jobs that still run: a recorded pid that has exited may be reused.
	running=" $(jobs -pr | tr '\n' ' ') "
	for pid in "${T_PIDS[@]}"; do
		case $running in *" $pid "*) live+=("$pid");; esac
	done
	for pid in "${live[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${live[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for lab in "${T_LABS[@]}"; do
		"$TESTLIB/lab-dovecot" stop "$lab" >/dev/null 2>&1 || echo "[$T_NAME] could not stop the lab in $lab" >&2
	done
	if [ -n "$T" ] && [ -d "$T" ]; then
		t_san_scan || rc=1
		if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
			if [ "${POPFETCH_TEST_KEEP:-0}" = 1 ]; then echo "[$T_NAME] kept $T"; else rm -rf "$T"; fi
		else
			echo "[$T_NAME] work directory kept for debugging: $T" >&2
		fi
	fi
	exit "$rc"
}

t_san_scan() {   # 1, with the lines, when a file under $T holds a sanitizer report
	local hits
	# -D skip: never read from the sockets and FIFOs of the servers; -I: not the binaries.
	hits=$(grep -rIE -D skip -m 3 -- "$PF_SAN_REPORT_RE" "$T" 2>/dev/null | head -n 20) || true
	[ -n "$hits" ] || return 0
	printf '[%s] FAIL: a sanitizer report in the files of this test:\n%s\n' "$T_NAME" "$hits" >&2
	return 1
}

t_no_secret() {   # CONTEXT SECRET FILE...: SECRET is in no FILE, neither plain nor base64-encoded
	# A login sends the password base64-encoded in a SASL message (PLAIN "\0user\0pass", LOGIN,
	# XOAUTH2 "user=U\1auth=Bearer T\1\1", OAUTHBEARER): grepping for the plain text misses that.
	# Inside any longer base64 text the secret starts at one of three byte offsets; for each, the
	# characters that encode only its own bytes are a fixed string, so looking for those three
	# (and their base64url spelling) finds it in every SASL form, whatever surrounds it.
	local ctx=$1 secret=$2 out
	shift 2
	out=$(python3 - "$secret" "$@" 2>&1 <<'PY'
import base64, sys
secret = sys.argv[1].encode()
if len(secret) < 8:   # shorter, some offset leaves fewer than 8 fixed characters to look for
    sys.exit(f"secret {sys.argv[1]!r} is too short to be looked for in base64 reliably")
needles = {secret: "in plain text"}
for k in range(3):
    enc = base64.b64encode(b"\0" * k + secret)
    # k bytes before it share the first 4-character group; a partial last group depends on
    # what follows. What remains is fixed.
    inner = enc[4 if k else 0:(k + len(secret)) // 3 * 4]
    needles.setdefault(inner.replace(b"+", b"-").replace(b"/", b"_"), f"base64url-encoded (offset {k})")
    needles[inner] = f"base64-encoded (offset {k})"
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        data = f.read()
    for needle, how in needles.items():
        if needle in data:
            sys.exit(f"{path} holds the secret {how}")
PY
	) || t_fail "$ctx: ${out:-a secret check failed}"
}

t_init() {   # NAME
	T_NAME=$1
	trap t_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	[ -x "$POPFETCH" ] || t_fail "popfetch binary not found at $POPFETCH (build it, or set POPFETCH)"
	POPFETCH=$(cd "$(dirname "$POPFETCH")" && pwd -P)/$(basename "$POPFETCH")
	local dep
	for dep in python3 openssl timeout setpriv flock; do
		command -v "$dep" >/dev/null || t_skip "$dep is not installed"
	done
	DOVECOT=${DOVECOT:-$(command -v dovecot || true)}     # lab-dovecot reads DOVECOT too
	export DOVECOT
	{ [ -n "$DOVECOT" ] && [ -x "$DOVECOT" ] && [ -x /usr/lib/dovecot/pop3 ]; } ||
		t_skip "Dovecot POP3 is not installed (apt-get install dovecot-core dovecot-pop3d)"
	T=$(mktemp -d "/tmp/popfetch-$T_NAME.XXXXXX")
	chmod 0755 "$T"          # the lab's Dovecot runs as an unprivileged user and must reach $T/lab
	t_log "work directory $T, popfetch $POPFETCH"
}

t_bg() {   # run a command in the background; it is killed at exit. Sets T_BG_PID.
	"$@" &
	T_BG_PID=$!
	T_PIDS+=("$T_BG_PID")
}

t_free_port() {   # prints a random loopback port in 20000-60000 that is free right now
	local p
	for _ in $(seq 50); do
		p=$(python3 - <<'PY'
import random, socket
p = random.SystemRandom().randint(20000, 60000)
s = socket.socket()
try:
    s.bind(("127.0.0.1", p))
    print(p)
except OSError:
    pass
PY
		)
		[ -n "$p" ] || continue
		echo "$p"
		return 0
	done
	t_fail "no free loopback port found in 20000-60000"
}

t_wait_match() {   # FILE REGEX: waits (10 s) until FILE has a line matching REGEX, prints the match
	local i
	for ((i = 0; i < 200; i++)); do
		grep -Eo -- "$2" "$1" 2>/dev/null | head -n 1 && return 0
		sleep 0.05
	done
	t_fail "timed out waiting for /$2/ in $1"
}

t_wait_file() {   # FILE [SECONDS]: waits until FILE is non-empty (ready files of helpers)
	local i
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	t_fail "timed out waiting for $1"
}

# ---------------------------------------------------------------- the lab Dovecot
lab_start() {   # starts the lab in $T/lab; sets LAB_* (see lab-dovecot env)
	local dir=$T/lab try rc pt pp
	for try in 1 2 3 4 5; do
		rc=0 pt=$(t_free_port) pp=$(t_free_port)
		[ "$pt" != "$pp" ] || continue
		PORT_TLS=$pt PORT_PLAIN=$pp "$TESTLIB/lab-dovecot" start "$dir" >"$T/lab-start.log" 2>&1 || rc=$?
		[ "$rc" = 0 ] && break
		t_log "lab start attempt $try failed (exit $rc); retrying on other ports"
		"$TESTLIB/lab-dovecot" stop "$dir" >/dev/null 2>&1 || true
	done
	if [ "$rc" != 0 ]; then
		cat "$T/lab-start.log" >&2
		t_fail "the lab Dovecot did not start"
	fi
	T_LABS+=("$dir")
	eval "$("$TESTLIB/lab-dovecot" env "$dir" --prefix LAB_)"
	t_log "lab Dovecot: pop3s 127.0.0.1:$LAB_PORT_TLS, pop3 127.0.0.1:$LAB_PORT_PLAIN"
}

lab_reset() { "$TESTLIB/lab-dovecot" reset "$LAB_LAB_DIR"; }

lab_mkmail() {   # mkmail arguments; writes into the lab's mailbox
	"$TESTLIB/mkmail" --out "$LAB_MAILDIR" --quiet "$@"
}

lab_count() {   # messages in the server mailbox (Dovecot keeps them in new/ and cur/)
	md_count "$LAB_MAILDIR"
}

md_count() {   # MAILDIR: files in new/ and cur/ (0 before the Maildir exists)
	{ find "$1/new" "$1/cur" -maxdepth 1 -type f 2>/dev/null || true; } | wc -l
}

md_seqs() {   # MAILDIR: the sorted X-Bench-Seq values of the delivered messages, one a line
	local f
	find "$1/new" "$1/cur" -maxdepth 1 -type f 2>/dev/null | while read -r f; do
		sed -n '/^\r\{0,1\}$/q; s/^X-Bench-Seq: *\([0-9]*\).*/\1/p' "$f" | tail -n 1
	done | sort -n
}

# ---------------------------------------------------------------- popfetch
pf_config() {   # FILE [key=value ...]: writes a config with one account, mode 0600
	# Keys: state_dir and account (the title) are global; everything else goes into the account
	# and overrides the defaults below. Values that are numbers, booleans or tls modes are written
	# bare, anything else quoted. key=- removes a default.
	local file=$1 state_dir="$T/state" account=lab kv k v out
	shift
	local -A val=(
		[host]=127.0.0.1 [port]=$LAB_PORT_TLS [tls]=implicit [tls_ca_file]=$LAB_CAFILE
		[timeout]=10 [user]=alice [password]=wonderland [maildir]=$T/Maildir [keep]=true)
	local keys=(host port tls tls_ca_file timeout user password maildir keep)
	for kv in "$@"; do
		k=${kv%%=*} v=${kv#*=}
		case $k in
		state_dir) state_dir=$v; continue;;
		account) account=$v; continue;;
		esac
		[ -n "${val[$k]+set}" ] || keys+=("$k")
		val[$k]=$v
	done
	out="state_dir = $(pf_value "$state_dir")"$'\n'"account $account {"$'\n'
	for k in "${keys[@]}"; do
		[ "${val[$k]}" = - ] && continue
		out+="    $k = $(pf_value "${val[$k]}")"$'\n'
	done
	out+="}"$'\n'
	(umask 077 && printf '%s' "$out" >"$file")
	chmod 0600 "$file"
}

pf_value() {   # a config value: bare when it is a number, boolean or keyword, else a quoted string
	case $1 in
	true|false|implicit|starttls|none) printf '%s' "$1";;
	''|*[!0-9]*) local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}";;
	*) printf '%s' "$1";;
	esac
}

pf_run() {   # NAME ARGS...: runs popfetch (bounded by PF_TIMEOUT) with output in $T/NAME.{out,err}
	# Sets PF_RC, PF_OUT, PF_ERR, PF_MS, PF_SECS. With PF_AS_USER=name, runs as that user (setpriv).
	local name=$1 start cmd=("$POPFETCH")
	shift
	PF_OUT=$T/$name.out PF_ERR=$T/$name.err
	if [ -n "${PF_AS_USER:-}" ]; then
		cmd=(setpriv --reuid="$PF_AS_USER" --regid="$(id -g "$PF_AS_USER")" --clear-groups
			env HOME="$T" "$(pf_user_binary)")
	fi
	start=$(t_now_ms)
	PF_RC=0
	# The group's 2>/dev/null only silences bash's "Killed" job notice (the test hook's SIGKILL).
	{ timeout -k 5 "$PF_TIMEOUT" "${cmd[@]}" "$@" >"$PF_OUT" 2>"$PF_ERR" || PF_RC=$?; } 2>/dev/null
	PF_MS=$(( $(t_now_ms) - start ))
	PF_SECS=$(( (PF_MS + 500) / 1000 ))
	[ "$PF_RC" != "$PF_SAN_EXIT" ] || t_fail "popfetch ($name) exited $PF_RC: a sanitizer report"
	[ "${PF_QUIET:-0}" = 1 ] || t_log "popfetch $* -> exit $PF_RC (${PF_SECS}s)"
	# 124: timeout sent SIGTERM; 137 without the test hook: it needed SIGKILL too.
	if [ "$PF_RC" = 124 ] || { [ "$PF_RC" = 137 ] && [ -z "${POPFETCH_TEST_STOP_AFTER_STEP:-}" ]; }; then
		t_fail "popfetch ($name) did not finish within $PF_TIMEOUT s"
	fi
	return 0
}

t_now_ms() {   # monotonic enough for test timings: wall clock in milliseconds
	local t=$EPOCHREALTIME
	echo $(( ${t%.*} * 1000 + 10#${t#*.} / 1000 ))
}

pf_user_binary() {   # a copy of popfetch that an unprivileged user can execute (the build tree may not be reachable)
	if [ ! -x "$T/bin/popfetch" ]; then
		mkdir -p "$T/bin"
		cp "$POPFETCH" "$T/bin/popfetch"
		chmod 0755 "$T/bin" "$T/bin/popfetch"
	fi
	echo "$T/bin/popfetch"
}

pf_expect_rc() {   # WANT CONTEXT: the last pf_run must have exited WANT
	[ "$PF_RC" = "$1" ] || t_fail "$2: popfetch exited $PF_RC, expected $1"
}

pf_expect_err() {   # REGEX CONTEXT: the last run's stderr must match (grep -E) and must not be empty
	[ -s "$PF_ERR" ] || t_fail "$2: popfetch printed no error message"
	grep -Eq -- "$1" "$PF_ERR" || t_fail "$2: stderr does not match /$1/"
}

pf_verify() {   # MANIFEST MAILDIR [verify-maildir options]: every message exactly once, intact
	local man=$1 md=$2 out
	shift 2
	out=$("$TESTLIB/verify-maildir" --manifest "$man" "$@" "$md" 2>&1) ||
		{ echo "$out" >&2; t_fail "verify-maildir failed for $md"; }
	t_log "verify $md: $(echo "$out" | head -n 1)"
}

# ---------------------------------------------------------------- certificates
t_make_ca() {   # DIR: a fresh CA in DIR/ca.pem, DIR/ca.key
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/ca.key" -out "$1/ca.pem" -days 30 \
		-subj "/CN=popfetch test CA $RANDOM" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >"$1/openssl.log" 2>&1 ||
		t_fail "cannot make a CA in $1 (see $1/openssl.log)"
}

t_make_cert() {   # CADIR OUTPREFIX SAN: OUTPREFIX.pem / OUTPREFIX.key signed by the CA
	local ca=$1 out=$2 san=$3
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "extendedKeyUsage=serverAuth" \
		"keyUsage=critical,digitalSignature,keyEncipherment" "subjectAltName=$san" >"$out.ext"
	{
		openssl req -newkey rsa:2048 -nodes -keyout "$out.key" -out "$out.csr" -subj "/CN=test server" &&
			openssl x509 -req -in "$out.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial \
				-out "$out.pem" -days 30 -extfile "$out.ext"
	} >"$out.log" 2>&1 || t_fail "cannot make a certificate $out (see $out.log)"
}

md_check_names() {   # MAILDIR: delivered names follow DESIGN.md section 2 and their S=/W= sizes are right
	python3 - "$1" <<'PY' || t_fail "Maildir file names or sizes in $1 are wrong (see above)"
import os, re, sys
md = sys.argv[1]
name_re = re.compile(r"^(\d+)\.M(\d+)P(\d+)Q(\d+)\.([^/:]+),S=(\d+),W=(\d+)(:2,[A-Za-z]*)?$")
bad = 0
for sub in ("new", "cur"):
    d = os.path.join(md, sub)
    for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        m = name_re.match(n)
        with open(os.path.join(d, n), "rb") as f:
            data = f.read()
        lf = data.count(b"\n")
        problem = None
        if not m:
            problem = "name is not TIME.MusecPpidQn.HOST,S=size,W=size"
        elif b"\r" in data:
            problem = "has CR bytes (Maildir files use LF line endings)"
        elif int(m.group(6)) != len(data):
            problem = f"S={m.group(6)} but the file has {len(data)} bytes"
        elif not len(data) + lf <= int(m.group(7)) <= len(data) + lf + 2:
            problem = f"W={m.group(7)} but size with CRLF is {len(data) + lf}"
        if problem:
            bad += 1
            if bad <= 10:
                print(f"{sub}/{n}: {problem}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
