package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// DefaultMaster is the ROS master without a flag, config or
// $ROS_MASTER_URI.
const DefaultMaster = "http://127.0.0.1:11311"

// defaultMasterPort completes a master address given without a port.
const defaultMasterPort = "11311"

// Remapping holds the ROS remapping arguments (NAME:=VALUE) of a command
// line; roslaunch appends __name:=NAME and __log:=PATH to every node's.
type Remapping struct {
	Name      string // __name:=, the node name
	Namespace string // __ns:=
	Master    string // __master:=, the master URI
	IP        string // __ip:=, this node's address
	Hostname  string // __hostname:=, this node's address
	Log       string // __log:=, roslaunch's log file
	// Other holds every other NAME:=VALUE (topic remappings, _private
	// parameters); goroslib applies topic remappings from os.Args itself.
	Other map[string]string
}

// ParseRemapping splits args into the remapping arguments and the rest, in
// order. An argument is a remapping when it has a non-empty NAME before
// ":=" and does not start with "-"; a repeated special one keeps its last
// value.
func ParseRemapping(args []string) (Remapping, []string) {
	var r Remapping
	var rest []string
	for _, a := range args {
		k, v, ok := strings.Cut(a, ":=")
		if !ok || k == "" || strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		switch k {
		case "__name":
			r.Name = v
		case "__ns":
			r.Namespace = v
		case "__master":
			r.Master = v
		case "__ip":
			r.IP = v
		case "__hostname":
			r.Hostname = v
		case "__log":
			r.Log = v
		default:
			if r.Other == nil {
				r.Other = map[string]string{}
			}
			r.Other[k] = v
		}
	}
	return r, rest
}

// ParseROS is Parse for a ROS node's flag set: remapping arguments may come
// anywhere (flags after them are still parsed), any other positional
// argument is a usage error, and the remappings are returned.
func ParseROS(fs *flag.FlagSet, args []string, stdout io.Writer) (Remapping, error) {
	var remaps []string
	for {
		if err := Parse(fs, args, stdout); err != nil {
			return Remapping{}, err
		}
		rest := fs.Args()
		// The flag package stops at the first non-flag or after "--"; after
		// "--" nothing more is a flag.
		terminated := len(rest) < len(args) && args[len(args)-len(rest)-1] == "--"
		i := 0
		for ; i < len(rest); i++ {
			if _, other := ParseRemapping(rest[i : i+1]); len(other) > 0 {
				break
			}
			remaps = append(remaps, rest[i])
		}
		if i == len(rest) {
			r, _ := ParseRemapping(remaps)
			return r, nil
		}
		if terminated || !strings.HasPrefix(rest[i], "-") || rest[i] == "-" {
			return Remapping{}, &UsageError{Command: fs.Name(), Err: fmt.Errorf("unexpected argument %q", rest[i])}
		}
		args = rest[i:]
	}
}

// NodeSettings are a ROS node's name and addresses.
type NodeSettings struct {
	// Name is the node name.
	Name string
	// Master is the ROS master: a URI (http://host:port/) or host[:port].
	Master string
	// Host is the address other nodes reach this node at.
	Host string
}

// NodeConf says where a node's settings come from. Each takes the first
// non-empty of: the flag, the remapping argument, the config file, the
// environment, the default.
type NodeConf struct {
	// (optional) the values of -name, -master and -host given on the
	// command line; "" means not given (see GivenFlags).
	// It defaults to none.
	Flags NodeSettings

	// (optional) the command line's remapping arguments (__name:=,
	// __master:=, __ip:= before __hostname:=; see ParseROS).
	// It defaults to none.
	Remap Remapping

	// (optional) the config file's values.
	// It defaults to none.
	Config NodeSettings

	// (optional) the node name when nothing else sets one.
	// It defaults to "".
	DefaultName string

	// (optional) reads $ROS_MASTER_URI, $ROS_IP and $ROS_HOSTNAME (in that
	// order of precedence for the host).
	// It defaults to os.Getenv.
	Getenv func(string) string
}

// ResolveNode resolves a node's settings (see NodeConf); the master comes
// back as host:port, as goroslib.NodeConf.MasterAddress wants it (MasterURI
// turns it back into a URI), defaulting to DefaultMaster. Host may be ""
// (goroslib picks an address); an empty name is an error.
func ResolveNode(conf NodeConf) (NodeSettings, error) {
	getenv := conf.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var s NodeSettings
	s.Name = first(conf.Flags.Name, conf.Remap.Name, conf.Config.Name, conf.DefaultName)
	if s.Name == "" {
		return s, errors.New("no ROS node name")
	}
	master := first(conf.Flags.Master, conf.Remap.Master, conf.Config.Master, getenv("ROS_MASTER_URI"), DefaultMaster)
	addr, err := MasterAddress(master)
	if err != nil {
		return s, err
	}
	s.Master = addr
	s.Host = first(conf.Flags.Host, conf.Remap.IP, conf.Remap.Hostname, conf.Config.Host, getenv("ROS_IP"), getenv("ROS_HOSTNAME"))
	return s, nil
}

func first(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// MasterAddress normalises a ROS master URI (http://host:port/) or
// host[:port] to host:port; a missing port is 11311.
func MasterAddress(master string) (string, error) {
	hostport := master
	if strings.Contains(master, "://") {
		u, err := url.Parse(master)
		if err != nil {
			return "", fmt.Errorf("ROS master %q: %w", master, err)
		}
		if u.Scheme != "http" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return "", fmt.Errorf("ROS master %q: want http://host:port", master)
		}
		hostport = u.Host
	} else {
		hostport = strings.TrimSuffix(hostport, "/")
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port (a bare host or IPv6 address in brackets).
		host, port = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), defaultMasterPort
	}
	if host == "" || strings.ContainsAny(host, "/ ") {
		return "", fmt.Errorf("ROS master %q: no host", master)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return "", fmt.Errorf("ROS master %q: bad port %q", master, port)
	}
	return net.JoinHostPort(host, port), nil
}

// MasterURI is the http:// URI of a host:port master address.
func MasterURI(addr string) string { return "http://" + addr + "/" }
