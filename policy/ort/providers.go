package ort

import (
	"errors"
	"fmt"
	"strconv"

	ortapi "github.com/yalue/onnxruntime_go"
	"go.uber.org/zap"
)

// Execution provider names accepted in Options.Providers.
const (
	ProviderTensorRT = "tensorrt"
	ProviderCUDA     = "cuda"
	ProviderCPU      = "cpu"
)

// DefaultProviders is the preference order of the design card: TensorRT,
// then CUDA, then the CPU. Unavailable ones are skipped with a log line, so
// the same configuration runs on a GPU robot and on a CPU-only laptop.
func DefaultProviders() []string { return []string{ProviderTensorRT, ProviderCUDA, ProviderCPU} }

// sessionOptions builds session options for one provider.
func sessionOptions(provider string, opts *Options) (*ortapi.SessionOptions, error) {
	so, err := ortapi.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: session options: %w", err)
	}
	fail := func(err error) (*ortapi.SessionOptions, error) {
		return nil, errors.Join(err, so.Destroy())
	}
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			return fail(fmt.Errorf("ort: intra-op threads: %w", err))
		}
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return fail(fmt.Errorf("ort: inter-op threads: %w", err))
	}
	if opts.ProfilePrefix != "" {
		if err := so.EnableProfiling(opts.ProfilePrefix); err != nil {
			return fail(fmt.Errorf("ort: profiling: %w", err))
		}
	}
	device := map[string]string{"device_id": strconv.Itoa(opts.DeviceID)}
	switch provider {
	case ProviderCPU:
	case ProviderTensorRT:
		trt, err := ortapi.NewTensorRTProviderOptions()
		if err != nil {
			return fail(fmt.Errorf("ort: TensorRT provider: %w", err))
		}
		defer trt.Destroy()
		trtOpts := map[string]string{"device_id": device["device_id"]}
		if opts.TensorRTCacheDir != "" {
			trtOpts["trt_engine_cache_enable"] = "1"
			trtOpts["trt_engine_cache_path"] = opts.TensorRTCacheDir
			trtOpts["trt_timing_cache_enable"] = "1"
			trtOpts["trt_timing_cache_path"] = opts.TensorRTCacheDir
		}
		if opts.TensorRTFP16 {
			trtOpts["trt_fp16_enable"] = "1"
		}
		if err := trt.Update(trtOpts); err != nil {
			return fail(fmt.Errorf("ort: TensorRT provider options: %w", err))
		}
		if err := so.AppendExecutionProviderTensorRT(trt); err != nil {
			return fail(fmt.Errorf("ort: TensorRT provider: %w", err))
		}
		// Nodes TensorRT cannot take fall to CUDA rather than the CPU when
		// CUDA is there; if it is not, the CPU still runs them.
		if cuda, err := ortapi.NewCUDAProviderOptions(); err == nil {
			if cuda.Update(device) == nil {
				_ = so.AppendExecutionProviderCUDA(cuda) // optional second provider
			}
			_ = cuda.Destroy()
		}
	case ProviderCUDA:
		cuda, err := ortapi.NewCUDAProviderOptions()
		if err != nil {
			return fail(fmt.Errorf("ort: CUDA provider: %w", err))
		}
		defer cuda.Destroy()
		if err := cuda.Update(device); err != nil {
			return fail(fmt.Errorf("ort: CUDA provider options: %w", err))
		}
		if err := so.AppendExecutionProviderCUDA(cuda); err != nil {
			return fail(fmt.Errorf("ort: CUDA provider: %w", err))
		}
	default:
		return fail(fmt.Errorf("ort: unknown execution provider %q (want %s, %s or %s)", provider, ProviderTensorRT, ProviderCUDA, ProviderCPU))
	}
	return so, nil
}

// withFallback calls create with each provider's options in order until one
// succeeds, logging every provider that is unavailable, and returns the
// provider that was used.
func withFallback(opts *Options, log *zap.Logger, create func(*ortapi.SessionOptions) error) (string, error) {
	providers := opts.Providers
	if len(providers) == 0 {
		providers = DefaultProviders()
	}
	var errs []error
	for i, p := range providers {
		so, err := sessionOptions(p, opts)
		if err == nil {
			err = create(so)
			err = errors.Join(err, so.Destroy())
		}
		if err == nil {
			return p, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", p, err))
		if i+1 < len(providers) {
			log.Info("execution provider unavailable, falling back", zap.String("provider", p),
				zap.String("next", providers[i+1]), zap.Error(err))
		}
	}
	return "", fmt.Errorf("ort: no execution provider could run the model: %w", errors.Join(errs...))
}
