package dataset

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/vla3d/vla3d/bag"
)

// headerStamp reads the std_msgs/Header stamp at the start of a stamped
// message's payload without decoding the rest (images are large and most
// are only needed once the synchronizer picks them). ROS 1 payloads start
// with seq (uint32) then the stamp; CDR payloads with the 4-byte
// encapsulation header then the stamp (ROS 2 has no seq).
func headerStamp(m bag.Message) (time.Time, error) {
	off := 4
	if len(m.Data) < off+8 {
		return time.Time{}, fmt.Errorf("dataset: %s: %d-byte message has no header", m.Conn.Topic, len(m.Data))
	}
	bo := binary.ByteOrder(binary.LittleEndian)
	if m.Conn.Encoding == "cdr" && m.Data[1] == 0 {
		bo = binary.BigEndian
	}
	sec := bo.Uint32(m.Data[off:])
	nsec := bo.Uint32(m.Data[off+4:])
	if nsec >= 1e9 {
		return time.Time{}, fmt.Errorf("dataset: %s: header stamp nanoseconds %d out of range", m.Conn.Topic, nsec)
	}
	return time.Unix(int64(sec), int64(nsec)).UTC(), nil
}
