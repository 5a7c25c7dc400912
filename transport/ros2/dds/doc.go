// Package dds is the DDS layer of the ROS 2 transport: Eclipse Cyclone DDS
// (the DDS under ROS 2's rmw_cyclonedds_cpp) through cgo, moving opaque
// CDR byte strings. Types are described to DDS only by name
// (pkg::msg::dds_::Name_) and are keyless; Go serialises and deserialises
// the bytes (package bag/cdr), so DDS never needs generated type support
// and an image is copied once on the way out (Go buffer to the serdata)
// and once on the way in (serdata to the decoded message).
//
// Build: cgo with `pkg-config CycloneDDS` (Debian cyclonedds-dev, which
// scripts/install.sh installs).
package dds
