package training

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"go.uber.org/zap"
)

// Checkpoint file layout (little endian):
//
//	"VLA3DCK1" | uint32 len | header JSON | tensor bytes... | uint32 CRC-32 (IEEE) of all before it
//
// One self-contained file per checkpoint, written to a temp file, fsynced and
// renamed into place (then the directory fsynced), so a kill at any moment
// leaves either the old set or the old set plus one complete new file. The
// CRC catches torn or corrupted files, which Load skips in favour of the
// previous good checkpoint.
const (
	ckptMagic  = "VLA3DCK1"
	ckptPrefix = "ckpt-"
	ckptSuffix = ".vck"
)

// State is the training progress saved with the variables: enough to resume
// exactly where the checkpoint was taken.
type State struct {
	Step      int     `json:"step"`       // global optimizer steps done, over both stages
	Stage     Stage   `json:"stage"`      // stage being trained
	StageStep int     `json:"stage_step"` // steps done in this stage
	Epoch     int     `json:"epoch"`      // data epoch of the next batch
	Cursor    int     `json:"cursor"`     // index of the next batch's first sample in the epoch order
	Seed      int64   `json:"seed"`       // shuffle seed
	LastLoss  float64 `json:"last_loss"`
	// Model is the model configuration JSON, so export and resume can rebuild
	// the same graph.
	Model json.RawMessage `json:"model,omitempty"`
}

type ckptVar struct {
	Scope string `json:"scope"`
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Dims  []int  `json:"dims"`
	Bytes int    `json:"bytes"`
	// Trainable is informational: stages recompute it.
	Trainable bool `json:"trainable"`
}

type ckptHeader struct {
	State State     `json:"state"`
	Vars  []ckptVar `json:"vars"`
}

// Checkpointer writes and reads checkpoints in Dir, keeping the newest Keep.
type Checkpointer struct {
	Dir  string
	Keep int
	Log  *zap.Logger
}

// path is the file name for a global step; zero-padded so names sort by step.
func (c Checkpointer) path(step int) string {
	return filepath.Join(c.Dir, fmt.Sprintf("%s%09d%s", ckptPrefix, step, ckptSuffix))
}

// List returns the checkpoint files in Dir, oldest first.
func (c Checkpointer) List() ([]string, error) {
	entries, err := os.ReadDir(c.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, ckptPrefix) && strings.HasSuffix(n, ckptSuffix) {
			out = append(out, filepath.Join(c.Dir, n))
		}
	}
	sort.Strings(out)
	return out, nil
}

// CleanTemp removes the temp files a save interrupted by a kill left behind
// (nothing else writes in Dir while the trainer runs) and says how many.
func (c Checkpointer) CleanTemp() (int, error) {
	tmps, err := filepath.Glob(filepath.Join(c.Dir, ".tmp-"+ckptPrefix+"*"))
	if err != nil {
		return 0, fmt.Errorf("checkpoint temp files: %w", err)
	}
	for _, p := range tmps {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("checkpoint temp file: %w", err)
		}
	}
	return len(tmps), nil
}

// Save writes every variable of ctx with st atomically and prunes old files.
func (c Checkpointer) Save(ctx *context.Context, st State) (string, error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint dir: %w", err)
	}
	var vars []*context.Variable
	hdr := ckptHeader{State: st}
	for v := range ctx.IterVariables() {
		if !v.HasValue() {
			continue // never initialised: nothing to save
		}
		vars = append(vars, v)
		hdr.Vars = append(hdr.Vars, ckptVar{
			Scope: v.Scope(), Name: v.Name(), DType: v.DType().String(),
			Dims: v.Shape().Dimensions, Bytes: int(v.Shape().Memory()), Trainable: v.Trainable,
		})
	}
	head, err := json.Marshal(hdr)
	if err != nil {
		return "", fmt.Errorf("checkpoint header: %w", err)
	}
	final := c.path(st.Step)
	tmp, err := os.CreateTemp(c.Dir, ".tmp-"+ckptPrefix)
	if err != nil {
		return "", fmt.Errorf("checkpoint temp file: %w", err)
	}
	cleanup := func(e error) (string, error) {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return "", e
	}
	crc := crc32.NewIEEE()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, crc), 1<<20)
	var lenBuf [4]byte
	binary.LittleEndian.PutUint32(lenBuf[:], uint32(len(head)))
	for _, b := range [][]byte{[]byte(ckptMagic), lenBuf[:], head} {
		if _, err := bw.Write(b); err != nil {
			return cleanup(fmt.Errorf("write checkpoint: %w", err))
		}
	}
	for _, v := range vars {
		t, err := v.Value()
		if err != nil {
			return cleanup(fmt.Errorf("checkpoint variable %s: %w", v.ScopeAndName(), err))
		}
		var werr error
		if err := t.ConstBytes(func(data []byte) { _, werr = bw.Write(data) }); err != nil {
			return cleanup(fmt.Errorf("checkpoint variable %s: %w", v.ScopeAndName(), err))
		}
		if werr != nil {
			return cleanup(fmt.Errorf("write checkpoint: %w", werr))
		}
	}
	if err := bw.Flush(); err != nil {
		return cleanup(fmt.Errorf("write checkpoint: %w", err))
	}
	binary.LittleEndian.PutUint32(lenBuf[:], crc.Sum32())
	if _, err := tmp.Write(lenBuf[:]); err != nil {
		return cleanup(fmt.Errorf("write checkpoint crc: %w", err))
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(fmt.Errorf("fsync checkpoint: %w", err))
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("close checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("publish checkpoint: %w", err)
	}
	if err := syncDir(c.Dir); err != nil {
		return "", err
	}
	if err := c.prune(); err != nil {
		return final, err
	}
	return final, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open checkpoint dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync checkpoint dir: %w", err)
	}
	return nil
}

func (c Checkpointer) prune() error {
	if c.Keep <= 0 {
		return nil
	}
	files, err := c.List()
	if err != nil {
		return err
	}
	for len(files) > c.Keep {
		if err := os.Remove(files[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("prune checkpoint: %w", err)
		}
		files = files[1:]
	}
	return nil
}

// Loaded is one decoded checkpoint.
type Loaded struct {
	Path  string
	State State
	Vars  map[string]*tensors.Tensor // keyed by scope + "/" + name, as Variable.ScopeAndName
	order []ckptVar
}

// LoadLatest reads the newest checkpoint that decodes and passes its CRC,
// logging and skipping corrupt ones. It returns (nil, nil) when Dir has none.
func (c Checkpointer) LoadLatest() (*Loaded, error) {
	files, err := c.List()
	if err != nil {
		return nil, err
	}
	var errs []error
	for i := len(files) - 1; i >= 0; i-- {
		l, err := ReadCheckpoint(files[i])
		if err == nil {
			return l, nil
		}
		errs = append(errs, err)
		if c.Log != nil {
			c.Log.Warn("skipping unreadable checkpoint", zap.String("path", files[i]), zap.Error(err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("no readable checkpoint in %s: %w", c.Dir, errors.Join(errs...))
	}
	return nil, nil
}

// ReadCheckpoint decodes and verifies one checkpoint file.
func ReadCheckpoint(path string) (*Loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	return DecodeCheckpoint(path, data)
}

// DecodeCheckpoint verifies and decodes checkpoint bytes (outside input:
// every length is bounds-checked before use).
func DecodeCheckpoint(path string, data []byte) (*Loaded, error) {
	if len(data) < len(ckptMagic)+8 || string(data[:len(ckptMagic)]) != ckptMagic {
		return nil, fmt.Errorf("checkpoint %s: bad magic or truncated", path)
	}
	body, tail := data[:len(data)-4], data[len(data)-4:]
	if got, want := crc32.ChecksumIEEE(body), binary.LittleEndian.Uint32(tail); got != want {
		return nil, fmt.Errorf("checkpoint %s: CRC mismatch (%08x != %08x)", path, got, want)
	}
	off := len(ckptMagic)
	n := int(binary.LittleEndian.Uint32(body[off:]))
	off += 4
	if n < 0 || n > len(body)-off {
		return nil, fmt.Errorf("checkpoint %s: header length %d out of range", path, n)
	}
	var hdr ckptHeader
	if err := json.Unmarshal(body[off:off+n], &hdr); err != nil {
		return nil, fmt.Errorf("checkpoint %s header: %w", path, err)
	}
	off += n
	l := &Loaded{Path: path, State: hdr.State, Vars: make(map[string]*tensors.Tensor, len(hdr.Vars)), order: hdr.Vars}
	for _, cv := range hdr.Vars {
		dt, err := dtypes.DTypeString(cv.DType)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s variable %s: %w", path, cv.Name, err)
		}
		size := 1
		for _, d := range cv.Dims {
			if d < 0 || (d > 0 && size > (1<<40)/d) {
				return nil, fmt.Errorf("checkpoint %s variable %s: bad dims %v", path, cv.Name, cv.Dims)
			}
			size *= d
		}
		shape := shapes.Make(dt, cv.Dims...)
		if int(shape.Memory()) != cv.Bytes || cv.Bytes > len(body)-off {
			return nil, fmt.Errorf("checkpoint %s variable %s: %d bytes do not fit", path, cv.Name, cv.Bytes)
		}
		t := tensors.FromShape(shape)
		src := body[off : off+cv.Bytes]
		if err := t.MutableBytes(func(dst []byte) { copy(dst, src) }); err != nil {
			return nil, fmt.Errorf("checkpoint %s variable %s: %w", path, cv.Name, err)
		}
		off += cv.Bytes
		l.Vars[context.JoinScope(cv.Scope, cv.Name)] = t
	}
	if off != len(body) {
		return nil, fmt.Errorf("checkpoint %s: %d trailing bytes", path, len(body)-off)
	}
	return l, nil
}

// Restore creates (or overwrites) every checkpointed variable in ctx, so a
// model graph built afterwards on an unchecked context reuses the trained
// values instead of initialising new ones.
func (l *Loaded) Restore(ctx *context.Context) error {
	for _, cv := range l.order {
		t := l.Vars[context.JoinScope(cv.Scope, cv.Name)]
		vctx := ctx.InAbsPath(cv.Scope).Checked(false)
		if v := ctx.GetVariableByScopeAndName(cv.Scope, cv.Name); v != nil {
			if !v.Shape().Equal(t.Shape()) {
				return fmt.Errorf("restore %s: checkpoint shape %s, model shape %s", v.ScopeAndName(), t.Shape(), v.Shape())
			}
			if err := v.SetValue(t); err != nil {
				return fmt.Errorf("restore %s: %w", v.ScopeAndName(), err)
			}
			continue
		}
		vctx.VariableWithValue(cv.Name, t).SetTrainable(cv.Trainable)
	}
	return nil
}
