// Package metrics exposes boneyard's view of the host's hubs in the
// Prometheus text format, through client_golang: workspaces by status,
// process-only orphan hubs, each current hub's CPU time, memory and uptime,
// lifecycle events by kind, how long collections take, the open event
// streams, and the standard Go and process collectors.
//
// Everything but the collection histogram is read from the latest snapshot
// at scrape time, so a scrape never waits on a probe and the per-hub label
// sets are exactly the hubs running now.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"boneyard/internal/collector"
)

// Source is where the metrics come from; *collector.Collector is one.
type Source interface {
	Snapshot() *collector.Snapshot
	Subscribe() (updates <-chan *collector.Snapshot, cancel func())
}

// Options wire a Metrics. Events and Streams may be nil.
type Options struct {
	Source  Source
	Events  func() map[collector.Kind]uint64 // lifecycle events written since start, by kind
	Streams func() int                       // open SSE streams
}

// Metrics is a Prometheus registry over one collector.
type Metrics struct {
	reg      *prometheus.Registry
	src      Source
	duration prometheus.Histogram
}

var (
	workspacesDesc = prometheus.NewDesc("boneyard_workspaces", "Workspaces by status, as the dashboard shows them (down: known to boneyard, gone from the registry).", []string{"status"}, nil)
	orphansDesc    = prometheus.NewDesc("boneyard_orphan_hubs", "Process-only orphan hub processes: bones hubs no registry entry names.", nil, nil)
	cpuDesc        = prometheus.NewDesc("boneyard_hub_cpu_seconds_total", "CPU time used by a workspace's hub process.", []string{"workspace", "id"}, nil)
	rssDesc        = prometheus.NewDesc("boneyard_hub_resident_memory_bytes", "Resident memory of a workspace's hub process.", []string{"workspace", "id"}, nil)
	uptimeDesc     = prometheus.NewDesc("boneyard_hub_uptime_seconds", "How long a workspace's hub process has run.", []string{"workspace", "id"}, nil)
	eventsDesc     = prometheus.NewDesc("boneyard_events_total", "Lifecycle events this boneyard recorded since it started, by kind.", []string{"kind"}, nil)
	streamsDesc    = prometheus.NewDesc("boneyard_sse_clients", "Open server-sent event streams (pages updating live).", nil, nil)
)

// New builds the registry.
func New(o Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		src: o.Source,
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "boneyard_collection_duration_seconds",
			Help:    "How long a collection of the registry, the processes, the locks and the resources took.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.duration,
		snapshotCollector{src: o.Source, events: o.Events, streams: o.Streams},
	)
	return m
}

// Run observes the duration of every collection until ctx is done.
func (m *Metrics) Run(ctx context.Context) {
	updates, cancel := m.src.Subscribe()
	defer cancel()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-updates:
			if !ok {
				return
			}
			if s.Seq != last && s.Seq > 0 {
				last = s.Seq
				m.duration.Observe(s.Took.Seconds())
			}
		}
	}
}

// Handler serves the exposition; errors of one collector are reported, not
// fatal to the scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Timeout: 10 * time.Second})
}

// snapshotCollector turns the latest snapshot into metrics at scrape time.
type snapshotCollector struct {
	src     Source
	events  func() map[collector.Kind]uint64
	streams func() int
}

func (c snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{workspacesDesc, orphansDesc, cpuDesc, rssDesc, uptimeDesc, eventsDesc, streamsDesc} {
		ch <- d
	}
}

func (c snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.src.Snapshot()
	if snap.Seq > 0 {
		counts := snap.Counts()
		for _, st := range collector.Statuses() {
			ch <- prometheus.MustNewConstMetric(workspacesDesc, prometheus.GaugeValue, float64(counts.Of(st)), string(st))
		}
		ch <- prometheus.MustNewConstMetric(orphansDesc, prometheus.GaugeValue, float64(counts.ProcessOrphans))
		seen := make(map[string]bool)
		for _, w := range snap.Workspaces {
			if w.Resources == nil || seen[w.ID] {
				continue
			}
			seen[w.ID] = true
			name := w.DisplayName()
			ch <- prometheus.MustNewConstMetric(cpuDesc, prometheus.CounterValue, w.Resources.CPUTime.Seconds(), name, w.ID)
			ch <- prometheus.MustNewConstMetric(rssDesc, prometheus.GaugeValue, float64(w.Resources.RSS), name, w.ID)
			ch <- prometheus.MustNewConstMetric(uptimeDesc, prometheus.GaugeValue, w.Resources.Uptime.Seconds(), name, w.ID)
		}
	}
	if c.events != nil {
		counts := c.events()
		for _, k := range collector.Kinds() {
			ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.CounterValue, float64(counts[k]), string(k))
		}
	}
	if c.streams != nil {
		ch <- prometheus.MustNewConstMetric(streamsDesc, prometheus.GaugeValue, float64(c.streams()))
	}
}
