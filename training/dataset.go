package training

import (
	"fmt"
	"math/rand/v2"

	"github.com/vla3d/vla3d/policy"
)

// Dataset is random access to training samples.
type Dataset interface {
	Len() int
	Sample(i int) (*Sample, error)
}

// SpecSource is implemented by datasets that know the normalization
// statistics and vocabulary the samples were made with; the trainer writes
// them into the model sidecar.
type SpecSource interface {
	Spec() policy.Spec
}

// MemoryDataset is a Dataset held in memory.
type MemoryDataset struct {
	Samples []*Sample
	Stats   policy.Spec // normalization statistics and vocabulary, if known
}

// Len implements Dataset.
func (m *MemoryDataset) Len() int { return len(m.Samples) }

// Sample implements Dataset.
func (m *MemoryDataset) Sample(i int) (*Sample, error) {
	if i < 0 || i >= len(m.Samples) {
		return nil, fmt.Errorf("sample %d out of %d", i, len(m.Samples))
	}
	return m.Samples[i], nil
}

// Spec implements SpecSource.
func (m *MemoryDataset) Spec() policy.Spec { return m.Stats }

// order is the deterministic visiting order of one epoch: a permutation
// seeded by (seed, epoch), so a resumed run continues the same sequence.
func order(n int, seed int64, epoch int) []int {
	return rand.New(rand.NewPCG(uint64(seed), uint64(epoch))).Perm(n)
}

// nextBatch returns the sample indices of the batch at (epoch, cursor) and
// the position after it. Batches never straddle epochs; a trailing partial
// batch is skipped. A dataset smaller than the batch repeats samples.
func nextBatch(n, batch int, seed int64, epoch, cursor int) (idx []int, nextEpoch, nextCursor int) {
	if n < batch {
		perm := order(n, seed, epoch)
		for i := range batch {
			idx = append(idx, perm[i%n])
		}
		return idx, epoch + 1, 0
	}
	if cursor+batch > n {
		epoch, cursor = epoch+1, 0
	}
	perm := order(n, seed, epoch)
	return perm[cursor : cursor+batch], epoch, cursor + batch
}
