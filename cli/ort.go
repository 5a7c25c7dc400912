package cli

import (
	"flag"
	"fmt"
	"os"

	"github.com/vla3d/vla3d/policy/ort/ortenv"
)

// ORTLibFlag registers -ort-lib on fs and returns where its value is
// stored once fs is parsed ("" = not given); pass it to UseORTLib.
func ORTLibFlag(fs *flag.FlagSet) *string {
	p := new(string)
	fs.StringVar(p, "ort-lib", "", "ONNX Runtime shared library; given, it wins over $"+ortenv.LibraryEnv+
		" (default $"+ortenv.LibraryEnv+", else the project-local install)")
	return p
}

// ORTLibConf says where the ONNX Runtime library comes from.
type ORTLibConf struct {
	// (optional) the -ort-lib value given on the command line; "" means not
	// given. It defaults to "".
	Flag string

	// (optional) reads $VLA3D_ORT_LIB.
	// It defaults to os.Getenv.
	Getenv func(string) string

	// (optional) sets $VLA3D_ORT_LIB for this process.
	// It defaults to os.Setenv.
	Setenv func(key, value string) error
}

// UseORTLib returns the ONNX Runtime library to load: the flag when given,
// else $VLA3D_ORT_LIB, else "" (ortenv.ResolveLibrary then finds the
// project-local install).
//
// ortenv.ResolveLibrary takes the path it is given before $VLA3D_ORT_LIB;
// ONNX Runtime users that resolve without a path (encoders and detectors
// loaded deep inside the trainer) read the variable, so a given flag is also
// written to $VLA3D_ORT_LIB for this process: the explicit value wins
// everywhere. Without the flag nothing is changed.
func UseORTLib(conf ORTLibConf) (string, error) {
	getenv, setenv := conf.Getenv, conf.Setenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if setenv == nil {
		setenv = os.Setenv
	}
	if conf.Flag == "" {
		return getenv(ortenv.LibraryEnv), nil
	}
	if getenv(ortenv.LibraryEnv) != conf.Flag {
		if err := setenv(ortenv.LibraryEnv, conf.Flag); err != nil {
			return "", fmt.Errorf("-ort-lib: setting %s: %w", ortenv.LibraryEnv, err)
		}
	}
	return conf.Flag, nil
}
