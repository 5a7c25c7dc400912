// Package rosbag2 reads and writes ROS 2 recordings as `ros2 bag record`
// leaves them: a directory with metadata.yaml and storage files, MCAP
// (rosbag2_storage_mcap, the default from Iron on) or sqlite3 .db3 (the
// default up to Humble), messages in CDR. It presents them as a
// bag.Source, so training and evaluation take them exactly like ROS 1 bags.
package rosbag2

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MetadataFile is the name of a recording's metadata.
const MetadataFile = "metadata.yaml"

// Metadata is metadata.yaml's rosbag2_bagfile_information.
type Metadata struct {
	Version           int              `yaml:"version"`
	StorageIdentifier string           `yaml:"storage_identifier"`
	Duration          nanos            `yaml:"duration"`
	StartingTime      since            `yaml:"starting_time"`
	MessageCount      int              `yaml:"message_count"`
	Topics            []TopicWithCount `yaml:"topics_with_message_count"`
	CompressionFormat string           `yaml:"compression_format"`
	CompressionMode   string           `yaml:"compression_mode"`
	RelativeFilePaths []string         `yaml:"relative_file_paths"`
	Files             []FileInfo       `yaml:"files,omitempty"`
	RosDistro         string           `yaml:"ros_distro,omitempty"`
}

// TopicWithCount is one topic of the recording.
type TopicWithCount struct {
	Topic        TopicMetadata `yaml:"topic_metadata"`
	MessageCount int           `yaml:"message_count"`
}

// TopicMetadata describes a topic.
type TopicMetadata struct {
	Name                string `yaml:"name"`
	Type                string `yaml:"type"` // pkg/msg/Name
	SerializationFormat string `yaml:"serialization_format"`
	OfferedQoSProfiles  string `yaml:"offered_qos_profiles"`
}

// FileInfo describes one storage file.
type FileInfo struct {
	Path         string `yaml:"path"`
	StartingTime since  `yaml:"starting_time"`
	Duration     nanos  `yaml:"duration"`
	MessageCount int    `yaml:"message_count"`
}

type nanos struct {
	Nanoseconds int64 `yaml:"nanoseconds"`
}

type since struct {
	NanosecondsSinceEpoch int64 `yaml:"nanoseconds_since_epoch"`
}

type metadataFile struct {
	Info Metadata `yaml:"rosbag2_bagfile_information"`
}

// ReadMetadata reads dir/metadata.yaml.
func ReadMetadata(dir string) (Metadata, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err != nil {
		return Metadata{}, fmt.Errorf("rosbag2: %w", err)
	}
	var f metadataFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return Metadata{}, fmt.Errorf("rosbag2: %s: %w", filepath.Join(dir, MetadataFile), err)
	}
	m := f.Info
	if m.StorageIdentifier == "" {
		return m, fmt.Errorf("rosbag2: %s: no storage_identifier (not a rosbag2 metadata file?)", dir)
	}
	return m, nil
}

// Start is the recording's first message time.
func (m Metadata) Start() time.Time { return time.Unix(0, m.StartingTime.NanosecondsSinceEpoch) }

// IsRecording reports whether dir is a rosbag2 recording (has metadata.yaml).
func IsRecording(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, MetadataFile))
	return err == nil && !st.IsDir()
}

// qosProfile is the offered_qos_profiles text rosbag2 stores, which
// `ros2 bag play` uses to republish (transient local for latched topics).
func qosProfile(latched bool) string {
	rel, dur, depth := 1, 2, 0 // reliable, volatile
	if latched {
		dur, depth = 1, 1 // transient local
	}
	return strings.Join([]string{
		"- history: 1",
		fmt.Sprintf("  depth: %d", depth),
		fmt.Sprintf("  reliability: %d", rel),
		fmt.Sprintf("  durability: %d", dur),
		"  deadline:\n    sec: 2147483647\n    nsec: 4294967295",
		"  lifespan:\n    sec: 2147483647\n    nsec: 4294967295",
		"  liveliness: 1",
		"  liveliness_lease_duration:\n    sec: 2147483647\n    nsec: 4294967295",
		"  avoid_ros_namespace_conventions: false",
	}, "\n")
}

// writeMetadata writes m as dir/metadata.yaml.
func writeMetadata(dir string, m Metadata) error {
	b, err := yaml.Marshal(metadataFile{Info: m})
	if err != nil {
		return fmt.Errorf("rosbag2: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, MetadataFile), b, 0o644); err != nil {
		return fmt.Errorf("rosbag2: %w", err)
	}
	return nil
}
