package contract

// Instance label ids of the segmentation images (mono16, one id per pixel).
// Objects take ids in [LabelFirstObject, LabelRobot).
const (
	// LabelBackground is every pixel that is no object (table, walls, sky).
	LabelBackground uint16 = 0
	// LabelFirstObject is the smallest object id.
	LabelFirstObject uint16 = 1
	// LabelRobot marks the robot's own links (hand, fingers): never an
	// object to detect or complete.
	LabelRobot uint16 = 100
)

// IsObjectLabel reports whether id labels a scene object.
func IsObjectLabel(id uint16) bool { return id >= LabelFirstObject && id < LabelRobot }
