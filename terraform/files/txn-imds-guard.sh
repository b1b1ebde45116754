#!/usr/bin/env bash
# Lets only the containers on the `txn-aws` Docker network reach the EC2 instance metadata
# service, and so the instance role's credentials (S3 landing zone, SSM parameters).
# docker-compose.yml attaches the API and the code server, the two services that use S3,
# to that network and names its bridge `txn-aws`; every other container (webserver,
# daemon, migrations, the reverse proxy, anything started by hand) is refused.
#
# The rule sits in DOCKER-USER, the chain Docker runs before its own forwarding rules and
# never rewrites. It lives in the kernel only, so it is put back at every boot by
# txn-imds-guard.service (ordered before docker.service, which cannot start without it),
# and again before the stack starts and at every deploy. Safe to run any number of times.
# The host's own processes (txn-render-env's AWS CLI) do not cross FORWARD: unaffected.
set -euo pipefail
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

metadata=169.254.169.254/32
aws_bridge=txn-aws
chain=DOCKER-USER

# Before Docker's first start after a boot the chain does not exist yet: create it, and
# Docker keeps it (and its rules) when it sets up its own.
if ! iptables -w -n -L "$chain" >/dev/null 2>&1; then
  iptables -w -N "$chain"
fi

rule=(-d "$metadata" ! -i "$aws_bridge" -m comment
  --comment "txn: metadata service only from the $aws_bridge bridge" -j REJECT)
if ! iptables -w -C "$chain" "${rule[@]}" 2>/dev/null; then
  iptables -w -I "$chain" 1 "${rule[@]}"
fi
echo "metadata service: containers reach $metadata only from the $aws_bridge bridge"
