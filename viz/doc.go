// Package viz draws what a policy saw and did, offline: per episode an
// animated GIF of every camera with the instance probes' 3D reference
// points and the completion points projected through the camera model the
// policy used (perception.ProjectPoints, the instance module's projection),
// the planned chunk's end-effector path projected into the views and a
// caption (e.g. the success or failure reason), and a top-down plot of the
// end-effector path against the objects' true positions (when known, e.g.
// from the simulator) and the predicted instances. vla3d-eval and
// vla3d-sim eval write them with -pictures.
package viz
