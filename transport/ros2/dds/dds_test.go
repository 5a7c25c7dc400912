package dds

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newPair(t *testing.T) (*Participant, *Participant, *[]Event) {
	t.Helper()
	var mu sync.Mutex
	var events []Event
	on := func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	a, err := NewParticipant(ParticipantConf{Domain: 77, Config: LocalhostConfig, UserData: "enclave=/;", OnEvent: on})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewParticipant(ParticipantConf{Domain: 77, Config: LocalhostConfig, OnEvent: on})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b, &events
}

func TestRawCDRRoundTrip(t *testing.T) {
	a, b, _ := newPair(t)
	const typ = "std_msgs::msg::dds_::String_"
	sizes := []int{8, 1000, 300_000} // the last needs RTPS fragmentation
	var mu sync.Mutex
	var got [][]byte
	r, err := b.NewReader("rt/chatter", typ, QoS{Reliability: Reliable, Depth: 10}, func(s Sample) {
		mu.Lock()
		got = append(got, append([]byte(nil), s.Data...))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := a.NewWriter("rt/chatter", typ, QoS{Reliability: Reliable, Depth: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	waitFor(t, 10*time.Second, "discovery", func() bool { return w.Matched() == 1 && r.Matched() == 1 })
	var sent [][]byte
	for i, n := range sizes {
		p := make([]byte, n)
		p[1] = 1
		for j := 4; j < n; j++ {
			p[j] = byte(j*7 + i)
		}
		sent = append(sent, p)
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "samples", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == len(sent) })
	for i := range sent {
		if !bytes.Equal(got[i], sent[i]) {
			t.Fatalf("sample %d (%d bytes) differs", i, len(sent[i]))
		}
	}
}

func TestIncompatibleQoSNamesBothSides(t *testing.T) {
	a, b, events := newPair(t)
	const typ = "std_msgs::msg::dds_::Float64_"
	r, err := b.NewReader("rt/cmd", typ, QoS{Reliability: Reliable, Depth: 10}, func(Sample) {})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := a.NewWriter("rt/cmd", typ, QoS{Reliability: BestEffort, Depth: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var e Event
	waitFor(t, 10*time.Second, "incompatible-QoS events", func() bool {
		for _, ev := range *events {
			if ev.Kind == RequestedIncompatibleQoS {
				e = ev
				return true
			}
		}
		return false
	})
	if e.Policy != "RELIABILITY" || e.Topic != "rt/cmd" || e.Theirs != "best_effort/volatile/keep_last 5" {
		t.Fatalf("event %+v", e)
	}
	t.Log(e)
}
