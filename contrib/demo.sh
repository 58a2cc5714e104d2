#!/usr/bin/env bash
# contrib/demo.sh - see popfetch work in a minute, on this machine only.
#
# Installs what is missing (Debian/Ubuntu, as root or with sudo), builds popfetch, starts a
# throwaway Dovecot POP3S server on free loopback ports with 20 sample messages, fetches them in
# keep mode into ./demo/Maildir with `popfetch -v`, shows what arrived and stops the server.
# Re-runnable: ./demo is recreated every time. Nothing leaves 127.0.0.1.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$top"
say() { printf '\n==> %s\n' "$*"; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- packages
PKGS=(build-essential autoconf automake libtool pkg-config libssl-dev libconfuse-dev
	dovecot-core dovecot-pop3d openssl python3 util-linux)
if command -v dpkg-query >/dev/null; then
	missing=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
			die "missing packages: ${missing[*]} (run as root: apt-get install ${missing[*]})"
		fi
		say "installing ${missing[*]}"
		"${SUDO[@]}" apt-get update
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
	fi
else
	echo "demo.sh: not a Debian system: make sure these (or their equivalents) are installed: ${PKGS[*]}" >&2
fi

# ---------------------------------------------------------------- build
say "building popfetch"
if [ ! -f Makefile ]; then
	[ -x configure ] || autoreconf -fi
	./configure
fi
make -j2
POPFETCH=$top/src/popfetch
[ -x "$POPFETCH" ] || die "the build did not produce src/popfetch"

# ---------------------------------------------------------------- a throwaway server
# The test harness's helpers: free ports (t_free_port), Dovecot, sample mail.
TESTLIB=$top/tests/lib
# shellcheck source=tests/lib/common.sh
. "$TESTLIB/common.sh"
T_NAME=demo     # how common.sh labels its messages
export T_NAME

demo=$top/demo
if [ -f "$demo/lab.path" ]; then
	"$TESTLIB/lab-dovecot" stop "$(cat "$demo/lab.path")" >/dev/null 2>&1 || true
	old=$(cat "$demo/lab.path")
	case $old in /tmp/popfetch-demo-lab.*) rm -rf "$old";; esac
fi
rm -rf "$demo"
mkdir -p "$demo"

reachable() {   # DIR: can every user traverse DIR and all its parents? (Dovecot runs unprivileged as root)
	local d=$1 mode
	while :; do
		mode=$(stat -c %a "$d")
		(( 8#$mode & 1 )) || return 1
		[ "$d" = / ] && return 0
		d=$(dirname "$d")
	done
}
if [ "$(id -u)" != 0 ] || reachable "$demo"; then
	lab=$demo/lab
else
	lab=$(mktemp -d /tmp/popfetch-demo-lab.XXXXXX)
	chmod 0755 "$lab"
	echo "(the server's files are in $lab: the unprivileged Dovecot user cannot reach $demo)"
fi
echo "$lab" >"$demo/lab.path"
stop_lab() { "$TESTLIB/lab-dovecot" stop "$lab" >/dev/null 2>&1 || true; }
cleanup() {   # the server is throwaway: stop it; a lab outside ./demo is removed too
	stop_lab
	case $lab in "$demo"/*) ;; *) rm -rf "$lab";; esac
}
trap cleanup EXIT

say "starting a throwaway Dovecot (POP3 over TLS) on loopback"
started=no
for _ in 1 2 3 4 5; do
	pt=$(t_free_port) pp=$(t_free_port)
	if PORT_TLS=$pt PORT_PLAIN=$pp "$TESTLIB/lab-dovecot" start "$lab" >"$demo/lab-start.log" 2>&1; then
		started=yes
		break
	fi
	stop_lab
done
[ $started = yes ] || { cat "$demo/lab-start.log" >&2; die "Dovecot did not start"; }
eval "$("$TESTLIB/lab-dovecot" env "$lab" --prefix LAB_)"
"$TESTLIB/mkmail" --count 20 --seed 2025 --out "$LAB_MAILDIR" --manifest "$demo/manifest"
echo "server: pop3s://127.0.0.1:$LAB_PORT_TLS, user $LAB_USER, 20 messages, CA $LAB_CAFILE"

# ---------------------------------------------------------------- fetch
(umask 077 && cat >"$demo/config" <<EOF
# Written by contrib/demo.sh. Mode 0600: it holds a password.
state_dir = "$demo/state"

account demo {
    host        = "127.0.0.1"
    port        = $LAB_PORT_TLS
    tls         = implicit
    tls_ca_file = "$LAB_CAFILE"
    user        = "$LAB_USER"
    password    = "$LAB_PASS"
    maildir     = "$demo/Maildir"
    keep        = true
    timeout     = 30
}
EOF
)
chmod 0600 "$demo/config"

say "popfetch -v -f demo/config"
rc=0
timeout 120 "$POPFETCH" -v -f "$demo/config" || rc=$?
echo "(exit status $rc: 0 means mail was delivered)"

say "what landed in demo/Maildir/new"
ls "$demo/Maildir/new"
echo
python3 - "$demo/Maildir/new" <<'PY'
import email, email.header, email.policy, os, sys
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    with open(os.path.join(d, n), "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    subject = str(m["Subject"] or "")
    print(f"{str(m['From'] or '')[:34]:34}  {subject[:60]}")
PY
echo
"$TESTLIB/verify-maildir" --manifest "$demo/manifest" "$demo/Maildir" || rc=1

say "again: nothing new (exit status 1), the server kept everything (keep = true)"
rc2=0
timeout 120 "$POPFETCH" -f "$demo/config" || rc2=$?
echo "(exit status $rc2)"

echo
echo "Done. Config: demo/config   Maildir: demo/Maildir   (the server has been stopped)"
[ "$rc" = 0 ] && [ "$rc2" = 1 ]
