package cli

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// LogConf configures LogFlags.
type LogConf struct {
	// (optional) the level without -log-level: debug, info, warn or error.
	// It defaults to "info".
	Default string

	// (optional) also register -debug, an alias for -log-level debug, for
	// binaries that had it (the later of the two on the command line wins).
	// It defaults to false.
	DebugAlias bool
}

// LogFlags registers -log-level (and -debug with conf.DebugAlias) on fs and
// returns where the level is stored once fs is parsed; a bad level is a
// parse error. Build the logger with Logger(*level, stderr).
func LogFlags(fs *flag.FlagSet, conf LogConf) *string {
	level := conf.Default
	if level == "" {
		level = "info"
	}
	v := &levelValue{p: &level}
	fs.Var(v, "log-level", "log `level`: debug, info, warn or error")
	if conf.DebugAlias {
		fs.Var(&debugValue{p: &level, def: level}, "debug", "debug logging (same as -log-level debug)")
	}
	return &level
}

// levelValue is -log-level: validated when set.
type levelValue struct{ p *string }

func (v *levelValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return *v.p
}

func (v *levelValue) Set(s string) error {
	l, err := ParseLevel(s)
	if err != nil {
		return err
	}
	*v.p = l.String()
	return nil
}

// debugValue is -debug: true sets the level to debug, false back to the
// default.
type debugValue struct {
	p   *string
	def string
}

func (v *debugValue) String() string {
	if v == nil || v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p == "debug")
}

func (v *debugValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	if b {
		*v.p = "debug"
	} else {
		*v.p = v.def
	}
	return nil
}

func (v *debugValue) IsBoolFlag() bool { return true }

// ParseLevel parses debug, info, warn or error (any case; "" is info).
func ParseLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info", "":
		return zapcore.InfoLevel, nil
	case "warn":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

// Logger is every binary's logger: console lines with ISO 8601 times on
// stderr from level up, with the caller, stack traces from error level and
// zap's production sampling (per second, the first 100 of a message, then
// every 100th).
func Logger(level string, stderr io.Writer) (*zap.Logger, error) {
	l, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	out := zapcore.Lock(zapcore.AddSync(stderr))
	core := zapcore.NewSamplerWithOptions(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), out, l), time.Second, 100, 100)
	return zap.New(core, zap.AddCaller(), zap.AddStacktrace(zapcore.ErrorLevel), zap.ErrorOutput(out)), nil
}
