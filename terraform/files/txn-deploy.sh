#!/usr/bin/env bash
# Deploys one image tag on the Docker host, run by the CD workflow over SSH:
#   sudo bash txn-deploy.sh TAG [NEW_COMPOSE_FILE]
# It installs itself as /usr/local/bin/txn-deploy, so a rollback on the host is
#   sudo txn-deploy OLDER_TAG
# Pulls the image, runs the migrations once, then recreates one service at a time and
# waits for each to be healthy; the API is checked after every step, so a bad release
# stops before it reaches the API container.
set -euo pipefail
PATH=/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

tag="${1:?usage: txn-deploy TAG [NEW_COMPOSE_FILE]}"
new_compose="${2:-}"
app_dir=/opt/txn
self="$(readlink -f "$0")"
if [ "$self" != /usr/local/bin/txn-deploy ]; then
  install -m 0755 "$self" /usr/local/bin/txn-deploy
fi
cd "$app_dir"

if [ -n "$new_compose" ]; then
  install -m 0644 "$new_compose" "$app_dir/docker-compose.yml"
fi
echo "$tag" >"$app_dir/IMAGE_TAG"
/usr/local/bin/txn-render-env

api_port="$(sed -n "s/^TXN_API_PORT='\{0,1\}\([0-9][0-9]*\)'\{0,1\}$/\1/p" .env)"
api_port="${api_port:-80}"

api_answers() {
  curl --fail --silent --show-error --output /dev/null --max-time 5 \
    "http://127.0.0.1:${api_port}/health"
}

# Waits until the service's container reports healthy (or fails on unhealthy/exited).
wait_healthy() {
  local service="$1" deadline=$((SECONDS + ${2:-600})) container status
  while true; do
    container="$(docker compose ps --quiet "$service")"
    status="$(docker inspect --format \
      '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' \
      "$container" 2>/dev/null || echo missing)"
    case "$status" in
      healthy)
        echo "$service is healthy"
        return 0
        ;;
      unhealthy | exited | dead)
        echo "$service is $status" >&2
        docker compose logs --tail 80 "$service" >&2
        return 1
        ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$service not healthy in time (last status: $status)" >&2
      docker compose logs --tail 80 "$service" >&2
      return 1
    fi
    sleep 3
  done
}

echo "pulling image tag $tag"
docker compose pull --quiet

echo "running migrations"
docker compose run --rm --no-deps migrate

# One service at a time: the API keeps answering while the Dagster services restart,
# and is itself swapped last, once everything behind it is healthy.
for service in code-server daemon webserver api; do
  echo "recreating $service"
  docker compose up --detach --no-deps --no-build "$service"
  wait_healthy "$service" 600
  if ! api_answers; then
    echo "the API stopped answering after $service was recreated" >&2
    exit 1
  fi
done

# The API must keep answering for a while after the swap.
for _ in $(seq 1 10); do
  api_answers
  sleep 2
done

docker image prune --force --filter "until=168h" >/dev/null
echo "deployed $tag"
