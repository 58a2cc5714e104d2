#!/usr/bin/env bash
# completion: the bash completion (contrib/completion/popfetch) completes options (read from
# --help) and account names from the configuration: the default one, accounts.d/*.conf beside it,
# and the file -f names; option values (--log, --tls) too.  The zsh one is checked for syntax
# when zsh is installed.
set -euo pipefail
export LC_ALL=C
TESTLIB=${TESTLIB:-$(cd "$(dirname "$0")/../lib" && pwd)}
POPFETCH=${POPFETCH:-$TESTLIB/../../src/popfetch}
srcdir=$(cd "$TESTLIB/../.." && pwd -P)
T=$(mktemp -d /tmp/popfetch-completion.XXXXXX)
trap 'rc=$?; if [ $rc = 0 ]; then rm -rf "$T"; else echo "kept $T" >&2; fi' EXIT
fail() { echo "[completion] FAIL: $*" >&2; exit 1; }

export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config
mkdir -p "$XDG_CONFIG_HOME/popfetch/accounts.d" "$T/other"
cat >"$XDG_CONFIG_HOME/popfetch/config" <<'CFG'
state_dir = "~/state"
# account commented {
account work {
    host = "pop.example.com"
}
  account "home.mail" {
    host = "pop.example.org"
}
CFG
printf 'account gmail-me {\n  provider = "gmail"\n}\n' >"$XDG_CONFIG_HOME/popfetch/accounts.d/g.conf"
printf 'account elsewhere {\n  host = "x"\n}\n' >"$T/other/config"

# shellcheck source=/dev/null
. "$srcdir/contrib/completion/popfetch"
complete -p popfetch | grep -q -- '-F _popfetch popfetch' || fail "complete -p popfetch: $(complete -p popfetch)"

comp() {   # WORDS...: completes the last word; prints the candidates sorted, one a line
	COMP_WORDS=("$POPFETCH" "$@")
	COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	_popfetch
	printf '%s\n' "${COMPREPLY[@]}" | sort
}
expect() {   # WANT GOT CONTEXT
	[ "$1" = "$2" ] || fail "$3: expected [$(echo "$1" | tr '\n' ' ')], got [$(echo "$2" | tr '\n' ' ')]"
	echo "[completion] $3: $(echo "$2" | tr '\n' ' ')"
}

expect "$(printf '%s\n' gmail-me home.mail work)" "$(comp '')" "accounts of the default config and accounts.d"
expect "$(printf '%s\n' home.mail)" "$(comp h)" "account prefix"
expect "$(printf '%s\n' work)" "$(comp -k w)" "account after an option"
expect "$(printf '%s\n' work)" "$(comp --authorize w)" "account after --authorize"
expect "$(printf '%s\n' elsewhere)" "$(comp -f "$T/other/config" '')" "accounts of the -f config"
expect "$(printf '%s\n' elsewhere)" "$(comp --config="$T/other/config" e)" "accounts of --config=FILE"
expect "$(printf '%s\n' --rebind-state --rebuild-state --retry-now)" "$(comp --re)" "long options"
expect "$(printf '%s\n' --authorize)" "$(comp --autho)" "one long option"
expect "$(printf '%s\n' -K -k)" "$(comp - | grep -x -- "-[kK]")" "short options"
all=$(comp --)
for o in --config --daemon --keep --no-keep --check --limit --jobs --verbose --quiet --version --help \
	--log --add-account --authorize --token --serverinfo --login --status --json --dump \
	--rebind-state --fresh-state; do
	grep -qx -- "$o" <<<"$all" || fail "$o is not completed (got: $(echo "$all" | tr '\n' ' '))"
done
expect "$(printf '%s\n' stderr syslog)" "$(comp --log '')" "--log values"
expect "$(printf '%s\n' starttls)" "$(comp --add-account --tls st)" "--tls values"

if command -v zsh >/dev/null; then
	zsh -n "$srcdir/contrib/completion/_popfetch" || fail "zsh: syntax error in _popfetch"
	echo "[completion] zsh: _popfetch parses"
else
	echo "[completion] zsh is not installed: _popfetch not parsed"
fi
echo "[completion] completion: ok"
