package policy

// Names of the policy's ONNX tensors, the one contract between the
// exporter (policy/onnx) and the runtime (policy/ort): Input's fields in
// snake_case, the flow head's noise, and the normalized action chunk.
const (
	TensorImages      = "images"        // [B,V,3,H,W] RGB in [0,1]
	TensorPoints      = "points"        // [B,V,N,3] patch centres, base frame
	TensorPointValid  = "point_valid"   // [B,V,N]
	TensorIntrinsics  = "intrinsics"    // [B,V,4] fx, fy, cx, cy
	TensorCamFromBase = "cam_from_base" // [B,V,12] row-major [R|t]
	TensorProprio     = "proprio"       // [B,ProprioDim]
	TensorInstruction = "instruction"   // [B,InstructionLen] int64 token ids
	TensorNoise       = "noise"         // [B,H,ActionDim], flow head only
	TensorActions     = "actions"       // [B,H,ActionDim] normalized action chunk (output)
	// TensorPatchFeatures [B,V,N,Dv] replaces TensorImages when the model
	// reads a frozen encoder's patch tokens (Spec.Encoder).
	TensorPatchFeatures = "patch_features"
)
