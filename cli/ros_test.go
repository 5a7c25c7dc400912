package cli

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseRemapping(t *testing.T) {
	tests := []struct {
		args []string
		want Remapping
		rest []string
	}{
		{nil, Remapping{}, nil},
		{[]string{"__name:=vla3d_node", "__log:=/tmp/x.log"}, Remapping{Name: "vla3d_node", Log: "/tmp/x.log"}, nil},
		{[]string{"bag1", "__name:=a", "__name:=b", "bag2"}, Remapping{Name: "b"}, []string{"bag1", "bag2"}},
		{[]string{"__ns:=/robot", "__master:=http://m:11311", "__ip:=10.0.0.3", "__hostname:=robot.local"},
			Remapping{Namespace: "/robot", Master: "http://m:11311", IP: "10.0.0.3", Hostname: "robot.local"}, nil},
		{[]string{"/image:=/front/color/image_raw", "_rate:=5"},
			Remapping{Other: map[string]string{"/image": "/front/color/image_raw", "_rate": "5"}}, nil},
		{[]string{"__name:="}, Remapping{}, nil}, // empty value: nothing set
		{[]string{":=x", "-flag:=y", "plain"}, Remapping{}, []string{":=x", "-flag:=y", "plain"}},
	}
	for _, tc := range tests {
		got, rest := ParseRemapping(tc.args)
		if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(rest, tc.rest) {
			t.Errorf("%q: %+v rest %q, want %+v rest %q", tc.args, got, rest, tc.want, tc.rest)
		}
	}
}

func TestParseROS(t *testing.T) {
	tests := []struct {
		args          []string
		name, rate    string
		remapName     string
		wantErr       string // substring of a usage error
		help, usageOK bool
	}{
		{args: nil, name: "", rate: "10"},
		// roslaunch: flags, then __name:= and __log:=.
		{args: []string{"--name", "n", "--rate", "5", "__name:=vla3d_node", "__log:=/tmp/l"}, name: "n", rate: "5", remapName: "vla3d_node"},
		// Flags after remappings are still flags.
		{args: []string{"__name:=x", "--rate", "7"}, rate: "7", remapName: "x"},
		{args: []string{"__name:=x", "--rate", "7", "__log:=y", "-name", "m"}, name: "m", rate: "7", remapName: "x"},
		{args: []string{"--", "__name:=x"}, rate: "10", remapName: "x"},
		{args: []string{"stray"}, wantErr: `unexpected argument "stray"`},
		{args: []string{"__name:=x", "stray", "--rate", "3"}, wantErr: `unexpected argument "stray"`},
		{args: []string{"--", "--rate", "3"}, wantErr: `unexpected argument "--rate"`},
		{args: []string{"__name:=x", "--bogus"}, wantErr: "flag provided but not defined: -bogus"},
		{args: []string{"__name:=x", "-h"}, help: true},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("node", flag.ContinueOnError)
		name := fs.String("name", "", "")
		rate := fs.String("rate", "10", "")
		r, err := ParseROS(fs, tc.args, io.Discard)
		switch {
		case tc.help:
			if !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%q: %v, want flag.ErrHelp", tc.args, err)
			}
		case tc.wantErr != "":
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Command != "node" || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: %v, want a usage error of node mentioning %q", tc.args, err, tc.wantErr)
			}
		case err != nil || *name != tc.name || *rate != tc.rate || r.Name != tc.remapName:
			t.Errorf("%q: name %q rate %q __name %q (%v), want %q %q %q", tc.args, *name, *rate, r.Name, err, tc.name, tc.rate, tc.remapName)
		}
	}
}

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestResolveNode(t *testing.T) {
	tests := []struct {
		name    string
		conf    NodeConf
		want    NodeSettings
		wantErr string
	}{
		{name: "defaults", conf: NodeConf{DefaultName: "vla3d_sim", Getenv: env()},
			want: NodeSettings{Name: "vla3d_sim", Master: "127.0.0.1:11311"}},
		{name: "environment", conf: NodeConf{DefaultName: "d", Getenv: env("ROS_MASTER_URI", "http://10.0.0.2:11312/", "ROS_IP", "10.0.0.9", "ROS_HOSTNAME", "h")},
			want: NodeSettings{Name: "d", Master: "10.0.0.2:11312", Host: "10.0.0.9"}},
		{name: "ROS_HOSTNAME without ROS_IP", conf: NodeConf{DefaultName: "d", Getenv: env("ROS_HOSTNAME", "robot.local")},
			want: NodeSettings{Name: "d", Master: "127.0.0.1:11311", Host: "robot.local"}},
		{name: "config beats environment",
			conf: NodeConf{Config: NodeSettings{Name: "cfg", Master: "http://cfg:1/", Host: "cfghost"}, DefaultName: "d",
				Getenv: env("ROS_MASTER_URI", "http://env:2", "ROS_IP", "10.0.0.9")},
			want: NodeSettings{Name: "cfg", Master: "cfg:1", Host: "cfghost"}},
		{name: "remapping beats config",
			conf: NodeConf{Remap: Remapping{Name: "remap", Master: "http://rm:3", IP: "1.2.3.4", Hostname: "rh"},
				Config: NodeSettings{Name: "cfg", Master: "cfg:1", Host: "cfghost"}, Getenv: env("ROS_MASTER_URI", "http://env:2")},
			want: NodeSettings{Name: "remap", Master: "rm:3", Host: "1.2.3.4"}},
		{name: "__hostname without __ip",
			conf: NodeConf{Remap: Remapping{Hostname: "rh"}, Config: NodeSettings{Host: "cfghost"}, DefaultName: "d", Getenv: env()},
			want: NodeSettings{Name: "d", Master: "127.0.0.1:11311", Host: "rh"}},
		{name: "flag beats everything",
			conf: NodeConf{Flags: NodeSettings{Name: "flag", Master: "flaghost:4", Host: "fh"},
				Remap:  Remapping{Name: "remap", Master: "http://rm:3", IP: "1.2.3.4"},
				Config: NodeSettings{Name: "cfg", Master: "cfg:1", Host: "cfghost"}, DefaultName: "d",
				Getenv: env("ROS_MASTER_URI", "http://env:2", "ROS_IP", "10.0.0.9")},
			want: NodeSettings{Name: "flag", Master: "flaghost:4", Host: "fh"}},
		{name: "no name", conf: NodeConf{Getenv: env()}, wantErr: "no ROS node name"},
		{name: "bad master from the environment", conf: NodeConf{DefaultName: "d", Getenv: env("ROS_MASTER_URI", "ftp://m:1")}, wantErr: `ROS master "ftp://m:1"`},
	}
	for _, tc := range tests {
		got, err := ResolveNode(tc.conf)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v (%v), want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestMasterAddress(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://127.0.0.1:11311", "127.0.0.1:11311", true},
		{"http://127.0.0.1:11311/", "127.0.0.1:11311", true},
		{"http://roscore.local:11312/", "roscore.local:11312", true},
		{"http://roscore.local", "roscore.local:11311", true},
		{"roscore.local:11312", "roscore.local:11312", true},
		{"roscore.local", "roscore.local:11311", true},
		{"10.0.0.2:11311/", "10.0.0.2:11311", true},
		{"http://[::1]:11311/", "[::1]:11311", true},
		{"[::1]", "[::1]:11311", true},
		{"https://m:11311", "", false},
		{"http://m:11311/path", "", false},
		{"http://:11311", "", false},
		{"http://m:port", "", false},
		{"m:99999", "", false},
		{"http://", "", false},
	}
	for _, tc := range tests {
		got, err := MasterAddress(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("MasterAddress(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if got := MasterURI("127.0.0.1:11311"); got != "http://127.0.0.1:11311/" {
		t.Errorf("MasterURI %q", got)
	}
}
