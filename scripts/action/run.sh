#!/usr/bin/env bash
# The step of action.yml: install ecs-env for this runner, then `export` or `check`.
#
# Inputs arrive as INPUT_* variables (action.yml maps them, so no input is ever spliced into
# shell code). For tests, ECS_ENV_ACTION_BINARY names an ecs-env binary to use instead of
# downloading one (tests/integration/action.rs).
#
# export: `ecs-env export --reveal --format github -o "$GITHUB_ENV"`: ecs-env first prints an
#   `::add-mask::` line for every line of every secret value (so the runner hides them in the
#   log), then appends the variables to $GITHUB_ENV in the runner's heredoc form. Outputs:
#   names (comma-separated), count.
# check: `ecs-env check` (with --offline when asked). Output: result (passed or failed); the
#   step fails with ecs-env's exit status when a reference would not resolve.
set -euo pipefail

fail() {
    echo "::error::ecs-env action: $1"
    exit 1
}

: "${GITHUB_ENV:?GITHUB_ENV is not set: run this as a GitHub Actions step}"
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run this as a GitHub Actions step}"
task_definition=${INPUT_TASK_DEFINITION:-}
[ -n "$task_definition" ] || fail "the task-definition input is required"
mode=${INPUT_MODE:-export}
case "$mode" in
    export | check) ;;
    *) fail "mode must be export or check, not '$mode'" ;;
esac

# The release archive for this runner (the names .github/workflows/release.yml produces).
target_for_runner() {
    case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
        Linux/X64 | Linux/x86_64) echo x86_64-unknown-linux-musl ;;
        Linux/ARM64 | Linux/aarch64) echo aarch64-unknown-linux-musl ;;
        macOS/X64 | Darwin/x86_64) echo x86_64-apple-darwin ;;
        macOS/ARM64 | Darwin/arm64) echo aarch64-apple-darwin ;;
        Windows/X64) echo x86_64-pc-windows-msvc ;;
        *) fail "no ecs-env release for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}" ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

install() {
    local repo=${ACTION_REPOSITORY:-ecs-env/ecs-env} version=${INPUT_VERSION:-} target ext
    if [ -z "$version" ]; then
        [[ "${ACTION_REF:-}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]] ||
            fail "set the version input (the action is used at '${ACTION_REF:-?}', not at a release tag)"
        version=$ACTION_REF
    fi
    if [ "$version" = latest ]; then
        version=$(curl -fsSL -H "Authorization: Bearer ${GH_TOKEN:-}" \
            "https://api.github.com/repos/$repo/releases/latest" |
            sed -n 's/^ *"tag_name": *"\([^"]*\)".*/\1/p')
        [ -n "$version" ] || fail "could not find the latest release of $repo"
    fi
    version=${version#v}
    target=$(target_for_runner)
    ext=tar.gz
    [[ "$target" == *windows* ]] && ext=zip
    local archive="ecs-env-$version-$target.$ext"
    local base="https://github.com/$repo/releases/download/v$version"
    local dir="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/ecs-env/$version/$target"
    local bin="$dir/ecs-env-$version-$target/ecs-env"
    [[ "$target" == *windows* ]] && bin="$bin.exe"
    if [ ! -x "$bin" ]; then
        mkdir -p "$dir"
        curl -fsSL --retry 3 -o "$dir/$archive" "$base/$archive" || fail "could not download $base/$archive"
        curl -fsSL --retry 3 -o "$dir/SHA256SUMS" "$base/SHA256SUMS" || fail "could not download $base/SHA256SUMS"
        local want got
        want=$(awk -v f="$archive" '{ n = $2; sub(/^\*/, "", n) } n == f { print $1 }' "$dir/SHA256SUMS")
        got=$(sha256_of "$dir/$archive")
        [ -n "$want" ] || fail "$archive is not listed in the release's SHA256SUMS"
        [ "$want" = "$got" ] || fail "SHA-256 mismatch for $archive: expected $want, got $got"
        if [ "$ext" = zip ] && command -v unzip >/dev/null 2>&1; then
            (cd "$dir" && unzip -q -o "$archive")
        elif [ "$ext" = zip ]; then
            powershell.exe -NoProfile -Command "Expand-Archive -Force -Path '$(cygpath -w "$dir/$archive")' -DestinationPath '$(cygpath -w "$dir")'"
        else
            tar -xzf "$dir/$archive" -C "$dir"
        fi
        rm -f "$dir/$archive"
    fi
    echo "$bin"
}

if [ -n "${ECS_ENV_ACTION_BINARY:-}" ]; then
    bin=$ECS_ENV_ACTION_BINARY
else
    bin=$(install)
    dirname "$bin" >> "${GITHUB_PATH:-/dev/null}"
fi
[ -x "$bin" ] || fail "no ecs-env binary at $bin"
echo "path=$bin" >> "$GITHUB_OUTPUT"

args=(-f "$task_definition")
[ -z "${INPUT_CONTAINER:-}" ] || args+=(--container "$INPUT_CONTAINER")
[ -z "${INPUT_REGION:-}" ] || args+=(--region "$INPUT_REGION")
# Extra arguments, split on whitespace (no globbing, no shell syntax). The ${extra[@]+...}
# form below keeps an empty list working under `set -u` in macOS's bash 3.2.
extra=()
read -r -a extra <<<"${INPUT_ARGS:-}" || true

if [ "$mode" = check ]; then
    [ "${INPUT_OFFLINE:-false}" != true ] || args+=(--offline)
    status=0
    "$bin" check "${args[@]}" ${extra[@]+"${extra[@]}"} || status=$?
    if [ $status -eq 0 ]; then
        echo "result=passed" >> "$GITHUB_OUTPUT"
    else
        echo "result=failed" >> "$GITHUB_OUTPUT"
    fi
    exit $status
fi

# export: remember where $GITHUB_ENV ends, so the names come from this step's entries only.
before=$(wc -c < "$GITHUB_ENV" 2>/dev/null || echo 0)
"$bin" export "${args[@]}" ${extra[@]+"${extra[@]}"} --reveal --format github -o "$GITHUB_ENV"
# Heredoc entries: a header NAME<<DELIMITER, the value's lines, then the delimiter alone.
# ecs-env checks that no value contains the delimiter, so a header is never inside a value.
names=$(tail -c "+$((before + 1))" "$GITHUB_ENV" | awk '
    delim == "" && match($0, /<<ghadelimiter_[0-9a-f]+$/) {
        names = names (names == "" ? "" : ",") substr($0, 1, RSTART - 1)
        delim = substr($0, RSTART + 2)
        count++
        next
    }
    delim != "" && $0 == delim { delim = "" }
    END { print count + 0; print names }
')
{
    echo "count=$(sed -n 1p <<<"$names")"
    echo "names=$(sed -n 2p <<<"$names")"
} >> "$GITHUB_OUTPUT"
