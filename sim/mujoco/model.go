package mujoco

/*
#include <stdlib.h>
#include "vla_mj.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Object kinds for Name2ID (mjtObj values).
const (
	ObjBody     = C.mjOBJ_BODY
	ObjJoint    = C.mjOBJ_JOINT
	ObjGeom     = C.mjOBJ_GEOM
	ObjCamera   = C.mjOBJ_CAMERA
	ObjActuator = C.mjOBJ_ACTUATOR
	ObjLight    = C.mjOBJ_LIGHT
)

// Model is a loaded MuJoCo model with its simulation data and (optionally) a
// rendering context. It is not safe for concurrent use.
type Model struct {
	s  *C.vla_sim
	gl *GL
}

// Load parses MJCF text and allocates simulation data.
func Load(xml string) (*Model, error) {
	if len(xml) == 0 {
		return nil, errors.New("mujoco: empty MJCF")
	}
	cxml := C.CString(xml)
	defer C.free(unsafe.Pointer(cxml))
	var errbuf [1024]C.char
	m := C.vla_load_xml(cxml, C.int(len(xml)), &errbuf[0], C.int(len(errbuf)))
	if m == nil {
		return nil, fmt.Errorf("mujoco: load MJCF: %s", C.GoString(&errbuf[0]))
	}
	s := (*C.vla_sim)(C.calloc(1, C.size_t(unsafe.Sizeof(C.vla_sim{}))))
	if s == nil {
		C.mj_deleteModel(m)
		return nil, errors.New("mujoco: out of memory")
	}
	s.m = m
	s.d = C.mj_makeData(m)
	if s.d == nil {
		C.mj_deleteModel(m)
		C.free(unsafe.Pointer(s))
		return nil, errors.New("mujoco: mj_makeData failed")
	}
	C.mj_forward(s.m, s.d)
	return &Model{s: s}, nil
}

// EnableRendering creates the scene and the renderer context on gl. The
// offscreen buffer size comes from the MJCF <visual><global offwidth offheight>.
func (m *Model) EnableRendering(gl *GL, maxGeom int) error {
	if m.s.rendering != 0 {
		return errors.New("mujoco: rendering already enabled")
	}
	err := gl.withGL(func() error {
		if rc := C.vla_render_init(m.s, C.int(maxGeom)); rc != 0 {
			return errors.New("mujoco: offscreen framebuffer not available")
		}
		return nil
	})
	if err != nil {
		return err
	}
	m.gl = gl
	return nil
}

// Close frees the model, data and renderer.
func (m *Model) Close() error {
	if m == nil || m.s == nil {
		return nil
	}
	var err error
	if m.s.rendering != 0 {
		err = m.gl.withGL(func() error {
			C.vla_render_free(m.s)
			return nil
		})
	}
	C.mj_deleteData(m.s.d)
	C.mj_deleteModel(m.s.m)
	C.free(unsafe.Pointer(m.s))
	m.s = nil
	return err
}

// Name2ID returns the id of a named object of the given kind, or an error.
func (m *Model) Name2ID(kind int, name string) (int, error) {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	id := int(C.mj_name2id(m.s.m, C.int(kind), cn))
	if id < 0 {
		return -1, fmt.Errorf("mujoco: no object %q of kind %d", name, kind)
	}
	return id, nil
}

// Step advances physics by one timestep.
func (m *Model) Step() { C.mj_step(m.s.m, m.s.d) }

// Forward recomputes derived quantities (positions, contacts) without integrating.
func (m *Model) Forward() { C.mj_forward(m.s.m, m.s.d) }

// Reset restores the model's initial state.
func (m *Model) Reset() { C.mj_resetData(m.s.m, m.s.d) }

// Timestep is the physics timestep in seconds.
func (m *Model) Timestep() float64 { return float64(m.s.m.opt.timestep) }

// Time is the simulation time in seconds.
func (m *Model) Time() float64 { return float64(m.s.d.time) }

// NGeom is the number of geoms.
func (m *Model) NGeom() int { return int(m.s.m.ngeom) }

// GeomBody returns the body that owns geom g.
func (m *Model) GeomBody(g int) int {
	return int(unsafe.Slice(m.s.m.geom_bodyid, m.s.m.ngeom)[g])
}

// QPos is a live view of the generalized positions.
func (m *Model) QPos() []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.qpos)), int(m.s.m.nq))
}

// QVel is a live view of the generalized velocities.
func (m *Model) QVel() []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.qvel)), int(m.s.m.nv))
}

// Ctrl is a live view of the actuator controls.
func (m *Model) Ctrl() []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.ctrl)), int(m.s.m.nu))
}

// JointQPosAdr is the index of joint j's first coordinate in QPos.
func (m *Model) JointQPosAdr(j int) int {
	return int(unsafe.Slice(m.s.m.jnt_qposadr, m.s.m.njnt)[j])
}

// JointDofAdr is the index of joint j's first coordinate in QVel.
func (m *Model) JointDofAdr(j int) int {
	return int(unsafe.Slice(m.s.m.jnt_dofadr, m.s.m.njnt)[j])
}

// BodyMocapID is the mocap index of body b, or -1.
func (m *Model) BodyMocapID(b int) int {
	return int(unsafe.Slice(m.s.m.body_mocapid, m.s.m.nbody)[b])
}

// SetMocap sets the target pose of mocap body index i (quaternion w,x,y,z as MuJoCo stores it).
func (m *Model) SetMocap(i int, pos [3]float64, quatWXYZ [4]float64) {
	p := unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.mocap_pos)), 3*int(m.s.m.nmocap))
	q := unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.mocap_quat)), 4*int(m.s.m.nmocap))
	copy(p[3*i:3*i+3], pos[:])
	copy(q[4*i:4*i+4], quatWXYZ[:])
}

// BodyPose returns body b's world position and orientation (w,x,y,z).
func (m *Model) BodyPose(b int) (pos [3]float64, quatWXYZ [4]float64) {
	xp := unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.xpos)), 3*int(m.s.m.nbody))
	xq := unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.xquat)), 4*int(m.s.m.nbody))
	copy(pos[:], xp[3*b:3*b+3])
	copy(quatWXYZ[:], xq[4*b:4*b+4])
	return pos, quatWXYZ
}

// CameraPose returns camera c's world position and rotation matrix (row-major,
// columns are the MuJoCo camera axes: x right, y up, -z viewing direction).
func (m *Model) CameraPose(c int) (pos [3]float64, mat [9]float64) {
	xp := unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.cam_xpos)), 3*int(m.s.m.ncam))
	xm := unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.cam_xmat)), 9*int(m.s.m.ncam))
	copy(pos[:], xp[3*c:3*c+3])
	copy(mat[:], xm[9*c:9*c+9])
	return pos, mat
}

// CameraFovy is camera c's vertical field of view in degrees.
func (m *Model) CameraFovy(c int) float64 {
	return float64(unsafe.Slice((*float64)(unsafe.Pointer(m.s.m.cam_fovy)), int(m.s.m.ncam))[c])
}

// ClipPlanes returns the renderer's near and far clipping distances in metres
// (the MJCF's visual/map znear, zfar scaled by the model extent).
func (m *Model) ClipPlanes() (near, far float64) {
	ext := float64(m.s.m.stat.extent)
	return float64(m.s.m.vis._map.znear) * ext, float64(m.s.m.vis._map.zfar) * ext
}

// NContacts is the number of active contacts.
func (m *Model) NContacts() int { return int(m.s.d.ncon) }

// ContactGeoms returns the two geoms of contact i.
func (m *Model) ContactGeoms(i int) (int, int) {
	c := unsafe.Slice(m.s.d.contact, m.s.d.ncon)[i]
	return int(c.geom1), int(c.geom2)
}

// SubtreeMass is the mass of body b and its descendants.
func (m *Model) SubtreeMass(b int) float64 {
	return float64(unsafe.Slice((*float64)(unsafe.Pointer(m.s.m.body_subtreemass)), int(m.s.m.nbody))[b])
}

// SetBodyForce applies a constant world-frame force at body b's centre of mass
// (xfrc_applied; it persists across steps until changed).
func (m *Model) SetBodyForce(b int, f [3]float64) {
	x := unsafe.Slice((*float64)(unsafe.Pointer(m.s.d.xfrc_applied)), 6*int(m.s.m.nbody))
	copy(x[6*b:6*b+3], f[:])
}

// Unstable counts MuJoCo's "bad number in qpos/qvel/qacc" warnings since
// the data was made; MuJoCo resets the state when it raises them, so any
// increase means the simulation diverged.
func (m *Model) Unstable() int {
	w := m.s.d.warning
	return int(w[C.mjWARN_BADQPOS].number + w[C.mjWARN_BADQVEL].number + w[C.mjWARN_BADQACC].number)
}
