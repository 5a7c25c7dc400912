package observe

import (
	"errors"
	"fmt"
	"time"
)

// TFConfig parameterizes the tf buffer (tf2 BufferCore semantics).
type TFConfig struct {
	// CacheTime is how far back each moving edge keeps samples, measured
	// from that edge's newest stamp (tf2's cache_time, default 10 s).
	CacheTime Duration `yaml:"cache_time"`
	// ExtrapolationTolerance lets a lookup fall this far outside an edge's
	// samples and still use the nearest one (a wrist camera's image stamp is
	// often a few ms newer than the last /tf); beyond it the lookup fails
	// with an ExtrapolationError, like tf2's ExtrapolationException.
	ExtrapolationTolerance Duration `yaml:"extrapolation_tolerance"`
	// Wait is how long a synchronized set may be held back for a /tf
	// message that has not caught up with its image stamps (tf2_ros
	// MessageFilter): only while the edge's newest sample is at most Wait
	// older than the image and the set at most Wait old. 0 never waits.
	Wait Duration `yaml:"wait"`
	// MaxSamples caps one moving edge's ring buffer (rounded up to a power
	// of two): the cache covers min(cache_time, max_samples / publish rate).
	MaxSamples int `yaml:"max_samples"`
}

// DefaultTFConfig is tf2's 10 s cache, a 50 ms extrapolation tolerance, a
// 200 ms wait for late /tf (two periods of a 10 Hz publisher) and room for
// 10 s of a 1 kHz publisher.
func DefaultTFConfig() TFConfig {
	return TFConfig{
		CacheTime:              Duration{10 * time.Second},
		ExtrapolationTolerance: Duration{50 * time.Millisecond},
		Wait:                   Duration{200 * time.Millisecond},
		MaxSamples:             10000,
	}
}

// Validate reports every problem with c.
func (c TFConfig) Validate() error {
	var errs []error
	if c.CacheTime.Duration <= 0 {
		errs = append(errs, fmt.Errorf("tf.cache_time %v must be positive", c.CacheTime.Duration))
	}
	if c.ExtrapolationTolerance.Duration < 0 {
		errs = append(errs, fmt.Errorf("tf.extrapolation_tolerance %v must be >= 0", c.ExtrapolationTolerance.Duration))
	}
	if c.Wait.Duration < 0 {
		errs = append(errs, fmt.Errorf("tf.wait %v must be >= 0", c.Wait.Duration))
	}
	if c.MaxSamples < 2 || c.MaxSamples > 1<<22 {
		errs = append(errs, fmt.Errorf("tf.max_samples %d must be in [2, %d]", c.MaxSamples, 1<<22))
	}
	return errors.Join(errs...)
}
