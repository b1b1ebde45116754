#!/usr/bin/env bash
# First boot of the Docker host, run by cloud-init: Docker Engine with the compose plugin,
# the metadata guard (only the `txn-aws` Docker network reaches the instance role), the
# AWS CLI, then the platform's systemd unit, which reads the secrets from SSM and starts
# the stack. Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PATH=/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The Elastic IP may be attached a few seconds after boot: retry network steps.
retry() {
  local attempt=1
  until "$@"; do
    if [ "$attempt" -ge 10 ]; then
      echo "giving up: $*" >&2
      return 1
    fi
    sleep $((attempt * 6))
    attempt=$((attempt + 1))
  done
}

# Docker Engine and the compose plugin from Docker's signed apt repository.
if ! docker compose version >/dev/null 2>&1; then
  retry apt-get update -q
  retry apt-get install -y -q ca-certificates curl
  install -m 0755 -d /etc/apt/keyrings
  retry curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc
  chmod a+r /etc/apt/keyrings/docker.asc
  # shellcheck source=/dev/null
  codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
  echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu $codename stable" \
    >/etc/apt/sources.list.d/docker.list
  retry apt-get update -q
  retry apt-get install -y -q docker-ce docker-ce-cli containerd.io docker-compose-plugin
fi
systemctl enable --now docker
usermod -aG docker ubuntu

# The metadata guard: now, and at every boot before Docker starts (its unit is required
# by docker.service). Not `systemctl restart`: that would restart Docker as well.
systemctl daemon-reload
systemctl enable txn-imds-guard.service
/usr/local/bin/txn-imds-guard
systemctl start txn-imds-guard.service

# AWS CLI v2: reads the SSM parameters with the instance role.
if ! command -v aws >/dev/null 2>&1; then
  retry snap install aws-cli --classic
fi

# The image tag this host runs; every deploy moves it.
# shellcheck source=/dev/null
. /etc/txn/host.conf
install -d -m 0755 /opt/txn
if [ ! -s /opt/txn/IMAGE_TAG ]; then
  echo "$IMAGE_TAG" >/opt/txn/IMAGE_TAG
fi

systemctl daemon-reload
systemctl enable txn-platform.service
retry systemctl start txn-platform.service
