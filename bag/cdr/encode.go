package cdr

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"time"
)

// Encode serializes src (a pointer to a goroslib message struct) as a ROS 2
// little-endian CDR payload, encapsulation header included. It is the
// inverse of Decode; it lets tests and tools write ROS 2 style MCAP files.
func Encode(src any) ([]byte, error) { return AppendEncode(nil, src) }

// AppendEncode is Encode writing into buf[:0]'s storage (growing it when
// needed), so a publisher can reuse one buffer for every message.
func AppendEncode(buf []byte, src any) ([]byte, error) {
	rv := reflect.ValueOf(src)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("cdr: source %T is not a pointer to a struct", src)
	}
	e := encoder{b: append(buf[:0], 0x00, 0x01, 0x00, 0x00)}
	if err := e.value(rv.Elem()); err != nil {
		return nil, fmt.Errorf("cdr: %s: %w", rv.Elem().Type(), err)
	}
	return e.b, nil
}

type encoder struct{ b []byte }

func (e *encoder) align(n int) {
	for (len(e.b)-4)%n != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) u32(v uint32) {
	e.align(4)
	e.b = binary.LittleEndian.AppendUint32(e.b, v)
}

func (e *encoder) value(v reflect.Value) error {
	switch v.Type() {
	case typeTime:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			e.u32(0)
			e.u32(0)
		} else {
			e.u32(uint32(int32(t.Unix())))
			e.u32(uint32(t.Nanosecond()))
		}
		return nil
	case typeDuration:
		d := time.Duration(v.Int())
		sec := d / time.Second
		nsec := d % time.Second
		if nsec < 0 {
			sec--
			nsec += time.Second
		}
		e.u32(uint32(int32(sec)))
		e.u32(uint32(nsec))
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			e.b = append(e.b, 1)
		} else {
			e.b = append(e.b, 0)
		}
	case reflect.Int8:
		e.b = append(e.b, byte(v.Int()))
	case reflect.Uint8:
		e.b = append(e.b, byte(v.Uint()))
	case reflect.Int16:
		e.align(2)
		e.b = binary.LittleEndian.AppendUint16(e.b, uint16(v.Int()))
	case reflect.Uint16:
		e.align(2)
		e.b = binary.LittleEndian.AppendUint16(e.b, uint16(v.Uint()))
	case reflect.Int32:
		e.u32(uint32(v.Int()))
	case reflect.Uint32:
		e.u32(uint32(v.Uint()))
	case reflect.Float32:
		e.u32(math.Float32bits(float32(v.Float())))
	case reflect.Int64, reflect.Uint64, reflect.Float64:
		e.align(8)
		var u uint64
		switch v.Kind() {
		case reflect.Int64:
			u = uint64(v.Int())
		case reflect.Uint64:
			u = v.Uint()
		default:
			u = math.Float64bits(v.Float())
		}
		e.b = binary.LittleEndian.AppendUint64(e.b, u)
	case reflect.String:
		s := v.String()
		e.u32(uint32(len(s) + 1))
		e.b = append(e.b, s...)
		e.b = append(e.b, 0)
	case reflect.Slice:
		e.u32(uint32(v.Len()))
		if v.Type().Elem().Kind() == reflect.Uint8 {
			e.b = append(e.b, v.Bytes()...)
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && (f.Type == typePackage || f.Type == typeName || f.Type == typeDefs) {
				continue
			}
			if t == typeHeader && f.Name == "Seq" {
				continue
			}
			if err := e.value(v.Field(i)); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
	default:
		return fmt.Errorf("unsupported field kind %s", v.Kind())
	}
	return nil
}
