package handlers

import (
	"net/http"
	"strconv"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"boneyard/internal/collector"
	"boneyard/internal/metrics"
	"boneyard/registry"
)

// TestMetrics scrapes /metrics through the real router and reads it back
// with client_golang's own text parser.
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.idle(e.workspace("quiet"), "quiet")
	runDir := e.workspace("busy")
	h := startHub(t, "serve", runDir, true)
	runID := registry.WorkspaceID(runDir)
	snap := e.refresh()
	w, ok := snap.Workspace(runID)
	if !ok || w.Resources == nil {
		t.Fatalf("the running hub has no resources in the snapshot: %+v", w)
	}

	m := metrics.New(metrics.Options{
		Source:  e.col,
		Events:  func() map[collector.Kind]uint64 { return map[collector.Kind]uint64{"hub-died": 2} },
		Streams: func() int { return 3 },
	})
	cfg := e.config(testPort)
	cfg.Metrics = m.Handler()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv

	r := request(http.MethodGet, "/metrics", nil)
	r.Header.Del("Authorization")
	if got := e.serve(r).Code; got != http.StatusUnauthorized {
		t.Fatalf("GET /metrics without a token: %d, want 401", got)
	}
	resp := e.get("/metrics")
	if resp.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d: %s", resp.Code, resp.Body.String())
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the exposition: %v", err)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		f := families[name]
		if f == nil {
			return 0, false
		}
	metric:
		for _, mt := range f.Metric {
			got := map[string]string{}
			for _, lp := range mt.Label {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return mt.Counter.GetValue(), true
			case dto.MetricType_GAUGE:
				return mt.Gauge.GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(mt.Histogram.GetSampleCount()), true
			}
		}
		return 0, false
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"boneyard_workspaces", map[string]string{"status": "idle"}, 1},
		{"boneyard_workspaces", map[string]string{"status": "running"}, 1},
		{"boneyard_workspaces", map[string]string{"status": "orphan"}, 0},
		{"boneyard_orphan_hubs", nil, 0},
		{"boneyard_events_total", map[string]string{"kind": "hub-died"}, 2},
		{"boneyard_events_total", map[string]string{"kind": "hub-started"}, 0},
		{"boneyard_sse_clients", nil, 3},
		{"boneyard_hub_resident_memory_bytes", map[string]string{"workspace": "busy", "id": runID}, float64(w.Resources.RSS)},
		{"boneyard_hub_uptime_seconds", map[string]string{"workspace": "busy", "id": runID}, w.Resources.Uptime.Seconds()},
		{"boneyard_hub_cpu_seconds_total", map[string]string{"workspace": "busy", "id": runID}, w.Resources.CPUTime.Seconds()},
	}
	for _, tt := range tests {
		got, ok := value(tt.name, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if n := len(families["boneyard_hub_resident_memory_bytes"].GetMetric()); n != 1 {
		t.Errorf("%d hub memory series, want 1: only the current hub (pid %s)", n, strconv.Itoa(h.PID))
	}
	for _, std := range []string{"go_goroutines", "process_resident_memory_bytes", "boneyard_collection_duration_seconds"} {
		if families[std] == nil {
			t.Errorf("no %s in the exposition", std)
		}
	}
}
