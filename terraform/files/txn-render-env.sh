#!/usr/bin/env bash
# Writes /opt/txn/.env from SSM Parameter Store: every parameter under $SSM_PATH becomes
# NAME='value', NAME being the last part of the parameter's name. Runs at every start of
# txn-platform.service and at every deploy, reading with the instance role: the secrets
# are stored nowhere else on the host, and never in user data. It prints names, never
# values.
# GHCR_USER and GHCR_TOKEN, when present, log Docker in to ghcr.io instead (private image).
#
# What production requires whatever the parameters say:
#   - TLS to PostgreSQL with the server's certificate and name verified against the RDS
#     CA bundle that the image carries (PGSSLMODE=verify-full, PGSSLROOTCERT);
#   - an API key: without a non-empty TXN_API_KEY no .env is written and it exits 1;
#   - simulated data only when asked for (TXN_GENERATE_DAILY=false unless a parameter
#     says otherwise).
set -euo pipefail
PATH=/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

host_conf=/etc/txn/host.conf
app_dir=/opt/txn
rds_ca_bundle=/etc/ssl/certs/rds-global-bundle.pem

# REGION, SSM_PATH, IMAGE_REPOSITORY, IMAGE_TAG (no secrets)
# shellcheck source=/dev/null
. "$host_conf"

tag="$IMAGE_TAG"
if [ -s "$app_dir/IMAGE_TAG" ]; then
  tag="$(cat "$app_dir/IMAGE_TAG")"
fi

params="$(aws ssm get-parameters-by-path --region "$REGION" --path "$SSM_PATH" \
  --recursive --with-decryption --query 'Parameters[].[Name,Value]' --output text)"

umask 077
tmp="$(mktemp "$app_dir/.env.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

ghcr_user=""
ghcr_token=""
has_api_key=false
has_generate_daily=false
{
  echo "# Written by txn-render-env from SSM $SSM_PATH. Do not edit: changes are lost."
  echo "GITHUB_REPOSITORY=$IMAGE_REPOSITORY"
  echo "IMAGE_TAG=$tag"
  echo "AWS_DEFAULT_REGION=$REGION"
  echo "PGSSLMODE=verify-full"
  echo "PGSSLROOTCERT=$rds_ca_bundle"
} >"$tmp"

while IFS=$'\t' read -r name value; do
  [ -n "$name" ] || continue
  key="${name##*/}"
  case "$key" in
    GHCR_USER) ghcr_user="$value" ;;
    GHCR_TOKEN) ghcr_token="$value" ;;
    PGSSLMODE | PGSSLROOTCERT)
      echo "ignoring $name: TLS to the database is always verify-full here" >&2
      ;;
    '' | [0-9]* | *[!A-Za-z0-9_]*)
      echo "skipping $name: not a variable name" >&2
      ;;
    *)
      if [[ "$value" == *"'"* ]]; then
        echo "skipping $name: its value contains a single quote" >&2
        continue
      fi
      case "$key" in
        TXN_API_KEY) [ -z "$value" ] || has_api_key=true ;;
        TXN_GENERATE_DAILY) has_generate_daily=true ;;
      esac
      printf "%s='%s'\n" "$key" "$value" >>"$tmp"
      ;;
  esac
done <<<"$params"

if [ "$has_api_key" != true ]; then
  echo "refusing to write $app_dir/.env: no TXN_API_KEY (or an empty one) under SSM $SSM_PATH;" \
    "the API must not run in production without a key (terraform apply creates it)" >&2
  exit 1
fi
if [ "$has_generate_daily" != true ]; then
  echo "TXN_GENERATE_DAILY=false" >>"$tmp"
fi

chmod 0600 "$tmp"
mv -f "$tmp" "$app_dir/.env"
trap - EXIT

if [ -n "$ghcr_token" ]; then
  printf '%s' "$ghcr_token" |
    docker login ghcr.io --username "${ghcr_user:-token}" --password-stdin >/dev/null
fi
echo "wrote $app_dir/.env (image tag $tag)"
