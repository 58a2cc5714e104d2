#!/usr/bin/env bash
# install: `make install` with any prefix installs systemd user units whose ExecStart names the
# installed binary (issue 12 item 6), and that binary runs; --with-systemduserunitdir moves the
# units.  Runs make in the build tree this test belongs to (make check exports POPFETCH there).
set -euo pipefail
export LC_ALL=C
TESTLIB=${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}
POPFETCH=${POPFETCH:-$TESTLIB/../../src/popfetch}
builddir=$(cd "$(dirname "$POPFETCH")/.." && pwd -P)
srcdir=$(cd "$TESTLIB/../.." && pwd -P)
T=$(mktemp -d /tmp/popfetch-install.XXXXXX)
trap 'rc=$?; if [ $rc = 0 ]; then rm -rf "$T"; else echo "kept $T" >&2; fi' EXIT
fail() { echo "[install] FAIL: $*" >&2; exit 1; }
log() { echo "[install] $*"; }
# A make of our own, not a job of the `make check` that runs this test.
submake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"; }
units="popfetch.service popfetch@.service popfetch@.timer"

check_units() {   # DIR BINDIR: every unit is in DIR, each ExecStart is BINDIR/popfetch
	local u
	for u in $units; do
		[ -f "$1/$u" ] || fail "$1/$u was not installed"
		! grep -q '@bindir@\|/usr/local' "$1/$u" || fail "$1/$u names a path not filled in: $(grep -n 'bindir\|/usr/local' "$1/$u")"
	done
	for u in popfetch.service popfetch@.service; do
		grep -Eq "^ExecStart=$2/popfetch( |\$)" "$1/$u" ||
			fail "$1/$u: ExecStart is not $2/popfetch: $(grep ExecStart "$1/$u")"
	done
}

# 1. make install DESTDIR=... prefix=/opt/x: the default unit directory under that prefix.
submake -C "$builddir" install DESTDIR="$T/root" prefix=/opt/x >"$T/install.log" 2>&1 ||
	{ tail -n 30 "$T/install.log"; fail "make install DESTDIR=$T/root prefix=/opt/x failed"; }
check_units "$T/root/opt/x/lib/systemd/user" /opt/x/bin
bin=$T/root/opt/x/bin/popfetch
[ -x "$bin" ] || fail "$bin was not installed"
out=$("$bin" --version) || fail "the installed binary does not run"
[ "$out" = "$("$POPFETCH" --version)" ] || fail "the installed binary says '$out'"
[ -f "$T/root/opt/x/share/man/man1/popfetch.1" ] || fail "popfetch.1 was not installed"
[ -f "$T/root/opt/x/share/man/man5/popfetch.conf.5" ] || fail "popfetch.conf.5 was not installed"
[ -f "$T/root/opt/x/share/bash-completion/completions/popfetch" ] || fail "the bash completion was not installed"
[ -f "$T/root/opt/x/share/zsh/site-functions/_popfetch" ] || fail "the zsh completion was not installed"
log "prefix=/opt/x: units in /opt/x/lib/systemd/user name /opt/x/bin/popfetch, which runs ($out)"

# 2. configure --prefix=/usr --with-systemduserunitdir=DIR: only the units are installed.
mkdir "$T/b"
(cd "$T/b" && "$srcdir/configure" --prefix=/usr --with-systemduserunitdir=/srv/units \
	--disable-unit-tests) >"$T/configure.log" 2>&1 ||
	{ tail -n 30 "$T/configure.log"; fail "configure --with-systemduserunitdir failed"; }
submake -C "$T/b" install-systemduserunitDATA DESTDIR="$T/root2" >"$T/install2.log" 2>&1 ||
	{ tail -n 30 "$T/install2.log"; fail "installing the units with --with-systemduserunitdir failed"; }
check_units "$T/root2/srv/units" /usr/bin
[ ! -d "$T/root2/usr/lib/systemd" ] || fail "units went to the default directory too"
log "--with-systemduserunitdir=/srv/units: units there, ExecStart /usr/bin/popfetch"
log "install: ok"
