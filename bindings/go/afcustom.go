// SPDX-License-Identifier: GPL-2.0

// Package afcustom gives Go programs the AF_CUSTOM socket family (the
// af_custom kernel module): a local family whose listen() follows the
// Windows Sockets semantics. The backlog is an exact queue, SetBacklog (a
// second listen) resizes it and a shrink resets the newest pending
// connections, and a connect to a full queue fails with ECONNREFUSED at
// once.
//
// Addresses are ports (uint32). Connections, listeners and packet sockets
// are non-blocking descriptors on the runtime's network poller: deadlines
// work, and any number of goroutines may wait on them without holding a
// thread. Only the standard library is used.
//
//	l, err := afcustom.Listen(5000, 8) // exactly 8 connections may wait
//	c, err := l.Accept()               // net.Conn; c.RemoteAddr() is af_custom:PORT
//	d, err := afcustom.Dial(5000)      // net.Conn
//	p, err := afcustom.ListenPacket(0) // net.PacketConn, datagrams
//
// Errors wrap the errno (errors.Is(err, syscall.ECONNREFUSED)) in a
// *net.OpError; timeouts are net.Error values with Timeout() true
// (errors.Is(err, os.ErrDeadlineExceeded)).
package afcustom

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// The ABI of uapi/linux/af_custom.h.
const (
	DefaultFamily = 22         // AF_CUSTOM when the module parameter is not set
	SOL_CUSTOM    = 399        // getsockopt level
	CU_BACKLOG    = 1          // int: effective backlog of a listener
	CU_PENDING    = 2          // int: connections queued, not yet accepted
	CU_STATS      = 3          // struct cu_listen_stats
	PortAny       = 0          // bind: pick a free port >= PortEphemeral
	PortEphemeral = 0x80000000 // autobind picks ports from here
)

// FamilyParam is where the loaded module shows its family number.
const FamilyParam = "/sys/module/af_custom/parameters/family"

// NetworkName is what Addr.Network returns.
const NetworkName = "af_custom"

// Family returns the family number: the module parameter, or
// DefaultFamily when the module is not loaded (socket() then loads it
// through its net-pf-22 alias).
func Family() (int, error) {
	b, err := os.ReadFile(FamilyParam)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultFamily, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// Addr is an af_custom address: a port. It prints as af_custom:PORT.
type Addr struct {
	Port uint32
}

func (a *Addr) Network() string { return NetworkName }
func (a *Addr) String() string {
	if a == nil {
		return "<nil>"
	}
	return NetworkName + ":" + strconv.FormatUint(uint64(a.Port), 10)
}

// ParseAddr parses "af_custom:PORT" or "PORT".
func ParseAddr(s string) (*Addr, error) {
	p, err := strconv.ParseUint(strings.TrimPrefix(s, NetworkName+":"), 10, 32)
	if err != nil {
		return nil, fmt.Errorf("afcustom: bad address %q", s)
	}
	return &Addr{Port: uint32(p)}, nil
}

// Stats is CU_STATS (struct cu_listen_stats).
type Stats struct {
	Queued      uint64 // connections ever queued on this listener
	Accepted    uint64 // ... taken by accept()
	RefusedFull uint64 // connects refused because the queue was full
	ResetShrink uint64 // pending connections reset by a backlog shrink
	ResetClose  uint64 // pending connections reset by close/shutdown
}

// struct sockaddr_cu
type rawSockaddr struct {
	Family   uint16
	Reserved uint16
	Port     uint32
}

const sockaddrLen = uint32(unsafe.Sizeof(rawSockaddr{}))

// ---- raw system calls: Go's syscall package cannot parse our addresses ----

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func sysBind(fd, family int, port uint32) error {
	sa := rawSockaddr{Family: uint16(family), Port: port}
	_, _, e := syscall.Syscall(syscall.SYS_BIND, uintptr(fd),
		uintptr(unsafe.Pointer(&sa)), uintptr(sockaddrLen))
	return errnoErr(e)
}

func sysConnect(fd, family int, port uint32) error {
	sa := rawSockaddr{Family: uint16(family), Port: port}
	for {
		_, _, e := syscall.Syscall(syscall.SYS_CONNECT, uintptr(fd),
			uintptr(unsafe.Pointer(&sa)), uintptr(sockaddrLen))
		if e != syscall.EINTR {
			return errnoErr(e)
		}
	}
}

// sysName: getsockname (peer false) or getpeername (peer true).
func sysName(fd int, peer bool) (uint32, error) {
	var sa rawSockaddr
	n := sockaddrLen
	trap := uintptr(syscall.SYS_GETSOCKNAME)
	if peer {
		trap = syscall.SYS_GETPEERNAME
	}
	_, _, e := syscall.Syscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&sa)),
		uintptr(unsafe.Pointer(&n)))
	return sa.Port, errnoErr(e)
}

// sysAccept takes a descriptor and no address: nothing can fail after the
// connection has left the queue, so none is ever lost.
func sysAccept(fd int) (int, error) {
	for {
		r, _, e := syscall.Syscall6(syscall.SYS_ACCEPT4, uintptr(fd), 0, 0,
			syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0, 0)
		if e != syscall.EINTR {
			return int(r), errnoErr(e)
		}
	}
}

func bufPtr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

func sysSendto(fd int, b []byte, family int, port uint32) (int, error) {
	sa := rawSockaddr{Family: uint16(family), Port: port}
	for {
		r, _, e := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(fd), bufPtr(b),
			uintptr(len(b)), syscall.MSG_NOSIGNAL, uintptr(unsafe.Pointer(&sa)),
			uintptr(sockaddrLen))
		if e != syscall.EINTR {
			return int(r), errnoErr(e)
		}
	}
}

func sysRecvfrom(fd int, b []byte) (int, uint32, error) {
	var sa rawSockaddr
	for {
		n := sockaddrLen
		r, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(fd), bufPtr(b),
			uintptr(len(b)), 0, uintptr(unsafe.Pointer(&sa)),
			uintptr(unsafe.Pointer(&n)))
		if e != syscall.EINTR {
			if n < sockaddrLen {
				sa.Port = 0
			}
			return int(r), sa.Port, errnoErr(e)
		}
	}
}

func sysStats(fd int) (Stats, error) {
	var st Stats
	n := uint32(unsafe.Sizeof(st))
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), SOL_CUSTOM,
		CU_STATS, uintptr(unsafe.Pointer(&st)), uintptr(unsafe.Pointer(&n)), 0)
	return st, errnoErr(e)
}

// newSocket: a non-blocking, close-on-exec socket of the family, bound to
// port unless bind is false.
func newSocket(typ int, port uint32, bind bool) (fd, family int, err error) {
	if family, err = Family(); err != nil {
		return -1, 0, err
	}
	fd, err = syscall.Socket(family, typ|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, err
	}
	if bind {
		if err = sysBind(fd, family, port); err != nil {
			syscall.Close(fd)
			return -1, 0, err
		}
	}
	return fd, family, nil
}

// fdFile: the descriptor as an *os.File on the runtime poller (os.NewFile
// registers non-blocking descriptors with it).
func fdFile(fd int, name string) (*os.File, syscall.RawConn, error) {
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, rc, nil
}

// opError wraps err as the net package does. A closed file becomes
// net.ErrClosed, a PathError its errno (os.SyscallError) or its
// deadline error.
func opError(op string, src, dst net.Addr, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if _, ok := err.(*net.OpError); ok {
		return err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, os.ErrClosed), errors.Is(err, net.ErrClosed):
		err = net.ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = os.ErrDeadlineExceeded
	default:
		var errno syscall.Errno
		if errors.As(err, &errno) {
			if _, ok := err.(*os.SyscallError); !ok {
				err = os.NewSyscallError(op, errno)
			}
		}
	}
	return &net.OpError{Op: op, Net: NetworkName, Source: src, Addr: dst, Err: err}
}

// control runs fn on the descriptor (getsockopt, listen, shutdown).
func control(rc syscall.RawConn, fn func(fd int) error) error {
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// ---- listener -------------------------------------------------------------

// Listener is a listening SOCK_STREAM socket; it is a net.Listener.
type Listener struct {
	f      *os.File
	rc     syscall.RawConn
	addr   *Addr
	closed int32 // atomic: Close was called (RawConn errors do not say)
}

// Listen binds port (PortAny: a free one) and listens with exactly
// backlog (clamped by the kernel to 1..net.core.somaxconn).
func Listen(port uint32, backlog int) (*Listener, error) {
	la := &Addr{Port: port}
	fd, _, err := newSocket(syscall.SOCK_STREAM, port, true)
	if err != nil {
		return nil, opError("listen", nil, la, err)
	}
	if err = syscall.Listen(fd, backlog); err == nil {
		la.Port, err = sysName(fd, false)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, opError("listen", nil, la, err)
	}
	f, rc, err := fdFile(fd, "af_custom-listener:"+strconv.FormatUint(uint64(la.Port), 10))
	if err != nil {
		return nil, opError("listen", nil, la, err)
	}
	return &Listener{f: f, rc: rc, addr: la}, nil
}

// Accept returns the oldest pending connection (a *Conn). It takes the
// descriptor first, with no address, then asks for the peer's port: a
// connection that has left the queue is always returned.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.AcceptCU()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptCU is Accept returning the *Conn itself.
func (l *Listener) AcceptCU() (*Conn, error) {
	var nfd int
	var serr error
	err := l.rc.Read(func(fd uintptr) bool {
		nfd, serr = sysAccept(int(fd))
		return serr != syscall.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		if atomic.LoadInt32(&l.closed) != 0 {
			err = net.ErrClosed
		}
		return nil, opError("accept", nil, l.addr, err)
	}
	peer, err := sysName(nfd, true)
	if err != nil {
		peer = 0 // the client already went away: still a connection
	}
	return newConn(nfd, &Addr{Port: l.addr.Port}, &Addr{Port: peer})
}

// Addr is the listener's address.
func (l *Listener) Addr() net.Addr { return l.addr }

// Close stops listening: pending connections are reset, and Accepts
// waiting in other goroutines return net.ErrClosed.
func (l *Listener) Close() error {
	atomic.StoreInt32(&l.closed, 1)
	return opError("close", nil, l.addr, l.f.Close())
}

// SetBacklog calls listen() again: the queue grows, or shrinks and the
// newest excess pending connections are reset.
func (l *Listener) SetBacklog(n int) error {
	return opError("listen", nil, l.addr, control(l.rc, func(fd int) error {
		return syscall.Listen(fd, n)
	}))
}

func (l *Listener) sockoptInt(opt int) (int, error) {
	var v int
	err := control(l.rc, func(fd int) (err error) {
		v, err = syscall.GetsockoptInt(fd, SOL_CUSTOM, opt)
		return
	})
	return v, opError("getsockopt", nil, l.addr, err)
}

// Backlog is CU_BACKLOG, the effective backlog.
func (l *Listener) Backlog() (int, error) { return l.sockoptInt(CU_BACKLOG) }

// Pending is CU_PENDING: connections queued, not yet accepted.
func (l *Listener) Pending() (int, error) { return l.sockoptInt(CU_PENDING) }

// Stats is CU_STATS.
func (l *Listener) Stats() (Stats, error) {
	var st Stats
	err := control(l.rc, func(fd int) (err error) {
		st, err = sysStats(fd)
		return
	})
	return st, opError("getsockopt", nil, l.addr, err)
}

// SetDeadline sets the time after which Accept fails with a timeout.
func (l *Listener) SetDeadline(t time.Time) error { return l.f.SetReadDeadline(t) }

// SyscallConn gives the raw descriptor (setsockopt and the like).
func (l *Listener) SyscallConn() (syscall.RawConn, error) { return l.rc, nil }

// File returns the *os.File of the listener (shared, not a dup).
func (l *Listener) File() *os.File { return l.f }

// ---- connections ------------------------------------------------------------

// Conn is a connected SOCK_STREAM socket; it is a net.Conn.
type Conn struct {
	f      *os.File
	rc     syscall.RawConn
	la, ra *Addr
}

func newConn(fd int, la, ra *Addr) (*Conn, error) {
	f, rc, err := fdFile(fd, "af_custom:"+strconv.FormatUint(uint64(ra.Port), 10))
	if err != nil {
		return nil, opError("accept", la, ra, err)
	}
	return &Conn{f: f, rc: rc, la: la, ra: ra}, nil
}

// Dial connects to port: at once, or ECONNREFUSED at once when nobody
// listens there or the listener's queue is full.
func Dial(port uint32) (net.Conn, error) {
	c, err := DialCU(port)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// DialCU is Dial returning the *Conn itself.
func DialCU(port uint32) (*Conn, error) {
	ra := &Addr{Port: port}
	fd, family, err := newSocket(syscall.SOCK_STREAM, 0, false)
	if err != nil {
		return nil, opError("dial", nil, ra, err)
	}
	err = sysConnect(fd, family, port)
	inProgress := err == syscall.EINPROGRESS || err == syscall.EAGAIN
	if err != nil && !inProgress {
		syscall.Close(fd)
		return nil, opError("dial", nil, ra, err)
	}
	local, _ := sysName(fd, false)
	c, err := newConn(fd, &Addr{Port: local}, ra)
	if err != nil {
		return nil, err
	}
	if inProgress { // af_custom completes connect() at once; still, as TCP
		var serr error
		err = c.rc.Write(func(fd uintptr) bool {
			var e int
			e, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
			if serr == nil && e != 0 {
				serr = syscall.Errno(e)
			}
			if serr != nil {
				return true
			}
			_, perr := sysName(int(fd), true)
			return perr != syscall.ENOTCONN
		})
		if err == nil {
			err = serr
		}
		if err != nil {
			c.f.Close()
			return nil, opError("dial", nil, ra, err)
		}
	}
	return c, nil
}

// Read reads data; io.EOF once the peer has closed. ECONNRESET when the
// connection was reset (a shrinking or closed listener, unread data lost).
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	return n, opError("read", c.la, c.ra, err)
}

// Write writes all of b (or fails: EPIPE once the peer is gone, no SIGPIPE).
func (c *Conn) Write(b []byte) (int, error) {
	n, err := c.f.Write(b)
	return n, opError("write", c.la, c.ra, err)
}

// Close closes the connection.
func (c *Conn) Close() error { return opError("close", c.la, c.ra, c.f.Close()) }

func (c *Conn) shutdown(how int, op string) error {
	return opError(op, c.la, c.ra, control(c.rc, func(fd int) error {
		return syscall.Shutdown(fd, how)
	}))
}

// CloseWrite shuts down the sending side: the peer reads EOF after the data.
func (c *Conn) CloseWrite() error { return c.shutdown(syscall.SHUT_WR, "close") }

// CloseRead shuts down the receiving side.
func (c *Conn) CloseRead() error { return c.shutdown(syscall.SHUT_RD, "close") }

func (c *Conn) LocalAddr() net.Addr                { return c.la }
func (c *Conn) RemoteAddr() net.Addr               { return c.ra }
func (c *Conn) SetDeadline(t time.Time) error      { return c.f.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// SyscallConn gives the raw descriptor (setsockopt and the like).
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

// ---- datagrams ----------------------------------------------------------------

// PacketConn is a SOCK_DGRAM socket; it is a net.PacketConn.
type PacketConn struct {
	f      *os.File
	rc     syscall.RawConn
	la     *Addr
	family int
	closed int32 // atomic: Close was called (RawConn errors do not say)
}

// ListenPacket binds a SOCK_DGRAM socket to port (PortAny: a free one).
func ListenPacket(port uint32) (net.PacketConn, error) {
	p, err := ListenPacketCU(port)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ListenPacketCU is ListenPacket returning the *PacketConn itself.
func ListenPacketCU(port uint32) (*PacketConn, error) {
	la := &Addr{Port: port}
	fd, family, err := newSocket(syscall.SOCK_DGRAM, port, true)
	if err == nil {
		la.Port, err = sysName(fd, false)
		if err != nil {
			syscall.Close(fd)
		}
	}
	if err != nil {
		return nil, opError("listen", nil, la, err)
	}
	f, rc, err := fdFile(fd, "af_custom-dgram:"+strconv.FormatUint(uint64(la.Port), 10))
	if err != nil {
		return nil, opError("listen", nil, la, err)
	}
	return &PacketConn{f: f, rc: rc, la: la, family: family}, nil
}

// ReadFrom receives one datagram; addr is the sender's *Addr. A datagram
// longer than b is truncated.
func (p *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	var n int
	var port uint32
	var serr error
	err := p.rc.Read(func(fd uintptr) bool {
		n, port, serr = sysRecvfrom(int(fd), b)
		return serr != syscall.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		if atomic.LoadInt32(&p.closed) != 0 {
			err = net.ErrClosed
		}
		return 0, nil, opError("read", p.la, nil, err)
	}
	return n, &Addr{Port: port}, nil
}

// WriteTo sends b as one datagram to addr (an *Addr, or any net.Addr whose
// String is "af_custom:PORT"); ECONNREFUSED when nothing is bound there.
func (p *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	a, ok := addr.(*Addr)
	if !ok {
		var err error
		if addr == nil {
			return 0, opError("write", p.la, nil, syscall.EDESTADDRREQ)
		}
		if a, err = ParseAddr(addr.String()); err != nil {
			return 0, opError("write", p.la, addr, err)
		}
	}
	var n int
	var serr error
	err := p.rc.Write(func(fd uintptr) bool {
		n, serr = sysSendto(int(fd), b, p.family, a.Port)
		return serr != syscall.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		if atomic.LoadInt32(&p.closed) != 0 {
			err = net.ErrClosed
		}
		return 0, opError("write", p.la, a, err)
	}
	return n, nil
}

func (p *PacketConn) Close() error {
	atomic.StoreInt32(&p.closed, 1)
	return opError("close", p.la, nil, p.f.Close())
}

func (p *PacketConn) LocalAddr() net.Addr                { return p.la }
func (p *PacketConn) SetDeadline(t time.Time) error      { return p.f.SetDeadline(t) }
func (p *PacketConn) SetReadDeadline(t time.Time) error  { return p.f.SetReadDeadline(t) }
func (p *PacketConn) SetWriteDeadline(t time.Time) error { return p.f.SetWriteDeadline(t) }

// SyscallConn gives the raw descriptor (setsockopt and the like).
func (p *PacketConn) SyscallConn() (syscall.RawConn, error) { return p.rc, nil }

var (
	_ net.Listener   = (*Listener)(nil)
	_ net.Conn       = (*Conn)(nil)
	_ net.PacketConn = (*PacketConn)(nil)
)
