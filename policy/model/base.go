package model

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // GoMLX graph code reads best with the dot import.
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// BaseOutput is what the base vision-language-action policy hands on.
type BaseOutput struct {
	// Patches are the per-view 2D visual tokens F, [B, V*N, d] (view-major),
	// the input of Multi-View Spatial Fusion.
	Patches *Node
	// Tokens are the base's context for the action expert: visual tokens,
	// instruction tokens and the proprio token, [B, V*N+L+1, d].
	Tokens *Node
	// Mask is 1 for attendable tokens of Tokens (instruction padding is 0).
	Mask *Node
}

// Base builds the base policy in scope "base": a trainable linear patch
// encoder per view (with patch-position and view embeddings), a learned
// instruction embedding over the dataset vocabulary, a proprio token, and a
// small transformer over all of them.
//
// Frozen pretrained encoders plug in from outside the graph (no weights can
// be downloaded here, and a user's exported DINOv2/SigLIP or text encoder
// runs in ONNX Runtime): with Config.VisualFeatureDim > 0 the graph reads
// Inputs.PatchFeatures [B,V,N,Fv] instead of cutting patches from the images,
// and with Config.TextFeatureDim > 0 it reads Inputs.InstructionFeatures
// [B,L,Ft] instead of the learned table (the token ids still give the padding
// mask). Either way a trainable linear adapter maps the features to width d.
func Base(ctx *context.Context, cfg Config, in Inputs) BaseOutput {
	ctx = ctx.In(ScopeBase)
	g := in.Images.Graph()
	b := in.Images.Shape().Dimensions[0]
	d := cfg.Width

	var patches *Node
	if cfg.VisualFeatureDim > 0 {
		patches = frozenPatchFeatures(ctx.In("patch_encoder"), cfg, in.PatchFeatures)
	} else {
		patches = patchEncoder(ctx.In("patch_encoder"), cfg, in.Images) // [B,V,N,d]
	}
	visual := Reshape(patches, b, cfg.Tokens(), d)

	var text, textMask *Node
	if cfg.TextFeatureDim > 0 {
		ie := ctx.In("instruction_embedding")
		_, textMask = instructionIDs(cfg, in.Instruction)
		text = Add(dense(ie, "adapter", in.InstructionFeatures, d), learned(ie, g, "position_embedding", 1, cfg.InstructionLen, d))
	} else {
		text, textMask = instructionEmbedding(ctx.In("instruction_embedding"), cfg, in.Instruction)
	}
	prop := InsertAxes(dense(ctx, "proprio", in.Proprio, d), 1) // [B,1,d]

	tokens := Concatenate([]*Node{visual, text, prop}, 1)
	mask := Concatenate([]*Node{
		Ones(g, shapeOf(dtypes.Float32, b, cfg.Tokens())), textMask, Ones(g, shapeOf(dtypes.Float32, b, 1)),
	}, 1)
	for i := range cfg.BaseLayers {
		tokens = block(ctx.Inf("layer_%d", i), tokens, attnArgs{Heads: cfg.Heads, KeyMask: mask}, d*cfg.MLPRatio)
	}
	tokens = layerNorm(ctx, "norm_out", tokens)
	return BaseOutput{
		Patches: take(tokens, 1, 0, cfg.Tokens()),
		Tokens:  tokens,
		Mask:    mask,
	}
}

// patchEncoder cuts [B,V,3,H,W] images into p x p patches (row-major grid)
// and embeds each with one linear layer: a stride-p convolution written as
// reshape + matmul, which keeps the exported graph Conv-free. With a stem
// (Config.StemChannels), s x s sub-patches are embedded first, non-linearly,
// and the patch embedding reads their features in place.
func patchEncoder(ctx *context.Context, cfg Config, images *Node) *Node {
	g := images.Graph()
	b, v, p := images.Shape().Dimensions[0], cfg.Cameras, cfg.PatchSize
	gh, gw := cfg.GridH(), cfg.GridW()
	var x *Node
	if cfg.StemChannels > 0 {
		s := cfg.stemPatch()
		k := p / s
		x = Reshape(images, b, v, 3, gh, k, s, gw, k, s)
		x = TransposeAllAxes(x, 0, 1, 3, 6, 4, 7, 2, 5, 8) // [B,V,gh,gw,k,k,3,s,s]
		x = Reshape(x, b, v, gh*gw, k*k, 3*s*s)
		x = gelu(dense(ctx, "stem", AddScalar(x, -0.5), cfg.StemChannels))
		x.AssertDims(b, v, gh*gw, k*k, cfg.StemChannels)
		x = Reshape(x, b, v, gh*gw, k*k*cfg.StemChannels)
	} else {
		x = Reshape(images, b, v, 3, gh, p, gw, p)
		x = TransposeAllAxes(x, 0, 1, 3, 5, 2, 4, 6) // [B,V,gh,gw,3,p,p]
		x = Reshape(x, b, v, gh*gw, 3*p*p)
		// Centre [0,1] pixels so the initial embedding is zero-mean.
		x = AddScalar(x, -0.5)
	}
	x = dense(ctx, "patch_embedding", x, cfg.Width)
	pos := learned(ctx, g, "position_embedding", 1, 1, cfg.Patches(), cfg.Width)
	view := learned(ctx, g, "view_embedding", 1, cfg.Cameras, 1, cfg.Width)
	return Add(Add(x, pos), view)
}

// frozenPatchFeatures adapts features [B,V,N,Fv] of a frozen encoder run
// outside the graph to width d, with the same position and view embeddings.
func frozenPatchFeatures(ctx *context.Context, cfg Config, feats *Node) *Node {
	g := feats.Graph()
	x := dense(ctx, "adapter", feats, cfg.Width)
	pos := learned(ctx, g, "position_embedding", 1, 1, cfg.Patches(), cfg.Width)
	view := learned(ctx, g, "view_embedding", 1, cfg.Cameras, 1, cfg.Width)
	return Add(Add(x, pos), view)
}

// instructionEmbedding looks token ids [B,L] (0 = padding) up in a learned
// table and adds a position embedding; returns tokens [B,L,d] and the
// non-padding mask [B,L].
func instructionEmbedding(ctx *context.Context, cfg Config, ids *Node) (*Node, *Node) {
	g := ids.Graph()
	l := ids.Shape().Dimensions[1]
	ids, mask := instructionIDs(cfg, ids)
	table := learned(ctx, g, "table", cfg.VocabSize, cfg.Width)
	tok := Gather(table, InsertAxes(ids, -1)) // [B,L,d]
	tok = Add(tok, learned(ctx, g, "position_embedding", 1, l, cfg.Width))
	return tok, mask
}

// instructionIDs clamps ids to the vocabulary (ids outside it map to 0,
// unknown) and returns them as int32 with the non-padding mask [B,L].
func instructionIDs(cfg Config, ids *Node) (*Node, *Node) {
	g := ids.Graph()
	ids = ConvertDType(ids, dtypes.Int32)
	inVocab := LogicalAnd(GreaterOrEqual(ids, ScalarZero(g, dtypes.Int32)),
		LessThan(ids, Scalar(g, dtypes.Int32, cfg.VocabSize)))
	ids = Where(inVocab, ids, ZerosLike(ids))
	return ids, ConvertDType(GreaterThan(ids, ZerosLike(ids)), dtypes.Float32)
}
