package rosbag2

// #cgo pkg-config: sqlite3
// #include <stdlib.h>
// #include <sqlite3.h>
// static int bind_text(sqlite3_stmt *s, int i, const char *v) { return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT); }
// static int bind_blob(sqlite3_stmt *s, int i, const void *v, int n) { return sqlite3_bind_blob(s, i, v, n, SQLITE_TRANSIENT); }
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// db is a minimal binding to the system's libsqlite3: what reading (and,
// for tests and tools, writing) rosbag2's .db3 storage needs.
type db struct{ h *C.sqlite3 }

func openDB(path string, readOnly bool) (*db, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	flags := C.int(C.SQLITE_OPEN_READONLY)
	if !readOnly {
		flags = C.SQLITE_OPEN_READWRITE | C.SQLITE_OPEN_CREATE
	}
	var h *C.sqlite3
	if rc := C.sqlite3_open_v2(cp, &h, flags, nil); rc != C.SQLITE_OK {
		err := fmt.Errorf("rosbag2: open %s: %s", path, C.GoString(C.sqlite3_errstr(rc)))
		C.sqlite3_close(h)
		return nil, err
	}
	return &db{h: h}, nil
}

func (d *db) close() error {
	if rc := C.sqlite3_close(d.h); rc != C.SQLITE_OK {
		return fmt.Errorf("rosbag2: close: %s", C.GoString(C.sqlite3_errstr(rc)))
	}
	return nil
}

func (d *db) errf(what string) error {
	return fmt.Errorf("rosbag2: %s: %s", what, C.GoString(C.sqlite3_errmsg(d.h)))
}

// exec runs SQL without results.
func (d *db) exec(sql string) error {
	cs := C.CString(sql)
	defer C.free(unsafe.Pointer(cs))
	if rc := C.sqlite3_exec(d.h, cs, nil, nil, nil); rc != C.SQLITE_OK {
		return d.errf(sql)
	}
	return nil
}

// stmt is a prepared statement.
type stmt struct {
	d *db
	s *C.sqlite3_stmt
}

func (d *db) prepare(sql string) (*stmt, error) {
	cs := C.CString(sql)
	defer C.free(unsafe.Pointer(cs))
	var s *C.sqlite3_stmt
	if rc := C.sqlite3_prepare_v2(d.h, cs, -1, &s, nil); rc != C.SQLITE_OK {
		return nil, d.errf("prepare " + sql)
	}
	return &stmt{d: d, s: s}, nil
}

// bind binds args (int64, string, []byte) to ?1, ?2, ...
func (s *stmt) bind(args ...any) error {
	C.sqlite3_reset(s.s)
	for i, a := range args {
		var rc C.int
		switch v := a.(type) {
		case int64:
			rc = C.sqlite3_bind_int64(s.s, C.int(i+1), C.sqlite3_int64(v))
		case string:
			cs := C.CString(v)
			rc = C.bind_text(s.s, C.int(i+1), cs)
			C.free(unsafe.Pointer(cs))
		case []byte:
			if len(v) == 0 {
				rc = C.bind_blob(s.s, C.int(i+1), nil, 0)
			} else {
				rc = C.bind_blob(s.s, C.int(i+1), unsafe.Pointer(&v[0]), C.int(len(v)))
			}
		default:
			return fmt.Errorf("rosbag2: cannot bind %T", a)
		}
		if rc != C.SQLITE_OK {
			return s.d.errf("bind")
		}
	}
	return nil
}

// errDone ends a result set.
var errDone = errors.New("done")

// step advances to the next row (errDone after the last).
func (s *stmt) step() error {
	switch rc := C.sqlite3_step(s.s); rc {
	case C.SQLITE_ROW:
		return nil
	case C.SQLITE_DONE:
		return errDone
	default:
		return s.d.errf("step")
	}
}

func (s *stmt) int64(col int) int64 { return int64(C.sqlite3_column_int64(s.s, C.int(col))) }

func (s *stmt) text(col int) string {
	p := C.sqlite3_column_text(s.s, C.int(col))
	if p == nil {
		return ""
	}
	return C.GoString((*C.char)(unsafe.Pointer(p)))
}

// blob copies column col.
func (s *stmt) blob(col int) []byte {
	p := C.sqlite3_column_blob(s.s, C.int(col))
	n := C.sqlite3_column_bytes(s.s, C.int(col))
	if p == nil || n <= 0 {
		return nil
	}
	return C.GoBytes(p, n)
}

func (s *stmt) close() { C.sqlite3_finalize(s.s) }
