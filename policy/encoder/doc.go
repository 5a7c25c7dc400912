// Package encoder runs a user's frozen ONNX image encoder (an exported
// DINOv2, SigLIP, ResNet trunk, ...) through ONNX Runtime to produce the
// per-view 2D patch tokens the base policy reads when its configuration has
// VisualFeatureDim > 0 (model input "patch_features" [B,V,N,Dv]). No
// pretrained weights can be downloaded where vla3d is built, so the encoder
// is plugged in by path rather than shipped.
//
// Contract of the encoder model:
//
//   - one input "image", float32 [1,3,H,W] (a dynamic batch axis is accepted
//     and run at 1): RGB in [0,1], or ImageNet-normalised
//     ((x-mean)/std per channel) with Options.Normalize = "imagenet". H and W
//     are the policy's image size (a dynamic H/W takes it from Options).
//   - an output "features", float32, either patch tokens [1,N,Dv] or a
//     feature map [1,Dv,h,w], which is flattened row-major to N = h*w tokens
//     (token y*w+x holds the Dv channels of cell (y,x)). N must equal the
//     policy's patches per view (its spec's grid); Dv becomes the model's
//     VisualFeatureDim.
//
// Encode runs the encoder once per view into preallocated, session-bound
// tensors and does not allocate in steady state.
package encoder
