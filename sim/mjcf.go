package sim

import (
	"fmt"
	"math"
	"strings"

	"github.com/vla3d/vla3d/perception"
)

// Physics settings shared by every scene.
const (
	physicsTimestep = 0.004
	clipNear        = 0.01 // × extent: renderer near plane
	clipFar         = 5.0  // × extent: renderer far plane
	sceneExtent     = 2.0  // metres; fixed so clip planes do not depend on the layout
)

func f3(v Vec3) string { return fmt.Sprintf("%.6g %.6g %.6g", v[0], v[1], v[2]) }
func f4(v [4]float64) string {
	return fmt.Sprintf("%.6g %.6g %.6g %.6g", v[0], v[1], v[2], v[3])
}

// MJCF renders the scene as MuJoCo XML. The hand is a mocap body (its pose
// is commanded kinematically) with two position-controlled slide fingers.
func MJCF(s *Scene) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(`<mujoco model="vla3d_tabletop">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="%g" cone="elliptic" impratio="10"/>
  <statistic extent="%g" center="0.5 0 0.2"/>
  <visual>
    <global offwidth="%d" offheight="%d"/>
    <map znear="%g" zfar="%g"/>
    <quality shadowsize="0" offsamples="0"/>
    <headlight ambient="%s" diffuse="%s" specular="0 0 0"/>
  </visual>
  <default>
    <geom condim="4" friction="1 0.02 0.001" solref="0.01 1"/>
  </default>
  <worldbody>
`, physicsTimestep, sceneExtent, s.Width, s.Height, clipNear, clipFar,
		f3(scale(s.Light.Headlight, 0.3)), f3(s.Light.Headlight))
	w(`    <light name="key" directional="true" castshadow="false" pos="0.5 0 2" dir="%s" diffuse="%s" ambient="%s" specular="0.1 0.1 0.1"/>
`, f3(s.Light.Dir), f3(s.Light.Diffuse), f3(s.Light.Ambient))
	// The table is drawn as a box but collides as the plane z = 0 (hidden
	// geom group 3): MuJoCo 2.2.2's box-box collision occasionally launches
	// resting boxes, while plane-box contacts are exact.
	w(`    <geom name="floor" type="plane" size="4 4 0.1" pos="0 0 -0.75" rgba="%s"/>
    <geom name="table" type="box" size="%g %g 0.02" pos="%g 0 -0.02" rgba="%s" contype="0" conaffinity="0"/>
    <geom name="table_top" type="plane" size="%g %g 0.1" pos="%g 0 0" group="3"/>
    <geom name="wall_back" type="box" size="0.02 3 1.5" pos="-0.7 0 0.5" rgba="%s"/>
    <geom name="wall_left" type="box" size="3 0.02 1.5" pos="0.5 1.3 0.5" rgba="%s"/>
    <geom name="wall_right" type="box" size="3 0.02 1.5" pos="0.5 -1.6 0.5" rgba="%s"/>
    <geom name="wall_front" type="box" size="0.02 3 1.5" pos="2.2 0 0.5" rgba="%s"/>
`, f4(s.Background.Floor), tableHalfX, tableHalfY, tableCenterX, f4(s.Background.Table),
		tableHalfX, tableHalfY, tableCenterX, f4(s.Background.Wall), f4(s.Background.Wall), f4(s.Background.Wall), f4(s.Background.Wall))
	for _, c := range s.Cameras {
		if !c.Wrist {
			writeCamera(&b, c, "    ")
		}
	}
	q := perception.QuatFromRPY(0, 0, s.EEYaw).WXYZ() // MJCF quat is w x y z
	// The hand is a free body welded to a mocap target: moving a mocap body
	// directly teleports it (zero velocity), so friction could not hold a
	// grasped object; the weld gives the hand real velocities.
	w(`    <body name="hand_target" mocap="true" pos="%s" quat="%s"/>
    <body name="hand" pos="%s" quat="%s">
      <freejoint name="hand"/>
      <inertial pos="0 0 0.05" mass="0.5" diaginertia="0.002 0.002 0.002"/>
      <geom name="palm" type="box" size="0.02 0.055 0.015" pos="0 0 0.05" rgba="0.25 0.25 0.28 1" contype="0" conaffinity="0"/>
      <geom name="wrist_link" type="cylinder" size="0.02 0.04" pos="0 0 0.105" rgba="0.4 0.4 0.42 1" contype="0" conaffinity="0"/>
`, f3(s.EEStart), f4(q), f3(s.EEStart), f4(q))
	for _, c := range s.Cameras {
		if c.Wrist {
			writeCamera(&b, c, "      ")
		}
	}
	for i, side := range []string{"left", "right"} {
		sign := 1.0 - 2*float64(i)
		w(`      <body name="finger_%s" pos="0 %g 0">
        <joint name="finger_%s" type="slide" axis="0 %g 0" range="0 %g" damping="2" armature="0.01"/>
        <geom name="finger_%s" type="box" size="0.012 %g 0.03" pos="0 0 0.01" mass="0.05" friction="1.5 0.02 0.001" rgba="0.3 0.3 0.32 1"/>
      </body>
`, side, sign*fingerOpen, side, -sign, fingerTravel, side, fingerHalfThick)
	}
	w("    </body>\n")
	for _, o := range s.Objects {
		writeObject(&b, o)
	}
	w("  </worldbody>\n  <equality>\n    <weld body1=\"hand_target\" body2=\"hand\" solref=\"0.01 1\"/>\n  </equality>\n  <actuator>\n")
	for _, side := range []string{"left", "right"} {
		w(`    <position name="finger_%s" joint="finger_%s" kp="300" ctrlrange="0 %g" forcerange="-20 20"/>
`, side, side, fingerTravel)
	}
	w("  </actuator>\n</mujoco>\n")
	return b.String()
}

func writeCamera(b *strings.Builder, c Camera, indent string) {
	x, y := lookAtAxes(c.Pos, c.Target, c.Up, c.Roll)
	fmt.Fprintf(b, `%s<camera name="%s" pos="%s" xyaxes="%s %s" fovy="%g"/>
`, indent, c.Name, f3(c.Pos), f3(x), f3(y), c.Fovy)
}

func writeObject(b *strings.Builder, o Object) {
	q := perception.QuatFromRPY(0, 0, o.Yaw).WXYZ()
	fmt.Fprintf(b, "    <body name=\"%s\" pos=\"%s\" quat=\"%s\">\n", o.Name, f3(o.Pos), f4(q))
	if o.Movable {
		fmt.Fprintf(b, "      <freejoint name=\"%s\"/>\n", o.Name)
	}
	switch o.Shape {
	case ShapeBox:
		fmt.Fprintf(b, "      <geom name=\"%s\" type=\"box\" size=\"%s\" mass=\"%g\" rgba=\"%s\"/>\n",
			o.Name, f3(o.Size), o.Mass, f4(o.RGBA))
	case ShapeCylinder:
		fmt.Fprintf(b, "      <geom name=\"%s\" type=\"cylinder\" size=\"%g %g\" mass=\"%g\" rgba=\"%s\"/>\n",
			o.Name, o.Size[0], o.Size[2], o.Mass, f4(o.RGBA))
	case ShapeBowl:
		// A flat base plus a ring of wall slabs; the body origin is the
		// bowl's centre on the table surface.
		r, h := o.Size[0], o.Size[2]
		fmt.Fprintf(b, "      <geom name=\"%s_base\" type=\"cylinder\" size=\"%g 0.004\" pos=\"0 0 0.004\" rgba=\"%s\"/>\n",
			o.Name, r+0.006, f4(o.RGBA))
		const n = 16
		half := math.Pi * (r + 0.006) / n * 1.1
		for i := 0; i < n; i++ {
			a := 2 * math.Pi * float64(i) / n
			qa := perception.QuatFromRPY(0, 0, a).WXYZ()
			fmt.Fprintf(b, "      <geom name=\"%s_wall%d\" type=\"box\" size=\"0.004 %g %g\" pos=\"%g %g %g\" quat=\"%s\" rgba=\"%s\"/>\n",
				o.Name, i, half, h/2, (r+0.004)*math.Cos(a), (r+0.004)*math.Sin(a), h/2, f4(qa), f4(o.RGBA))
		}
	}
	fmt.Fprintf(b, "    </body>\n")
}
