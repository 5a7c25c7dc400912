package bag

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"reflect"
	"sync"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgproc"
	"github.com/bluenviron/goroslib/v2/pkg/protocommon"
)

// TypeInfo is the ROS identity of a goroslib message struct type.
type TypeInfo struct {
	Type   string
	MD5Sum string
	Def    string
}

// TypeCache memoises TypeInfo per Go type: computing an md5sum walks the
// whole message definition, too slow to repeat per message.
type TypeCache struct {
	mu sync.Mutex
	m  map[reflect.Type]TypeInfo
}

// Info returns the ROS type, md5sum and definition of msg (a goroslib message
// struct or a pointer to one).
func (tc *TypeCache) Info(msg any) (TypeInfo, error) {
	rt := reflect.TypeOf(msg)
	for rt != nil && rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	if rt == nil || rt.Kind() != reflect.Struct {
		return TypeInfo{}, fmt.Errorf("bag: %T is not a message struct", msg)
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if ti, ok := tc.m[rt]; ok {
		return ti, nil
	}
	zero := reflect.New(rt).Elem().Interface()
	var ti TypeInfo
	var err error
	if ti.Type, err = msgproc.Type(zero); err != nil {
		return TypeInfo{}, fmt.Errorf("bag: type of %s: %w", rt, err)
	}
	if ti.MD5Sum, err = msgproc.MD5(zero); err != nil {
		return TypeInfo{}, fmt.Errorf("bag: md5 of %s: %w", rt, err)
	}
	if ti.Def, err = msgproc.Definition(zero); err != nil {
		return TypeInfo{}, fmt.Errorf("bag: definition of %s: %w", rt, err)
	}
	if tc.m == nil {
		tc.m = map[reflect.Type]TypeInfo{}
	}
	tc.m[rt] = ti
	return ti, nil
}

// EncodeROS1 serializes a goroslib message struct pointer in ROS 1 wire
// format (without the 4-byte length prefix that TCPROS adds).
func EncodeROS1(msg any) ([]byte, error) {
	var buf bytes.Buffer
	if err := protocommon.MessageEncode(&buf, msg); err != nil {
		return nil, fmt.Errorf("bag: encode %T: %w", msg, err)
	}
	return buf.Bytes()[4:], nil
}

// DecodeROS1 deserializes ROS 1 wire bytes into dest, a pointer to a
// goroslib message struct, requiring every byte to be consumed.
func DecodeROS1(data []byte, dest any) error {
	var pre [4]byte
	binary.LittleEndian.PutUint32(pre[:], uint32(len(data)))
	r := io.MultiReader(bytes.NewReader(pre[:]), bytes.NewReader(data))
	if err := protocommon.MessageDecode(r, dest); err != nil {
		return fmt.Errorf("bag: decode %T: %w", dest, err)
	}
	return nil
}

// WriteMsg serializes msg (a pointer to a goroslib message struct) and writes
// it on topic, registering the connection on first use.
func (w *Writer) WriteMsg(topic string, t time.Time, msg any) error {
	ti, err := w.types.Info(msg)
	if err != nil {
		return err
	}
	c, err := w.Connection(topic, ti.Type, ti.MD5Sum, ti.Def, "", false)
	if err != nil {
		return err
	}
	data, err := EncodeROS1(msg)
	if err != nil {
		return err
	}
	return w.Write(c, t, data)
}
