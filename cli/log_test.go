package cli

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestLogFlags(t *testing.T) {
	tests := []struct {
		conf    LogConf
		args    []string
		want    string
		wantErr string
	}{
		{LogConf{}, nil, "info", ""},
		{LogConf{Default: "warn"}, nil, "warn", ""},
		{LogConf{}, []string{"-log-level", "DEBUG"}, "debug", ""},
		{LogConf{}, []string{"--log-level=error"}, "error", ""},
		{LogConf{}, []string{"-log-level", "loud"}, "", "log-level"},
		{LogConf{}, []string{"-log-level", "fatal"}, "", "want debug, info, warn or error"},
		{LogConf{}, []string{"-debug"}, "", "not defined: -debug"},
		{LogConf{DebugAlias: true}, []string{"-debug"}, "debug", ""},
		{LogConf{DebugAlias: true, Default: "warn"}, []string{"-debug=false"}, "warn", ""},
		{LogConf{DebugAlias: true}, []string{"-debug", "-log-level", "error"}, "error", ""}, // the later wins
		{LogConf{DebugAlias: true}, []string{"-log-level", "error", "-debug"}, "debug", ""},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		level := LogFlags(fs, tc.conf)
		err := Parse(fs, tc.args, io.Discard)
		if tc.wantErr != "" {
			if _, ok := err.(*UsageError); !ok || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want a usage error mentioning %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || *level != tc.want {
			t.Errorf("%+v %v: level %q (%v), want %q", tc.conf, tc.args, *level, err, tc.want)
		}
	}
}

func TestLogFlagsHelp(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	LogFlags(fs, LogConf{Default: "warn", DebugAlias: true})
	var out bytes.Buffer
	if err := Parse(fs, []string{"-h"}, &out); err != flag.ErrHelp {
		t.Fatal(err)
	}
	for _, w := range []string{"-log-level level", "log level: debug, info, warn or error (default warn)", "-debug"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("help lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "panic") {
		t.Errorf("help:\n%s", out.String())
	}
}

func TestLogger(t *testing.T) {
	tests := []struct {
		level     string
		debug, ok bool
	}{
		{"debug", true, true},
		{"", false, true},
		{"info", false, true},
		{"Warn", false, true},
		{"error", false, true},
		{"trace", false, false},
	}
	for _, tc := range tests {
		var errb bytes.Buffer
		log, err := Logger(tc.level, &errb)
		if !tc.ok {
			if err == nil {
				t.Errorf("%q accepted", tc.level)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.level, err)
		}
		log.Debug("dbg-line")
		log.Error("err-line")
		_ = log.Sync()
		s := errb.String()
		if strings.Contains(s, "dbg-line") != tc.debug || !strings.Contains(s, "err-line") {
			t.Errorf("%q logged:\n%s", tc.level, s)
		}
	}
	// Console lines with ISO 8601 times and the caller.
	var errb bytes.Buffer
	log, _ := Logger("info", &errb)
	log.Info("hello")
	line := errb.String()
	if !strings.Contains(line, "\tinfo\t") || !strings.Contains(line, "cli/log_test.go:") || !strings.Contains(line, "T") || strings.HasPrefix(line, "{") {
		t.Errorf("log line %q", line)
	}
}
