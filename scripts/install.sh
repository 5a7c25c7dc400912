#!/usr/bin/env bash
# install.sh — idempotent setup for vla3d on Debian 12 (run as root, or with sudo available).
#
# Installs only what is missing:
#   1. Debian packages: ROS 1 tools (roscore, rostopic, rosbag, roslaunch), MuJoCo, OSMesa,
#      Cyclone DDS (the ROS 2 transport) and eProsima Fast DDS + g++ + iproute2 (the
#      independent ROS 2 peer the interop tests build, in their own network namespace).
#   2. ONNX Runtime CPU library, taken from the npm package onnxruntime-node@1.30.0's tarball
#      (its install script is never run) into .deps/onnxruntime/ in the project.
#   3. Go modules (pinned in go.mod/go.sum) through the Go module proxy.
# A second run is a no-op. Nothing is downloaded from anywhere but Debian's packages,
# the npm registry and the Go module proxy.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORT_VERSION="1.30.0"
ORT_DIR="$ROOT/.deps/onnxruntime"
ORT_LIB="$ORT_DIR/libonnxruntime.so.1"

log() { printf '[install] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

APT_PKGS=(ros-core python3-sensor-msgs python3-geometry-msgs python3-std-msgs
          python3-diagnostic-msgs python3-trajectory-msgs
          libmujoco-dev libosmesa6-dev gcc pkg-config
          cyclonedds-dev libsqlite3-dev
          libfastrtps-dev libfastcdr-dev g++ iproute2)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm is needed only to fetch the ONNX Runtime tarball.
if [ ! -f "$ORT_LIB" ] && ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt packages missing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages present"
fi

if [ ! -f "$ORT_LIB" ]; then
  log "fetching onnxruntime-node@$ORT_VERSION tarball from the npm registry (install script not run)"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
  mkdir -p "$ORT_DIR"
  tar -xzf "$tmp/onnxruntime-node-$ORT_VERSION.tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  install -m 0644 "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_LIB"
  echo "$ORT_VERSION" > "$ORT_DIR/VERSION"
else
  log "ONNX Runtime present: $ORT_LIB"
fi

if ! command -v go >/dev/null 2>&1; then
  log "Go 1.26 is required (go1.26 or newer on PATH); this machine has none"
  exit 1
fi
log "Go modules"
(cd "$ROOT" && go mod download)
log "done"
