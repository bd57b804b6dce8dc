package handlers

import (
	"slices"
	"strings"
	"testing"
	"time"

	"boneyard/internal/collector"
	"boneyard/registry"
)

// deathSamples bounds the kills BenchmarkDeathToUpdate makes per variant.
const deathSamples = 20

// BenchmarkDeathToUpdate measures how long a hub's death takes, from its
// SIGKILL, to reach the journal (a published snapshot holding the
// hub-died event, which is written to events.jsonl before the snapshot is
// published) and an open dashboard's event stream (the update that turns
// its row down). "exitwatch" is boneyard as it runs; "interval" turns the
// exit watcher off, so that only the 2 s collection interval notices.
// It reports p50 and p90 in milliseconds; run it with -benchtime=1x.
func BenchmarkDeathToUpdate(b *testing.B) {
	for _, v := range []struct {
		name    string
		noWatch bool
		samples int
	}{{"exitwatch", false, deathSamples}, {"interval", true, deathSamples / 2}} {
		b.Run(v.name, func(b *testing.B) {
			e := newJournalEnv(b, true, func(o *collector.Options) { o.Interval, o.NoExitWatch = 2*time.Second, v.noWatch })
			l := e.listen()
			st := l.stream(b, seqQuery(e))
			var toJournal, toStream []time.Duration
			for b.Loop() {
				toJournal, toStream = nil, nil
				for i := range v.samples {
					j, s := killOnce(b, e, st, i)
					toJournal, toStream = append(toJournal, j), append(toStream, s)
				}
			}
			for _, m := range []struct {
				unit string
				d    []time.Duration
			}{{"journal", toJournal}, {"stream", toStream}} {
				slices.Sort(m.d)
				b.ReportMetric(ms(pct(m.d, 50)), "ms-p50-"+m.unit)
				b.ReportMetric(ms(pct(m.d, 90)), "ms-p90-"+m.unit)
			}
		})
	}
}

// killOnce starts a hub, waits for the stream to show it running, kills it
// and returns how long its death took to reach a published snapshot's
// journal and the stream.
func killOnce(b *testing.B, e *env, st *sse, i int) (toJournal, toStream time.Duration) {
	dir := e.workspace("death-" + strings.Repeat("x", i%3) + string(rune('a'+i)))
	id := registry.WorkspaceID(dir)
	h := startHub(b, "bones", dir, true)
	waitStream(b, st, `id="ws-`+id+`" data-status="running"`)

	updates, cancel := e.col.Subscribe()
	defer cancel()
	journaled := make(chan time.Time, 1)
	go func() {
		for s := range updates {
			if len(s.Events(collector.EventFilter{WorkspaceID: id, Kind: collector.KindHubDied})) > 0 {
				journaled <- time.Now()
				return
			}
		}
	}()
	killed := time.Now()
	h.Kill()
	streamed := waitStream(b, st, `id="ws-`+id+`" data-status="down"`)
	select {
	case at := <-journaled:
		return at.Sub(killed), streamed.Sub(killed)
	case <-time.After(10 * time.Second):
		b.Fatal("the death never reached a snapshot")
		return 0, 0
	}
}

// waitStream returns when an event holding want arrives on st.
func waitStream(b *testing.B, st *sse, want string) time.Time {
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-st.events:
			if strings.Contains(ev, want) {
				return time.Now()
			}
		case <-deadline:
			b.Fatalf("no event with %s within 10s", want)
		}
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, (len(sorted)*p+99)/100-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
