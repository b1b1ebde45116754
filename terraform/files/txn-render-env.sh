#!/usr/bin/env bash
# Writes /opt/txn/.env from SSM Parameter Store: every parameter under $SSM_PATH becomes
# NAME='value', NAME being the last part of the parameter's name. Runs at every start of
# txn-platform.service and at every deploy, reading with the instance role: the secrets
# are stored nowhere else on the host, and never in user data.
# GHCR_USER and GHCR_TOKEN, when present, log Docker in to ghcr.io instead (private image).
set -euo pipefail
PATH=/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# REGION, SSM_PATH, IMAGE_REPOSITORY, IMAGE_TAG (no secrets)
# shellcheck source=/dev/null
. /etc/txn/host.conf

app_dir=/opt/txn
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
{
  echo "# Written by txn-render-env from SSM $SSM_PATH. Do not edit: changes are lost."
  echo "GITHUB_REPOSITORY=$IMAGE_REPOSITORY"
  echo "IMAGE_TAG=$tag"
  echo "AWS_DEFAULT_REGION=$REGION"
} >"$tmp"

while IFS=$'\t' read -r name value; do
  [ -n "$name" ] || continue
  key="${name##*/}"
  case "$key" in
    GHCR_USER) ghcr_user="$value" ;;
    GHCR_TOKEN) ghcr_token="$value" ;;
    '' | [0-9]* | *[!A-Za-z0-9_]*)
      echo "skipping $name: not a variable name" >&2
      ;;
    *)
      if [[ "$value" == *"'"* ]]; then
        echo "skipping $name: its value contains a single quote" >&2
      else
        printf "%s='%s'\n" "$key" "$value" >>"$tmp"
      fi
      ;;
  esac
done <<<"$params"

chmod 0600 "$tmp"
mv -f "$tmp" "$app_dir/.env"
trap - EXIT

if [ -n "$ghcr_token" ]; then
  printf '%s' "$ghcr_token" |
    docker login ghcr.io --username "${ghcr_user:-token}" --password-stdin >/dev/null
fi
echo "wrote $app_dir/.env (image tag $tag)"
