package cli

import (
	"errors"
	"flag"
	"io"
	"os"
	"testing"

	"github.com/vla3d/vla3d/policy/ort/ortenv"
)

func TestUseORTLib(t *testing.T) {
	tests := []struct {
		name    string
		flag    string
		env     string // $VLA3D_ORT_LIB ("" = unset)
		want    string
		wantEnv string // $VLA3D_ORT_LIB afterwards
	}{
		{name: "flag beats environment", flag: "/gpu/libonnxruntime.so", env: "/cpu/libonnxruntime.so",
			want: "/gpu/libonnxruntime.so", wantEnv: "/gpu/libonnxruntime.so"},
		{name: "flag without environment", flag: "/gpu/libonnxruntime.so", want: "/gpu/libonnxruntime.so", wantEnv: "/gpu/libonnxruntime.so"},
		{name: "environment without flag", env: "/cpu/libonnxruntime.so", want: "/cpu/libonnxruntime.so", wantEnv: "/cpu/libonnxruntime.so"},
		{name: "neither: ortenv's project default", want: "", wantEnv: ""},
	}
	for _, tc := range tests {
		vars := map[string]string{}
		if tc.env != "" {
			vars[ortenv.LibraryEnv] = tc.env
		}
		got, err := UseORTLib(ORTLibConf{Flag: tc.flag,
			Getenv: func(k string) string { return vars[k] },
			Setenv: func(k, v string) error { vars[k] = v; return nil }})
		if err != nil || got != tc.want || vars[ortenv.LibraryEnv] != tc.wantEnv {
			t.Errorf("%s: %q (%v), env %q; want %q, env %q", tc.name, got, err, vars[ortenv.LibraryEnv], tc.want, tc.wantEnv)
		}
	}
	_, err := UseORTLib(ORTLibConf{Flag: "/x.so", Getenv: func(string) string { return "" },
		Setenv: func(string, string) error { return errors.New("read-only") }})
	if err == nil {
		t.Error("setenv failure ignored")
	}
}

// The real process environment and ortenv.ResolveLibrary: the flag wins
// over $VLA3D_ORT_LIB as scripts/env.sh sets it.
func TestUseORTLibResolves(t *testing.T) {
	t.Setenv(ortenv.LibraryEnv, "/from/env.sh/libonnxruntime.so.1")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	lib := ORTLibFlag(fs)
	if err := Parse(fs, []string{"-ort-lib", "/explicit/libonnxruntime.so"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, err := UseORTLib(ORTLibConf{Flag: *lib})
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := ortenv.ResolveLibrary(got)
	if err != nil || resolved != "/explicit/libonnxruntime.so" || os.Getenv(ortenv.LibraryEnv) != resolved {
		t.Fatalf("resolved %q (%v)", resolved, err)
	}

	// Not given: the environment's.
	t.Setenv(ortenv.LibraryEnv, "/from/env.sh/libonnxruntime.so.1")
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	lib = ORTLibFlag(fs)
	if err := Parse(fs, nil, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, _ = UseORTLib(ORTLibConf{Flag: *lib})
	if resolved, _ := ortenv.ResolveLibrary(got); resolved != "/from/env.sh/libonnxruntime.so.1" {
		t.Fatalf("resolved %q", resolved)
	}
}
