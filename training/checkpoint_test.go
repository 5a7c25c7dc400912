package training

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func ctxWithVars(t *testing.T, scale float32) *context.Context {
	t.Helper()
	ctx := context.New().Checked(false)
	ctx.InAbsPath("/action_expert/head").VariableWithValue("weights",
		tensors.FromFlatDataAndDimensions([]float32{1 * scale, 2 * scale, 3 * scale, 4 * scale, 5 * scale, 6 * scale}, 2, 3))
	ctx.InAbsPath("/optimizer").VariableWithValue("step", float32(scale)).SetTrainable(false)
	ctx.InAbsPath("/").VariableWithValue("counter", int64(42)).SetTrainable(false)
	return ctx
}

func TestCheckpointRoundTripKeepAndFallback(t *testing.T) {
	dir := t.TempDir()
	c := Checkpointer{Dir: dir, Keep: 2}
	for step := 1; step <= 3; step++ {
		if _, err := c.Save(ctxWithVars(t, float32(step)), State{Step: step * 10, Stage: Stage1, Cursor: step}); err != nil {
			t.Fatal(err)
		}
	}
	files, err := c.List()
	if err != nil || len(files) != 2 {
		t.Fatalf("kept %v (%v), want 2 files", files, err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(tmp) != 0 {
		t.Fatalf("temp files left: %v", tmp)
	}
	l, err := c.LoadLatest()
	if err != nil || l.State.Step != 30 || l.State.Cursor != 3 {
		t.Fatalf("latest = %+v, %v", l, err)
	}
	ctx := context.New()
	if err := l.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	w := tensors.MustCopyFlatData[float32](ctx.GetVariableByScopeAndName("/action_expert/head", "weights").MustValue())
	if w[5] != 18 {
		t.Fatalf("restored weights %v", w)
	}
	if got := ctx.GetVariableByScopeAndName("/", "counter").MustValue().Value().(int64); got != 42 {
		t.Fatalf("counter %d", got)
	}

	// Corrupt the newest file: loading falls back to the previous one.
	data, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(files[1], data, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = c.LoadLatest()
	if err != nil || l.State.Step != 20 {
		t.Fatalf("fallback = %+v, %v", l, err)
	}
	// Truncated newest (a kill mid-copy by some other tool) also falls back.
	if err := os.WriteFile(files[1], data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err = c.LoadLatest(); err != nil || l.State.Step != 20 {
		t.Fatalf("fallback after truncation = %+v, %v", l, err)
	}
	// Restoring into a context whose variable has another shape is an error.
	bad := context.New().Checked(false)
	bad.InAbsPath("/action_expert/head").VariableWithValue("weights", tensors.FromFlatDataAndDimensions([]float32{1, 2}, 2))
	if err := l.Restore(bad); err == nil {
		t.Fatal("shape mismatch accepted")
	}
}

func TestCheckpointEmptyDir(t *testing.T) {
	l, err := Checkpointer{Dir: filepath.Join(t.TempDir(), "none")}.LoadLatest()
	if l != nil || err != nil {
		t.Fatalf("got %v, %v", l, err)
	}
}

func FuzzDecodeCheckpoint(f *testing.F) {
	dir := f.TempDir()
	c := Checkpointer{Dir: dir}
	ctx := context.New().Checked(false)
	ctx.InAbsPath("/a").VariableWithValue("w", tensors.FromFlatDataAndDimensions([]float32{1, 2, 3}, 3))
	p, err := c.Save(ctx, State{Step: 1})
	if err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-4])
	f.Add([]byte("VLA3DCK1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeCheckpoint("fuzz", data) // must not panic
		// Also reach the header and tensor decoding past the CRC gate.
		sealed := binary.LittleEndian.AppendUint32(append([]byte(nil), data...), crc32.ChecksumIEEE(data))
		_, _ = DecodeCheckpoint("fuzz", sealed)
	})
}
