// SPDX-License-Identifier: GPL-2.0

// The tests need the af_custom module loaded (or loadable); without it
// they are skipped. make check runs them in the test VM as a static
// binary built on the host (go test -c), from selftests/cu_go.sh.
package afcustom

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var nextPort uint32 = 43000 + uint32(os.Getpid()%1000)*30

func port() uint32 { return atomic.AddUint32(&nextPort, 1) }

// noModule says why the tests skip: no socket of the family can be made.
var noModule string

func TestMain(m *testing.M) {
	fam, err := Family()
	if err == nil {
		var fd int
		fd, err = syscall.Socket(fam, syscall.SOCK_STREAM, 0)
		if err == nil {
			syscall.Close(fd)
		}
	}
	if err != nil {
		noModule = fmt.Sprintf("no af_custom socket (family %d): %v", fam, err)
	}
	os.Exit(m.Run())
}

func needModule(t *testing.T) {
	t.Helper()
	if noModule != "" {
		t.Skip(noModule)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func listen(t *testing.T, backlog int) (*Listener, uint32) {
	t.Helper()
	p := port()
	l, err := Listen(p, backlog)
	must(t, err)
	t.Cleanup(func() { l.Close() })
	return l, p
}

func dial(t *testing.T, p uint32) *Conn {
	t.Helper()
	c, err := DialCU(p)
	must(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAddr(t *testing.T) {
	needModule(t)
	l, p := listen(t, 1)
	if got, want := l.Addr().String(), fmt.Sprintf("af_custom:%d", p); got != want {
		t.Fatalf("Addr %q, want %q", got, want)
	}
	if l.Addr().Network() != "af_custom" {
		t.Fatal(l.Addr().Network())
	}
	a, err := ParseAddr("af_custom:5000")
	if err != nil || a.Port != 5000 {
		t.Fatal(a, err)
	}
	any, err := Listen(PortAny, 1)
	must(t, err)
	defer any.Close()
	if any.Addr().(*Addr).Port < PortEphemeral {
		t.Fatalf("PortAny gave %v", any.Addr())
	}
	_, err = Listen(p, 1)
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second Listen on %d: %v, want EADDRINUSE", p, err)
	}
}

func TestExactCapacity(t *testing.T) {
	needModule(t)
	for _, backlog := range []int{1, 4, 9} {
		l, p := listen(t, backlog)
		if b, err := l.Backlog(); err != nil || b != backlog {
			t.Fatalf("Backlog %d %v, want %d", b, err, backlog)
		}
		for i := 0; i < backlog; i++ {
			dial(t, p)
		}
		if n, _ := l.Pending(); n != backlog {
			t.Fatalf("Pending %d, want %d", n, backlog)
		}
		start := time.Now()
		_, err := Dial(p)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("connect %d to a full queue of %d: %v, want ECONNREFUSED", backlog+1, backlog, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("refused after %v, not at once", d)
		}
		st, err := l.Stats()
		must(t, err)
		if st.Queued != uint64(backlog) || st.Accepted != 0 || st.RefusedFull != 1 {
			t.Fatalf("Stats %+v", st)
		}
		c, err := l.Accept()
		must(t, err)
		c.Close()
		dial(t, p) // a dequeued slot frees room at once
	}
}

func TestRefusedNoListener(t *testing.T) {
	needModule(t)
	_, err := Dial(port())
	var ne *net.OpError
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &ne) {
		t.Fatalf("Dial to nobody: %v", err)
	}
}

func TestShrinkResetsNewest(t *testing.T) {
	needModule(t)
	l, p := listen(t, 5)
	var cs []*Conn
	for i := 0; i < 5; i++ {
		c := dial(t, p)
		_, err := fmt.Fprintf(c, "client %d", i)
		must(t, err)
		cs = append(cs, c)
	}
	must(t, l.SetBacklog(2))
	if b, _ := l.Backlog(); b != 2 {
		t.Fatalf("backlog %d after SetBacklog(2)", b)
	}
	if n, _ := l.Pending(); n != 2 {
		t.Fatalf("pending %d after the shrink", n)
	}
	st, _ := l.Stats()
	if st.ResetShrink != 3 {
		t.Fatalf("ResetShrink %d, want 3", st.ResetShrink)
	}
	buf := make([]byte, 32)
	for _, c := range cs[2:] {
		_, err := c.Read(buf)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("reset client read: %v, want ECONNRESET", err)
		}
		if _, err = c.Read(buf); err != io.EOF {
			t.Fatalf("then: %v, want EOF", err)
		}
	}
	for i := 0; i < 2; i++ {
		c, err := l.AcceptCU()
		must(t, err)
		defer c.Close()
		if c.RemoteAddr().String() != cs[i].LocalAddr().String() {
			t.Fatalf("accepted %v, want %v", c.RemoteAddr(), cs[i].LocalAddr())
		}
		n, err := c.Read(buf)
		must(t, err)
		if string(buf[:n]) != fmt.Sprintf("client %d", i) {
			t.Fatalf("got %q", buf[:n])
		}
	}
}

func TestAcceptOrder(t *testing.T) {
	needModule(t)
	l, p := listen(t, 8)
	var cs []*Conn
	for i := 0; i < 8; i++ {
		c := dial(t, p)
		if c.RemoteAddr().(*Addr).Port != p {
			t.Fatalf("client's RemoteAddr %v", c.RemoteAddr())
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		s, err := l.Accept()
		must(t, err)
		defer s.Close()
		if s.RemoteAddr().String() != c.LocalAddr().String() {
			t.Fatalf("accepted %v, want %v (FIFO)", s.RemoteAddr(), c.LocalAddr())
		}
		if s.LocalAddr().String() != l.Addr().String() {
			t.Fatalf("accepted LocalAddr %v", s.LocalAddr())
		}
	}
	if st, _ := l.Stats(); st.Accepted != 8 {
		t.Fatalf("Accepted %d", st.Accepted)
	}
}

func TestDataBothWays(t *testing.T) {
	needModule(t)
	l, p := listen(t, 1)
	c := dial(t, p)
	s, err := l.AcceptCU()
	must(t, err)
	defer s.Close()
	a, b := make([]byte, 1<<20), make([]byte, 700<<10)
	rand.Read(a)
	rand.Read(b)
	var wg sync.WaitGroup
	var gotA, gotB []byte
	var errA, errB error
	wg.Add(2)
	go func() {
		defer wg.Done()
		gotA, errA = io.ReadAll(s)
	}()
	go func() {
		defer wg.Done()
		gotB, errB = io.ReadAll(c)
	}()
	go func() { c.Write(a); c.CloseWrite() }()
	go func() { s.Write(b); s.CloseWrite() }()
	wg.Wait()
	must(t, errA)
	must(t, errB)
	if !bytes.Equal(gotA, a) || !bytes.Equal(gotB, b) {
		t.Fatalf("got %d and %d bytes, want %d and %d", len(gotA), len(gotB), len(a), len(b))
	}
	s.Close()
	if _, err := c.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write after the peer closed: %v, want EPIPE", err)
	}
}

func TestPacket(t *testing.T) {
	needModule(t)
	pa, err := ListenPacketCU(port())
	must(t, err)
	defer pa.Close()
	pb, err := ListenPacket(PortAny)
	must(t, err)
	defer pb.Close()
	if pb.LocalAddr().(*Addr).Port < PortEphemeral {
		t.Fatalf("PortAny: %v", pb.LocalAddr())
	}
	_, err = pa.WriteTo([]byte("ping"), pb.LocalAddr())
	must(t, err)
	buf := make([]byte, 64)
	n, from, err := pb.ReadFrom(buf)
	must(t, err)
	if string(buf[:n]) != "ping" || from.String() != pa.LocalAddr().String() {
		t.Fatalf("got %q from %v", buf[:n], from)
	}
	_, err = pb.WriteTo([]byte("pong"), from)
	must(t, err)
	n, from, err = pa.ReadFrom(buf)
	must(t, err)
	if string(buf[:n]) != "pong" || from.String() != pb.LocalAddr().String() {
		t.Fatalf("got %q from %v", buf[:n], from)
	}
	_, err = pa.WriteTo([]byte("x"), &Addr{Port: port()})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("WriteTo an unbound port: %v, want ECONNREFUSED", err)
	}
	// many goroutines waiting in ReadFrom, woken one datagram each
	const k = 50
	var wg sync.WaitGroup
	var got int32
	for i := 0; i < k; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := make([]byte, 8)
			if _, _, err := pb.ReadFrom(b); err == nil {
				atomic.AddInt32(&got, 1)
			}
		}()
	}
	for i := 0; i < k; i++ {
		_, err := pa.WriteTo([]byte{byte(i)}, pb.LocalAddr())
		must(t, err)
	}
	wg.Wait()
	if got != k {
		t.Fatalf("%d of %d datagrams received", got, k)
	}
}

func TestCloseWakesReadFrom(t *testing.T) {
	needModule(t)
	p, err := ListenPacket(PortAny)
	must(t, err)
	done := make(chan error)
	go func() {
		_, _, err := p.ReadFrom(make([]byte, 8))
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	p.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ReadFrom after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadFrom still waiting 10 s after Close")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

func TestDeadlines(t *testing.T) {
	needModule(t)
	l, p := listen(t, 1)
	start := time.Now() // before the deadline is set: a stall between cannot shorten the wait
	must(t, l.SetDeadline(start.Add(200*time.Millisecond)))
	_, err := l.Accept()
	if !isTimeout(err) || time.Since(start) < 190*time.Millisecond {
		t.Fatalf("Accept with a deadline: %v after %v", err, time.Since(start))
	}
	must(t, l.SetDeadline(time.Time{}))
	c := dial(t, p)
	s, err := l.Accept()
	must(t, err)
	defer s.Close()
	must(t, c.SetReadDeadline(time.Now().Add(150*time.Millisecond)))
	if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("Read with a deadline: %v", err)
	}
	// a write deadline: fill the socket buffers
	must(t, c.SetWriteDeadline(time.Now().Add(300*time.Millisecond)))
	_, err = c.Write(make([]byte, 64<<20))
	if !isTimeout(err) {
		t.Fatalf("Write of 64 MiB nobody reads: %v", err)
	}
	pc, err := ListenPacket(PortAny)
	must(t, err)
	defer pc.Close()
	must(t, pc.SetReadDeadline(time.Now().Add(150*time.Millisecond)))
	if _, _, err := pc.ReadFrom(make([]byte, 8)); !isTimeout(err) {
		t.Fatalf("ReadFrom with a deadline: %v", err)
	}
}

func TestCloseWakesAccept(t *testing.T) {
	needModule(t)
	l, _ := listen(t, 1)
	done := make(chan error)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept still waiting 10 s after Close")
	}
}

// A goroutine server with an exact backlog and a thousand clients, all
// connected at the same time: the server reads each client's line, and
// answers none until it has them all, so a thousand client goroutines (and
// a thousand server goroutines) wait in Read on the runtime's poller. The
// clients dial at most backlog at a time, retrying on ECONNREFUSED.
func TestGoroutineServerManyClients(t *testing.T) {
	needModule(t)
	clients, backlog := 1000, 128
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		if rl.Cur < rl.Max {
			rl.Cur = rl.Max
			syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
		}
		if max := int(rl.Cur-64) / 2; max < clients {
			t.Logf("RLIMIT_NOFILE %d: %d clients, not %d", rl.Cur, max, clients)
			clients = max
		}
	}
	l, p := listen(t, backlog)
	var served int32
	release := make(chan struct{})
	var handlers sync.WaitGroup
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			handlers.Add(1)
			go func() {
				defer handlers.Done()
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				atomic.AddInt32(&served, 1)
				<-release
				c.Write([]byte("echo " + line))
			}()
		}
	}()
	start := time.Now()
	// as long as the run's -test.timeout leaves (a debug kernel on a busy
	// host is slow), less a margin for what follows
	until := start.Add(100 * time.Second)
	if d, ok := t.Deadline(); ok {
		until = d.Add(-20 * time.Second)
	}
	sem := make(chan struct{}, backlog)
	var wg sync.WaitGroup
	var ok, refused int32
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var c net.Conn
			var err error
			sem <- struct{}{}
			// a full queue refuses at once: try again while the
			// server drains it, for as long as a slow (debug)
			// kernel may need, not a fixed number of times
			backoff := time.Millisecond
			for {
				c, err = Dial(p)
				if !errors.Is(err, syscall.ECONNREFUSED) ||
					time.Now().After(until) {
					break
				}
				atomic.AddInt32(&refused, 1)
				time.Sleep(backoff + time.Duration(mrand.Int63n(int64(backoff))))
				if backoff < 50*time.Millisecond {
					backoff *= 2
				}
			}
			<-sem
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(120 * time.Second))
			msg := fmt.Sprintf("hello %d\n", i)
			if _, err = c.Write([]byte(msg)); err != nil {
				errs <- err
				return
			}
			got, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || got != "echo "+msg {
				errs <- fmt.Errorf("client %d: %q %v", i, got, err)
				return
			}
			atomic.AddInt32(&ok, 1)
		}(i)
	}
	// every client connected and its line read: all of them wait in Read
	for atomic.LoadInt32(&served) < int32(clients) && len(errs) == 0 &&
		time.Now().Before(until) {
		time.Sleep(10 * time.Millisecond)
	}
	all := atomic.LoadInt32(&served)
	connected := time.Since(start)
	close(release)
	wg.Wait()
	st, err := l.Stats()
	must(t, err)
	l.Close()
	handlers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if all != int32(clients) || ok != int32(clients) {
		t.Fatalf("%d of %d clients connected at once, %d served", all, clients, ok)
	}
	if st.RefusedFull != uint64(refused) || st.Accepted != uint64(clients) {
		t.Errorf("Stats %+v; clients saw %d refusals", st, refused)
	}
	t.Logf("%d clients, backlog %d: all connected and waiting after %v (%d refusals), served after %v",
		clients, backlog, connected, refused, time.Since(start))
}
