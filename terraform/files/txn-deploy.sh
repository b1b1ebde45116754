#!/usr/bin/env bash
# Deploys one image tag on the Docker host, run by the CD workflow over SSH:
#   sudo bash txn-deploy.sh TAG [NEW_COMPOSE_FILE]
# It installs itself as /usr/local/bin/txn-deploy, so a rollback on the host is
#   sudo txn-deploy OLDER_TAG
# Copied beside it, the other host files of terraform/files (the .env renderer, the
# metadata guard and the systemd units) and the proxy's Caddyfile are installed too: the
# host's user data is only read at its first boot, so this is how a running host gets
# their new versions.
#
# Pulls the image, runs the migrations once, then recreates the Dagster services one at a
# time, waiting for each to be healthy and checking the API after every step, so a bad
# release stops before it reaches the API. The API itself is replaced without a gap: the
# new container starts beside the old one, the proxy switches to it once it is ready
# (`caddy reload`), and only then does the old one stop, finishing what it was serving.
set -euo pipefail
PATH=/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

tag="${1:?usage: txn-deploy TAG [NEW_COMPOSE_FILE]}"
new_compose="${2:-}"
app_dir=/opt/txn
self="$(readlink -f "$0")"
if [ "$self" != /usr/local/bin/txn-deploy ]; then
  install -m 0755 "$self" /usr/local/bin/txn-deploy
  from="$(dirname "$self")"
  for script in txn-render-env txn-imds-guard; do
    if [ -f "$from/$script.sh" ]; then
      install -m 0755 "$from/$script.sh" "/usr/local/bin/$script"
    fi
  done
  for unit in txn-imds-guard.service txn-platform.service; do
    if [ -f "$from/$unit" ]; then
      install -m 0644 "$from/$unit" "/etc/systemd/system/$unit"
    fi
  done
  if [ -f "$from/Caddyfile" ]; then
    install -D -m 0644 "$from/Caddyfile" "$app_dir/docker/Caddyfile"
  fi
  systemctl daemon-reload
  if [ -f /etc/systemd/system/txn-imds-guard.service ]; then
    systemctl enable --quiet txn-imds-guard.service
  fi
fi
cd "$app_dir"

# Before any container is recreated: only the txn-aws network reaches the metadata service.
/usr/local/bin/txn-imds-guard

if [ -n "$new_compose" ]; then
  install -m 0644 "$new_compose" "$app_dir/docker-compose.yml"
fi
echo "$tag" >"$app_dir/IMAGE_TAG"
/usr/local/bin/txn-render-env

containers_of() {
  docker compose ps --quiet "$1"
}

# Asked inside an API container (the first, or the one given): the API publishes no port
# of its own, and the answer must not depend on the proxy or on DNS.
api_answers() {
  local container="${1:-$(containers_of api | head -n 1)}"
  docker exec "$container" python -c \
    'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8000/readyz", timeout=5)'
}

# Waits until the container reports healthy (or fails on unhealthy/exited); a container
# without a health check counts once it runs.
wait_healthy() {
  local label="$1" container="$2" deadline=$((SECONDS + ${3:-600})) status
  while true; do
    status="$(docker inspect --format \
      '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' \
      "$container" 2>/dev/null || echo missing)"
    case "$status" in
      healthy | running)
        echo "$label is $status"
        return 0
        ;;
      unhealthy | exited | dead)
        echo "$label is $status" >&2
        docker logs --tail 80 "$container" >&2
        return 1
        ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$label not healthy in time (last status: $status)" >&2
      docker logs --tail 80 "$container" >&2
      return 1
    fi
    sleep 3
  done
}

recreate() {
  local service="$1"
  echo "recreating $service"
  docker compose up --detach --no-deps --no-build "$service"
  wait_healthy "$service" "$(containers_of "$service" | head -n 1)" "${2:-600}"
}

proxy_reload() {
  docker compose exec -T "$@" proxy caddy reload --config /etc/txn-proxy/Caddyfile --adapter caddyfile
}

# The API without a gap (docs/deployment.md, "Deploying the API without downtime"):
# `--scale api=2 --no-recreate` starts one container of the new release beside the
# running one; the proxy is pointed at it by name (TXN_API_UPSTREAM, read by `caddy
# reload` from its environment) once /readyz answers; the old container then gets
# `docker stop`, which lets it finish its requests (stop_grace_period), and the proxy goes
# back to the service name. Without a running proxy (a first deploy) the API is simply
# recreated.
swap_api() {
  local old new name
  old="$(containers_of api)"
  if [ -z "$old" ] || [ -z "$(containers_of proxy)" ]; then
    recreate api
    return
  fi
  echo "starting the new API beside the old one"
  docker compose up --detach --no-deps --no-build --no-recreate --scale api=2 api
  new="$(containers_of api | grep -vxF "$old" | head -n 1)"
  if ! wait_healthy "the new api" "$new" 600 || ! api_answers "$new"; then
    # out of the `api` name the proxy may resolve, before anything else happens
    docker rm --force "$new" >/dev/null
    echo "the new API never got ready: the old one keeps serving" >&2
    exit 1
  fi
  name="$(docker inspect --format '{{.Name}}' "$new")"
  echo "switching the proxy to ${name#/}"
  proxy_reload -e "TXN_API_UPSTREAM=${name#/}:8000"
  echo "stopping the old API"
  # shellcheck disable=SC2086 # one id per line
  docker stop $old >/dev/null
  # shellcheck disable=SC2086
  docker rm $old >/dev/null
  proxy_reload
}

echo "pulling image tag $tag"
docker compose pull --quiet

echo "running migrations"
docker compose run --rm --no-deps migrate

# One service at a time: the API keeps answering while the Dagster services restart,
# and is itself swapped last, once everything behind it is healthy.
for service in code-server daemon webserver; do
  recreate "$service"
  if ! api_answers; then
    echo "the API stopped answering after $service was recreated" >&2
    exit 1
  fi
done
swap_api

# Then whatever else the compose file runs (the reverse proxy), in the same way.
services="$(docker compose config --services)"
core_services='^(postgres|migrate|code-server|daemon|webserver|api)$'
for service in $(grep -Ev "$core_services" <<<"$services" || true); do
  recreate "$service" 300
done
# A proxy left running keeps the Caddyfile it loaded: it reads the new one (a no-op when
# nothing changed).
if grep -qx proxy <<<"$services"; then
  proxy_reload
fi

# The API must keep answering for a while after the swap.
for _ in $(seq 1 10); do
  api_answers
  sleep 2
done

docker image prune --force --filter "until=168h" >/dev/null
echo "deployed $tag"
