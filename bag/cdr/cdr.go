// Package cdr decodes ROS 2 messages serialized in OMG CDR (XCDR1, as
// written by rmw into MCAP recordings) into goroslib's ROS 1 message structs,
// so ROS 2 recordings feed the same pipeline as ROS 1 bags.
//
// Layout rules: a 4-byte encapsulation header (0x00 0x01 little endian,
// 0x00 0x00 big endian) precedes the body; every primitive is aligned to its
// own size counted from the end of that header; strings are a uint32 length
// that includes a terminating NUL; sequences are a uint32 count then the
// elements; fixed arrays are the elements only. builtin_interfaces/Time and
// Duration are int32 sec + uint32 nanosec. The one structural difference from
// ROS 1 among the common types is std_msgs/Header, which lost its seq field in
// ROS 2; it is skipped here (left zero).
package cdr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msg"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
)

// ErrShort reports a payload that ends before the message does.
var ErrShort = errors.New("cdr: payload too short")

var (
	typeTime     = reflect.TypeOf(time.Time{})
	typeDuration = reflect.TypeOf(time.Duration(0))
	typeHeader   = reflect.TypeOf(std_msgs.Header{})
	typePackage  = reflect.TypeOf(msg.Package(0))
	typeName     = reflect.TypeOf(msg.Name(0))
	typeDefs     = reflect.TypeOf(msg.Definitions(0))
)

type decoder struct {
	b   []byte // body, after the encapsulation header
	off int
	bo  binary.ByteOrder
}

// Decode fills dest, a pointer to a goroslib message struct, from a CDR
// payload (encapsulation header included).
func Decode(data []byte, dest any) error {
	rv := reflect.ValueOf(dest)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("cdr: destination %T is not a pointer to a struct", dest)
	}
	if len(data) < 4 {
		return fmt.Errorf("cdr: encapsulation header: %w", ErrShort)
	}
	d := decoder{b: data[4:]}
	switch data[1] {
	case 0x00:
		d.bo = binary.BigEndian
	case 0x01:
		d.bo = binary.LittleEndian
	default:
		return fmt.Errorf("cdr: unsupported encapsulation kind 0x%02x%02x (want plain CDR)", data[0], data[1])
	}
	if data[0] != 0 {
		return fmt.Errorf("cdr: unsupported encapsulation kind 0x%02x%02x (want plain CDR)", data[0], data[1])
	}
	if err := d.value(rv.Elem()); err != nil {
		return fmt.Errorf("cdr: %s: %w", rv.Elem().Type(), err)
	}
	// Up to 3 bytes of trailing alignment padding are legal.
	if rest := len(d.b) - d.off; rest > 3 {
		return fmt.Errorf("cdr: %s: %d bytes left over (type mismatch?)", rv.Elem().Type(), rest)
	}
	return nil
}

func (d *decoder) take(n, align int) ([]byte, error) {
	if align > 1 {
		if r := d.off % align; r != 0 {
			d.off += align - r
		}
	}
	if n < 0 || d.off+n > len(d.b) || d.off+n < d.off {
		return nil, ErrShort
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s, nil
}

func (d *decoder) u32() (uint32, error) {
	b, err := d.take(4, 4)
	if err != nil {
		return 0, err
	}
	return d.bo.Uint32(b), nil
}

// count reads a sequence/string length and bounds it by the bytes left, so a
// corrupt length cannot trigger a huge allocation.
func (d *decoder) count(elemSize int) (int, error) {
	n, err := d.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(max(elemSize, 1)) > uint64(len(d.b)-d.off) {
		return 0, fmt.Errorf("length %d exceeds the %d bytes left: %w", n, len(d.b)-d.off, ErrShort)
	}
	return int(n), nil
}

func (d *decoder) value(v reflect.Value) error {
	switch v.Type() {
	case typeTime:
		sec, err := d.u32()
		if err != nil {
			return err
		}
		nsec, err := d.u32()
		if err != nil {
			return err
		}
		if sec == 0 && nsec == 0 {
			v.Set(reflect.ValueOf(time.Time{})) // goroslib's convention for ROS time 0
		} else {
			v.Set(reflect.ValueOf(time.Unix(int64(int32(sec)), int64(nsec)).UTC()))
		}
		return nil
	case typeDuration:
		sec, err := d.u32()
		if err != nil {
			return err
		}
		nsec, err := d.u32()
		if err != nil {
			return err
		}
		v.SetInt(int64(int32(sec))*int64(time.Second) + int64(nsec))
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		b, err := d.take(1, 1)
		if err != nil {
			return err
		}
		v.SetBool(b[0] != 0)
	case reflect.Int8:
		b, err := d.take(1, 1)
		if err != nil {
			return err
		}
		v.SetInt(int64(int8(b[0])))
	case reflect.Uint8:
		b, err := d.take(1, 1)
		if err != nil {
			return err
		}
		v.SetUint(uint64(b[0]))
	case reflect.Int16, reflect.Uint16:
		b, err := d.take(2, 2)
		if err != nil {
			return err
		}
		if v.Kind() == reflect.Int16 {
			v.SetInt(int64(int16(d.bo.Uint16(b))))
		} else {
			v.SetUint(uint64(d.bo.Uint16(b)))
		}
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		b, err := d.take(4, 4)
		if err != nil {
			return err
		}
		u := d.bo.Uint32(b)
		switch v.Kind() {
		case reflect.Int32:
			v.SetInt(int64(int32(u)))
		case reflect.Uint32:
			v.SetUint(uint64(u))
		default:
			v.SetFloat(float64(math.Float32frombits(u)))
		}
	case reflect.Int64, reflect.Uint64, reflect.Float64:
		b, err := d.take(8, 8)
		if err != nil {
			return err
		}
		u := d.bo.Uint64(b)
		switch v.Kind() {
		case reflect.Int64:
			v.SetInt(int64(u))
		case reflect.Uint64:
			v.SetUint(u)
		default:
			v.SetFloat(math.Float64frombits(u))
		}
	case reflect.String:
		n, err := d.count(1)
		if err != nil {
			return err
		}
		b, err := d.take(n, 1)
		if err != nil {
			return err
		}
		if n > 0 && b[n-1] == 0 {
			b = b[:n-1]
		}
		v.SetString(string(b))
	case reflect.Slice:
		return d.slice(v)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := d.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		return d.structure(v)
	default:
		return fmt.Errorf("unsupported field kind %s", v.Kind())
	}
	return nil
}

func (d *decoder) slice(v reflect.Value) error {
	et := v.Type().Elem()
	if et.Kind() == reflect.Uint8 {
		n, err := d.count(1)
		if err != nil {
			return err
		}
		b, err := d.take(n, 1)
		if err != nil {
			return err
		}
		v.SetBytes(append([]byte(nil), b...))
		return nil
	}
	minSize := 1
	switch et.Kind() {
	case reflect.Int16, reflect.Uint16:
		minSize = 2
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		minSize = 4
	case reflect.Int64, reflect.Uint64, reflect.Float64:
		minSize = 8
	}
	n, err := d.count(minSize)
	if err != nil {
		return err
	}
	s := reflect.MakeSlice(v.Type(), n, n)
	for i := 0; i < n; i++ {
		if err := d.value(s.Index(i)); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

func (d *decoder) structure(v reflect.Value) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && (f.Type == typePackage || f.Type == typeName || f.Type == typeDefs) {
			continue
		}
		if t == typeHeader && f.Name == "Seq" {
			continue // ROS 2 Header has no seq
		}
		if err := d.value(v.Field(i)); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return nil
}
