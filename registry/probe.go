package registry

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// IsAlive reports whether e's hub is up: its pid is alive on this host AND
// an HTTP GET of its hub_url gets any response (a 404 counts: the port is
// bound and serving) within HealthTimeout. A recycled pid passes the first
// check but not the second.
//
// Registry files are untrusted input, so only http(s) URLs whose host is a
// loopback address or "localhost" are ever contacted; for any other URL
// IsAlive returns false without opening a connection. No proxy is used and
// no redirect is followed.
func IsAlive(e Entry) bool { return IsAliveContext(context.Background(), e) }

// IsAliveContext is IsAlive that also gives up, reporting false, as soon as
// ctx is done, so a caller that probes in the background can stop at once.
func IsAliveContext(ctx context.Context, e Entry) bool { return isAlive(ctx, e, HealthTimeout) }

// isAlive is IsAliveContext with the probe bounded by timeout.
func isAlive(ctx context.Context, e Entry, timeout time.Duration) bool {
	if !pidAlive(e.HubPID) || !IsLoopbackHTTP(e.HubURL) {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.HubURL, nil)
	if err != nil {
		return false
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	return true
}

// IsLoopbackHTTP reports whether raw is an http(s) URL without credentials
// on a loopback host: the only hub URLs this package ever probes, and the
// only ones a page may show as links.
func IsLoopbackHTTP(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	return loopbackHost(u.Hostname())
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// probeDials counts connection attempts made by probes; tests use it to
// prove that a URL was never contacted.
var probeDials atomic.Int64

// probeClient never uses a proxy, never follows redirects, and refuses at
// connect time any address that is not loopback (a "localhost" that resolves
// elsewhere is not contacted either).
var probeClient = &http.Client{
	Transport: &http.Transport{
		Proxy: nil,
		DialContext: (&net.Dialer{
			Control: func(_, address string, _ syscall.RawConn) error {
				probeDials.Add(1)
				host, _, err := net.SplitHostPort(address)
				if err != nil || !loopbackHost(host) {
					return fmt.Errorf("registry probe: refusing to connect to non-loopback %s", address)
				}
				return nil
			},
		}).DialContext,
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}
