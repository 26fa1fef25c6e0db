#!/usr/bin/env bash
# Baseline (a): what people do today without ecs-env. A shell loop that calls the AWS CLI
# once per secret reference (`aws secretsmanager get-secret-value`, jq for a JSON key) and
# once per ten parameter names of a region (`aws ssm get-parameters`), exports each value,
# then execs the command.
#
#   aws_loop.sh REFS.tsv COMMAND [ARGS...]
#
# REFS.tsv lines (tab-separated, `-` for an empty field), one AWS CLI call each:
#   sm   VARIABLE  REGION  SECRET_ID  JSON_KEY
#   ssm  REGION    VARIABLE=NAME VARIABLE=NAME ...   (at most ten)
# With OVERRIDES=FILE, that dotenv file is sourced first (scenario 5: nothing to fetch).
set -euo pipefail
refs=$1
shift
if [ -n "${OVERRIDES:-}" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$OVERRIDES"
    set +a
fi
while IFS=$'\t' read -r kind a b c d; do
    case $kind in
    sm)
        value=$(aws secretsmanager get-secret-value --region "$b" --secret-id "$c" \
            --query SecretString --output text)
        if [ "$d" != - ]; then
            value=$(jq -r --arg k "$d" '.[$k]' <<<"$value")
        fi
        export "$a=$value"
        ;;
    ssm)
        read -ra pairs <<<"$b"
        names=()
        for p in "${pairs[@]}"; do names+=("${p#*=}"); done
        json=$(aws ssm get-parameters --region "$a" --with-decryption --names "${names[@]}" \
            --output json)
        for p in "${pairs[@]}"; do
            export "${p%%=*}=$(jq -r --arg n "${p#*=}" \
                '.Parameters[] | select(.Name == $n) | .Value' <<<"$json")"
        done
        ;;
    esac
done <"$refs"
exec "$@"
