#!/usr/bin/env bash
# contrib/check.sh - everything CI checks, from a bare Debian 12 (run as root, or with sudo).
#
# Installs the build and test dependencies (only when something is missing), then, in out-of-tree
# builds under build/ so the source tree stays clean:
#   gcc        --enable-werror, make check (unit + integration tests; a skipped test is a
#              failure here unless ALLOWED_SKIPS names it)
#   clang      --enable-werror, builds the program and the unit tests
#   sanitizers --enable-sanitizers (ASan + UBSan), make check; a sanitizer report in any test log
#              fails (tests/lib/test-driver fails the test too)
#   distcheck  make distcheck (gcc): the tarball is complete and builds and tests on its own
#              (unit tests and one integration test per test helper: the rest ran above)
#   fuzz       --enable-fuzzing (clang): each libFuzzer target runs 30 s on its seed corpus
#              (tests/fuzz/corpus/decode for fuzz_decode; new inputs stay in build/fuzz)
#   man        man --warnings on both pages; stderr must be empty
#   deb        dpkg-buildpackage -us -uc -b in a copy of the tracked files (build/deb/src), then
#              lintian on the .deb: no error, no warning (skipped when the tools are missing)
# Every build configures with --enable-unit-tests: a missing cmocka fails configure instead of
# dropping the unit tests. Prints a PASS/FAIL summary and a closing line counting the tests of the
# gcc and sanitizer builds this run made ("tests: N passed, N failed, N skipped"), and exits
# non-zero on any failure. About 15 minutes on 2 cores.
# CHECK_STEPS="gcc man" runs only the named steps; FUZZ_SECONDS changes the fuzzing time.
# The step functions are called indirectly, through step():
# shellcheck disable=SC2317
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$top" || exit 1
export LC_ALL=C.UTF-8
export POPFETCH_REQUIRE_INTEGRATION=1      # tests/lib/common.sh: no Dovecot is a failure, not a skip
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
STEPS=${CHECK_STEPS:-gcc clang sanitizers distcheck fuzz man deb}
RESULTS=()
FAILED=0
SUITE_DIRS=()      # the build directories whose make check ran in this invocation
# The skips CI (root, with the tools installed below) may see, each with why it cannot always run
# there: "TEST" (a script or a whole test program) or "TEST:CASE" (one cmocka case). Any other
# SKIP in the gcc or sanitizer build fails the step.
ALLOWED_SKIPS=(
	# needs the build directory on ext4 and Linux >= 5.8: the runner's disk and kernel decide
	tests/unit/test_fs_sync:trusted__on_ext4_of_a_new_kernel__then_1
	# a kernel that still answers a SYN to a full listen backlog leaves nothing to time out
	tests/unit/test_conn:open__unanswered_syn__times_out
)

say() { printf '\n=== %s\n' "$*"; }
record() {   # STEP STATUS SECONDS [NOTE]
	RESULTS+=("$(printf '%-11s %-5s %4ss  %s' "$1" "$2" "$3" "${4:-}")")
	[ "$2" != FAIL ] || FAILED=1
}
want() { case " $STEPS " in *" $1 "*) return 0;; esac; return 1; }

# ---------------------------------------------------------------- dependencies
PKGS=(build-essential autoconf automake libtool pkg-config libssl-dev libconfuse-dev libcmocka-dev libcurl4-openssl-dev curl
	clang libclang-rt-14-dev dovecot-core dovecot-pop3d openssl python3 util-linux procps
	ca-certificates man-db groff-base time
	dpkg-dev debhelper lintian git)
PKGS+=(fetchmail mpop getmail6)   # the peers tests/integration/import.sh switches from
PKGS+=(maildrop procmail dovecot-lmtpd dovecot-sieve)   # the MDA and LMTP destination tests (mda_programs, lmtp_dovecot)
PKGS+=(procmail mutt bsdutils)   # tests/integration/mbox.sh: formail, lockfile, mutt (under script)
PKGS+=(zsh)   # tests/integration/completion.sh drives the zsh completion
install_deps() {
	local missing=() p sudo=()
	command -v dpkg-query >/dev/null || { echo "not Debian: install the equivalents of ${PKGS[*]}"; return 0; }
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || { echo "all dependencies are installed"; return 0; }
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { echo "missing: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2; return 1; }
		sudo=(sudo)
	fi
	echo "installing: ${missing[*]}"
	"${sudo[@]}" apt-get update &&
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}

# ---------------------------------------------------------------- helpers
show_test_logs() {   # BUILDDIR: the logs of failing tests, and the suite summary
	local b=$1 trs
	[ -f "$b/test-suite.log" ] && { echo "--- $b/test-suite.log"; cat "$b/test-suite.log"; }
	while IFS= read -r trs; do
		if grep -Eq '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
			echo "--- ${trs%.trs}.log"
			cat "${trs%.trs}.log"
		fi
	done < <(find "$b" -name '*.trs' 2>/dev/null | sort)
}

suite_trs() {   # BUILDDIR: the .trs files of its make check (not of a distcheck copy inside it)
	find "$1" -name '*.trs' -not -path '*/popfetch-[0-9]*/*' 2>/dev/null | sort
}

allowed_skip() {   # NAME: listed in ALLOWED_SKIPS
	local a
	for a in "${ALLOWED_SKIPS[@]}"; do [ "$a" = "$1" ] && return 0; done
	return 1
}

check_skips() {   # BUILDDIR: 1 when a test skipped (a script, a program, or a cmocka case) that CI must run
	local b=$1 trs name cases c rc=0
	while IFS= read -r trs; do
		grep -q '^:test-result: SKIP' "$trs" || continue
		name=${trs#"$b"/}
		name=${name%.trs}
		# tests/lib/test-driver names the skipped cmocka cases in the log
		cases=$(sed -n 's/^test-driver: SKIP: cmocka skipped [0-9]* case(s): //p' "${trs%.trs}.log")
		local -a list=("")              # a script or a program that exited 77: its name alone
		[ -z "$cases" ] || read -ra list <<<"$cases"
		for c in "${list[@]}"; do
			if ! allowed_skip "$name${c:+:$c}"; then
				echo "SKIP in CI, not in ALLOWED_SKIPS: $name${c:+:$c}"
				tail -n 5 "${trs%.trs}.log"
				rc=1
			fi
		done
	done < <(suite_trs "$b")
	return "$rc"
}

scan_sanitizer_reports() {   # BUILDDIR: 1 when a test log holds a sanitizer report
	local b=$1 trs hits rc=0
	while IFS= read -r trs; do
		hits=$(grep -E -m 5 'runtime error:|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer' \
			"${trs%.trs}.log" 2>/dev/null) || continue
		echo "--- sanitizer report in ${trs%.trs}.log:"
		echo "$hits"
		rc=1
	done < <(suite_trs "$b")
	return "$rc"
}

suite() {   # BUILDDIR [make variables]: make check there, then its skips and sanitizer reports
	local b=$1 rc=0
	shift
	SUITE_DIRS+=("$b")
	make -C "$b" -j"$JOBS" check "$@" || { show_test_logs "$b"; rc=1; }
	check_skips "$b" || rc=1
	scan_sanitizer_reports "$b" || rc=1
	return "$rc"
}

configure_in() {   # DIR CONFIGURE-ARGS...: a fresh out-of-tree build directory
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" "$@") >"$dir.configure.log" 2>&1 ||
		{ tail -n 30 "$dir.configure.log"; tail -n 40 "$dir/config.log" 2>/dev/null; return 1; }
	grep -A8 '^popfetch ' "$dir.configure.log" || true
}

step() {   # NAME FUNCTION: runs a step, times it, records PASS or FAIL
	local name=$1 fn=$2 t0 rc
	want "$name" || return 0
	say "$name"
	t0=$SECONDS
	"$fn"
	rc=$?
	if [ $rc = 0 ]; then record "$name" PASS $((SECONDS - t0)) "${NOTE:-}"
	elif [ $rc = 77 ]; then record "$name" SKIP $((SECONDS - t0)) "${NOTE:-}"
	else record "$name" FAIL $((SECONDS - t0)) "${NOTE:-}"; fi
	NOTE=
}

# ---------------------------------------------------------------- steps
s_gcc() {
	configure_in build/gcc CC=gcc --enable-werror --enable-unit-tests || return 1
	make -C build/gcc -j"$JOBS" || return 1
	suite build/gcc
}

s_clang() {
	configure_in build/clang CC=clang --enable-werror --enable-unit-tests || return 1
	# the program, and the unit tests built (not run: the gcc and sanitizer steps run them)
	make -C build/clang -j"$JOBS" && make -C build/clang -j"$JOBS" check TESTS=
}

s_sanitizers() {
	configure_in build/sanitizers CC=gcc --enable-werror --enable-sanitizers --enable-unit-tests || return 1
	make -C build/sanitizers -j"$JOBS" || return 1
	# Our defaults, then the caller's options (they win); tests/lib/test-driver appends the exit
	# status a report must have (tests/lib/sanitizer-env.sh).
	ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
		UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
		suite build/sanitizers
}

s_distcheck() {
	if [ ! -f build/gcc/Makefile ]; then configure_in build/gcc CC=gcc --enable-werror --enable-unit-tests || return 1; fi
	# The whole suite already ran twice (gcc, sanitizers): the tarball's build runs the unit
	# tests and one integration test per helper the tarball must carry (lab-dovecot, mkmail,
	# verify-maildir, pop3-script-server and its scripts, latency-proxy, oauth2-server).
	local tests
	tests="$(ls tests/unit/test_*.c | sed 's/\.c$//' | tr '\n' ' ')"
	tests+="tests/integration/fetch_keep.sh tests/integration/hostile.sh"
	tests+=" tests/integration/daemon.sh tests/integration/oauth2.sh"
	make -C build/gcc -j"$JOBS" distcheck TESTS="$tests" >build/distcheck.log 2>&1
	local rc=$?
	tail -n 15 build/distcheck.log
	if [ "$rc" != 0 ]; then
		grep -n -B2 -A20 -E 'FAIL|Error|error:' build/distcheck.log | head -n 200
		find build/gcc -path '*_build*' -name test-suite.log -exec cat {} + 2>/dev/null
	fi
	return "$rc"
}

s_fuzz() {
	# Every tests/fuzz/fuzz_NAME.c is a target (Makefile.am must build it: a missing binary fails).
	local srcs=(tests/fuzz/fuzz_*.c) f d name corpus work
	[ -f "${srcs[0]}" ] || { NOTE="no tests/fuzz/fuzz_*.c: fuzz targets not built"; return 77; }
	configure_in build/fuzz CC=clang --enable-fuzzing --enable-sanitizers || return 1
	make -C build/fuzz -j"$JOBS" || return 1
	for name in "${srcs[@]}"; do
		name=$(basename "$name" .c)
		f=build/fuzz/tests/fuzz/$name
		[ -x "$f" ] || { echo "make did not produce $f"; return 1; }
		# the seed corpus: tests/fuzz/corpus/decode for fuzz_decode (or .../fuzz_decode)
		corpus=()
		for d in "tests/fuzz/corpus/${name#fuzz_}" "tests/fuzz/corpus/$name"; do
			[ -d "$d" ] && corpus+=("$d")
		done
		[ ${#corpus[@]} -gt 0 ] || echo "note: no seed corpus in tests/fuzz/corpus/${name#fuzz_}"
		work=build/fuzz/corpus-$name
		rm -rf "$work"
		mkdir -p "$work"
		echo "fuzzing $name for $FUZZ_SECONDS s"
		# New inputs go to the build directory; the seed corpus in the source tree is only read.
		"$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$work" "${corpus[@]}" \
			>"build/fuzz/$name.log" 2>&1 ||
			{ tail -n 60 "build/fuzz/$name.log"; echo "FAIL: $name (crash inputs in build/fuzz)"; return 1; }
		grep -E '^stat::(number_of_executed_units|new_units_added)' "build/fuzz/$name.log" || true
	done
}

s_man() {
	local page out rc=0 dir=build/gcc
	[ -f "$dir/doc/popfetch.1" ] || { configure_in build/gcc CC=gcc --enable-werror --enable-unit-tests || return 1; }
	for page in doc/popfetch.1 doc/popfetch.conf.5; do
		out=$(man --warnings -l "$dir/$page" 2>&1 >/dev/null)
		if [ -n "$out" ]; then
			echo "man --warnings $page:"
			echo "$out"
			rc=1
		else
			echo "$page: no warnings"
		fi
	done
	return "$rc"
}

s_deb() {
	# A copy of the tracked files, so the package build (autoreconf, configure) leaves the
	# source tree alone; the unit tests already ran, so nocheck keeps the step quick.
	local t missing=() src=build/deb/src deb
	for t in dpkg-buildpackage dh lintian git; do command -v "$t" >/dev/null || missing+=("$t"); done
	if [ ${#missing[@]} -gt 0 ]; then
		NOTE="skipped: ${missing[*]} not installed (apt-get install dpkg-dev debhelper lintian git)"
		echo "$NOTE"
		return 77
	fi
	git rev-parse --git-dir >/dev/null 2>&1 || { NOTE="skipped: not a git checkout"; echo "$NOTE"; return 77; }
	rm -rf build/deb
	mkdir -p "$src"
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$src" || return 1
	(cd "$src" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >build/deb/build.log 2>&1 ||
		{ tail -n 40 build/deb/build.log; return 1; }
	deb=$(ls build/deb/popfetch_*.deb) || return 1
	dpkg-deb -c "$deb" | awk '{ print $6 }'
	echo "lintian $deb:"
	lintian --fail-on error,warning --display-info "$deb"
}

s_deps() { install_deps; }
s_autoreconf() {
	if [ -f config.status ]; then
		# An in-tree ./configure (README's Install) blocks out-of-tree builds.
		echo "the source tree was configured in place: make distclean there first"
		make distclean >/dev/null 2>&1 || rm -f config.status
	fi
	autoreconf -fi
}

# ---------------------------------------------------------------- run
START=$SECONDS
STEPS="deps autoreconf $STEPS"
step deps s_deps
step autoreconf s_autoreconf
if [ $FAILED = 0 ]; then
	step gcc s_gcc
	step clang s_clang
	step sanitizers s_sanitizers
	step distcheck s_distcheck
	step fuzz s_fuzz
	step man s_man
	step deb s_deb
fi

say "summary ($((SECONDS - START)) s)"
printf '%s\n' "${RESULTS[@]}"
# One closing line for CI: the tests (programs and scripts) that the gcc and sanitizer builds of
# this invocation ran, read from their .trs files (a stale build directory is never counted).
passed=0 failed=0 skipped=0
for b in "${SUITE_DIRS[@]}"; do
	while IFS= read -r res; do
		case $res in
		PASS|XFAIL) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
	done < <(suite_trs "$b" | xargs -r sed -n 's/^:test-result: //p')
done
if [ $FAILED = 0 ]; then
	echo "PASS: every check passed"
else
	echo "FAIL: see the failing steps above"
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $FAILED
