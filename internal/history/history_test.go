package history

import (
	"runtime"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)

func sampleAt(i int) Sample {
	return Sample{Time: t0.Add(time.Duration(i) * 5 * time.Second), CPUPercent: float64(i) / 4, RSS: uint64(i) << 20}
}

func TestRing(t *testing.T) {
	tests := []struct {
		name  string
		cap   int
		added int
		want  []int // the sample numbers held, oldest first
	}{
		{"empty", 3, 0, nil},
		{"partly full", 3, 2, []int{0, 1}},
		{"full", 3, 3, []int{0, 1, 2}},
		{"wrapped once", 3, 4, []int{1, 2, 3}},
		{"wrapped to the start", 3, 6, []int{3, 4, 5}},
		{"wrapped many times", 3, 3*100 + 2, []int{299, 300, 301}},
		{"capacity 1", 1, 5, []int{4}},
		{"capacity 0 means 1", 0, 2, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(tt.cap)
			for i := range tt.added {
				r.Add(sampleAt(i))
			}
			var want []Sample
			for _, i := range tt.want {
				want = append(want, sampleAt(i))
			}
			got := r.Samples()
			if len(got) != len(want) || r.Len() != len(want) {
				t.Fatalf("%d samples (Len %d), want %d", len(got), r.Len(), len(want))
			}
			for i := range got {
				if !got[i].Time.Equal(want[i].Time) || got[i].CPUPercent != want[i].CPUPercent || got[i].RSS != want[i].RSS {
					t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
				}
			}
			last, ok := r.Last()
			if ok != (len(want) > 0) || (ok && !last.Time.Equal(want[len(want)-1].Time)) {
				t.Errorf("Last = %+v, %v; want the newest of %v", last, ok, tt.want)
			}
		})
	}
}

func TestSamplePrecision(t *testing.T) {
	r := NewRing(1)
	r.Add(Sample{Time: t0.Add(1500 * time.Microsecond), CPUPercent: 12.3456, RSS: 10<<20 + 1000})
	got, _ := r.Last()
	want := Sample{Time: t0.Add(time.Millisecond), CPUPercent: 12.345600128173828, RSS: 10 << 20}
	if !got.Time.Equal(want.Time) || got.CPUPercent != want.CPUPercent || got.RSS != want.RSS {
		t.Errorf("stored %+v, want %+v", got, want)
	}
}

func TestSet(t *testing.T) {
	s := NewSet(time.Hour, 5*time.Second)
	if s.Cap() != 720 {
		t.Fatalf("Cap = %d, want 720", s.Cap())
	}
	a, b := KeyOf(100, t0), KeyOf(100, t0.Add(time.Minute)) // a recycled pid
	for i := range 1000 {
		s.Add(a, sampleAt(i))
	}
	s.Add(b, sampleAt(0))
	if got := s.Samples(a); len(got) != 720 || !got[0].Time.Equal(sampleAt(280).Time) {
		t.Errorf("a: %d samples from %v, want 720 from %v", len(got), got[0].Time, sampleAt(280).Time)
	}
	if got := s.Samples(b); len(got) != 1 {
		t.Errorf("b: %d samples, want 1 of its own", len(got))
	}
	s.Retain([]Key{b})
	if s.Len() != 1 || s.Samples(a) != nil || s.Samples(b) == nil {
		t.Errorf("after Retain(b): %d hubs, a %v", s.Len(), s.Samples(a))
	}
}

// heapFor returns the heap bytes that 100 hubs' full hour of history at
// one sample every interval hold.
func heapFor(interval time.Duration) (uint64, *Set) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewSet(time.Hour, interval)
	for h := range 100 {
		k := KeyOf(1000+h, t0)
		for i := range s.Cap() {
			s.Add(k, sampleAt(i))
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	return after.HeapAlloc - before.HeapAlloc, s
}

// TestMemoryFor100Hubs: an hour at 5 s for 100 hubs is 72,000 samples of
// 16 bytes, 1,152,000 bytes, plus the map and ring headers.
func TestMemoryFor100Hubs(t *testing.T) {
	heap, s := heapFor(5 * time.Second)
	t.Logf("100 hubs × %d samples: %d heap bytes", s.Cap(), heap)
	if heap > 1_400_000 {
		t.Errorf("100 hubs' history holds %d heap bytes, want at most 1,400,000", heap)
	}
	if s.Len() != 100 {
		t.Errorf("%d hubs, want 100", s.Len())
	}
}

// BenchmarkMemory100Hubs reports the heap that 100 hubs' full hour of
// history (720 samples each, as the collector keeps at any interval up to
// 5 s) holds, and the cost of one Add.
func BenchmarkMemory100Hubs(b *testing.B) {
	heap, s := heapFor(5 * time.Second)
	k := KeyOf(1000, t0)
	i := 0
	for b.Loop() {
		s.Add(k, sampleAt(i))
		i++
	}
	b.ReportMetric(float64(heap), "heap-bytes/100hubs")
}

func TestSeries(t *testing.T) {
	// sampleAt(i) has CPU i/4 and RSS i MiB.
	tests := []struct {
		name    string
		cap     int
		added   int
		n       int
		wantCPU []float64
		wantRSS []uint64 // MiB
		wantAt  []int    // the sample whose time each point has
		until   int      // the last sample included; -1: all
	}{
		{"empty", 4, 0, 3, nil, nil, nil, -1},
		{"fewer samples than points", 4, 2, 3, []float64{0, 0.25}, []uint64{0, 1}, []int{0, 1}, -1},
		{"two to a point", 8, 6, 3, []float64{0.125, 0.625, 1.125}, []uint64{0, 2, 4}, []int{1, 3, 5}, -1},
		{"uneven split: three, then two", 8, 5, 2, []float64{0.25, 0.875}, []uint64{1, 3}, []int{2, 4}, -1},
		{"wrapped ring", 4, 6, 2, []float64{0.625, 1.125}, []uint64{2, 4}, []int{3, 5}, -1},
		{"one point", 4, 4, 1, []float64{0.375}, []uint64{1}, []int{3}, -1},
		{"n 0 means 1", 4, 2, 0, []float64{0.125}, []uint64{0}, []int{1}, -1},
		{"up to a time", 8, 6, 2, []float64{0.125, 0.625}, []uint64{0, 2}, []int{1, 3}, 3},
		{"up to before the first", 8, 6, 2, nil, nil, nil, -2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(tt.cap)
			for i := range tt.added {
				r.Add(sampleAt(i))
			}
			var until time.Time
			switch {
			case tt.until == -2:
				until = sampleAt(0).Time.Add(-time.Second)
			case tt.until >= 0:
				until = sampleAt(tt.until).Time
			}
			got := r.Series(tt.n, until)
			if len(got) != len(tt.wantCPU) {
				t.Fatalf("%d points %+v, want %d", len(got), got, len(tt.wantCPU))
			}
			for i, p := range got {
				// RSS averages in KiB and rounds down.
				if p.CPUPercent != tt.wantCPU[i] || p.RSS>>20 != tt.wantRSS[i] || !p.Time.Equal(sampleAt(tt.wantAt[i]).Time) {
					t.Errorf("point %d = {cpu %v rss %d MiB at %v}, want {cpu %v rss %d MiB at sample %d}",
						i, p.CPUPercent, p.RSS>>20, p.Time, tt.wantCPU[i], tt.wantRSS[i], tt.wantAt[i])
				}
			}
		})
	}
	s := NewSet(time.Minute, 5*time.Second)
	if s.Series(KeyOf(1, t0), 10, time.Time{}) != nil {
		t.Error("Series of an unknown hub is not nil")
	}
	s.Add(KeyOf(1, t0), sampleAt(3))
	if got := s.Series(KeyOf(1, t0), 10, time.Time{}); len(got) != 1 || got[0].CPUPercent != 0.75 {
		t.Errorf("Set.Series = %+v, want the one sample", got)
	}
}
