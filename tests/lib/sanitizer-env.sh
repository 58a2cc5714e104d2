# sanitizer-env.sh - sourced (sh or bash) by tests/lib/test-driver, which runs every test of
# `make check`, and by tests/lib/common.sh, for a script run by hand.
#
# A sanitizer report must fail the test that triggered it. With halt_on_error alone a report makes
# popfetch exit 1, which is "no new mail" (DESIGN.md section 6) and what many tests accept, so every
# report exits PF_SAN_EXIT instead: no popfetch exit code, nor automake's 77 (skip) or 99 (hard
# error). The caller's ASAN_OPTIONS, UBSAN_OPTIONS and LSAN_OPTIONS are kept; these few settings are
# appended (the last value of an option wins) so the exit status is the one the tests know.
# test-driver and common.sh also scan the test's output for reports (a report in a child whose
# exit status nobody checks).
PF_SAN_EXIT=98
PF_SAN_REPORT_RE='runtime error:|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|ThreadSanitizer|MemorySanitizer'

pf_san_append() {   # VALUE EXTRA: VALUE with EXTRA appended, unless it already ends with it
	case $1 in
	*"$2") printf '%s' "$1" ;;
	'') printf '%s' "$2" ;;
	*) printf '%s:%s' "$1" "$2" ;;
	esac
}

ASAN_OPTIONS=$(pf_san_append "${ASAN_OPTIONS:-}" "abort_on_error=0:exitcode=$PF_SAN_EXIT")
UBSAN_OPTIONS=$(pf_san_append "${UBSAN_OPTIONS:-}" "halt_on_error=1:abort_on_error=0:exitcode=$PF_SAN_EXIT")
LSAN_OPTIONS=$(pf_san_append "${LSAN_OPTIONS:-}" "exitcode=$PF_SAN_EXIT")
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS PF_SAN_EXIT PF_SAN_REPORT_RE
