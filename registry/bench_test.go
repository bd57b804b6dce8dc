package registry

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"

	"boneyard/internal/hubtest"
)

// benchRegistry fills a fresh registry with n entries that survive pruning;
// with url set they are live hubs answering at url, otherwise half are
// idle rows and half live hubs without a URL.
func benchRegistry(b *testing.B, n int, url func(i int) string) Registry {
	b.Helper()
	r, home := testRegistry(b)
	for i := range n {
		e := Entry{Cwd: hubtest.Workspace(b, home, "ws"+strconv.Itoa(i), true), Name: "ws" + strconv.Itoa(i)}
		if url != nil {
			e.HubPID, e.HubURL = os.Getpid(), url(i)
		} else if i%2 == 0 {
			e.HubPID = os.Getpid()
		}
		mustWrite(b, r, e)
	}
	return r
}

var benchSizes = []int{10, 100, 1000}

func BenchmarkList(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			r := benchRegistry(b, n, nil)
			for b.Loop() {
				entries, err := r.List()
				if err != nil || len(entries) != n {
					b.Fatalf("List: %d entries, %v", len(entries), err)
				}
			}
		})
	}
}

func BenchmarkListInfo(b *testing.B) {
	srv := httptest.NewServer(http.NotFoundHandler())
	b.Cleanup(srv.Close)
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			r := benchRegistry(b, n, func(int) string { return srv.URL })
			for b.Loop() {
				infos, err := r.ListInfo()
				if err != nil || len(infos) != n {
					b.Fatalf("ListInfo: %d rows, %v", len(infos), err)
				}
			}
		})
	}
}

// BenchmarkListInfoHung measures ListInfo over 20 hubs of which 0 or 20
// accept connections but never answer; with concurrent probes, 20 hung hubs
// cost about one HealthTimeout.
func BenchmarkListInfoHung(b *testing.B) {
	const hubs = 20
	srv := httptest.NewServer(http.NotFoundHandler())
	b.Cleanup(srv.Close)
	for _, n := range []int{0, hubs} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			h := hungListeners(b, n)
			r := benchRegistry(b, hubs, func(i int) string {
				if i < n {
					return h.urls[i]
				}
				return srv.URL
			})
			for b.Loop() {
				infos, err := r.ListInfo()
				if err != nil || len(infos) != hubs {
					b.Fatalf("ListInfo: %d rows, %v", len(infos), err)
				}
			}
		})
	}
}
