#!/usr/bin/env bash
# ament-install.sh PREFIX — lay the built binaries and the ROS 2 launch files
# out as an ament package prefix, so `ros2 launch vla3d ...` on a machine
# with ROS 2 finds them (no colcon build needed):
#   PREFIX/lib/vla3d/{vla3d-node,vla3d-sim}
#   PREFIX/share/vla3d/{package.xml,ros2/*.launch.xml,ros2/*.params.yaml}
#   PREFIX/share/ament_index/resource_index/packages/vla3d
# then: export AMENT_PREFIX_PATH=PREFIX:$AMENT_PREFIX_PATH
set -euo pipefail
prefix="${1:?usage: scripts/ament-install.sh PREFIX}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$prefix/lib/vla3d" "$prefix/share/vla3d/ros2" "$prefix/share/ament_index/resource_index/packages"
(cd "$root" && go build -o "$prefix/lib/vla3d/" ./cmd/vla3d-node ./cmd/vla3d-sim ./cmd/vla3d-topic)
install -m 0644 "$root/launch/package.xml" "$prefix/share/vla3d/package.xml"
install -m 0644 "$root"/launch/ros2/*.launch.xml "$root"/launch/ros2/*.params.yaml "$prefix/share/vla3d/ros2/"
: > "$prefix/share/ament_index/resource_index/packages/vla3d"
echo "installed vla3d into $prefix; export AMENT_PREFIX_PATH=$prefix:\$AMENT_PREFIX_PATH" >&2
