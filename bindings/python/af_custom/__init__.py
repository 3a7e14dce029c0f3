# SPDX-License-Identifier: GPL-2.0
"""Python sockets for AF_CUSTOM (the af_custom kernel module).

AF_CUSTOM is a local socket family whose listen() follows the Windows
Sockets semantics: the backlog is an exact queue, a second listen()
resizes it (a shrink resets the newest pending connections), and a connect
to a full queue fails with ECONNREFUSED at once.

The sockets made here are real :class:`socket.socket` objects (makefile,
settimeout, selectors, asyncio all work); only the calls that carry an
address are redone, because Python's socket module cannot parse addresses
of a family it does not know. An address is a port, an int::

    import af_custom
    srv = af_custom.create_server(5000, backlog=4)   # bind + listen(4)
    conn, port = srv.accept()                        # port: the client's
    cli = af_custom.create_connection(5000)
    srv.backlog, srv.pending, srv.stats              # SOL_CUSTOM options

Errors are the usual OSError subclasses: ConnectionRefusedError (no
listener, or its queue is full), ConnectionResetError (a pending
connection reset by a shrinking listen() or a closed listener), TimeoutError
(socket timeouts), BlockingIOError (non-blocking sockets).

The family number is the module parameter, read from
/sys/module/af_custom/parameters/family (22 when the module is not loaded
yet: socket() then loads it through its net-pf-22 alias).

Only the standard library is used (ctypes for bind, connect, accept4,
getsockname, getpeername, sendto and recvfrom).
"""

import asyncio
import collections
import ctypes
import errno
import os
import select
import socket as _socket
import struct
import time

__all__ = [
    "AF_CUSTOM_DEFAULT", "SOL_CUSTOM", "CU_BACKLOG", "CU_PENDING", "CU_STATS",
    "PORT_ANY", "PORT_EPHEMERAL", "FAMILY_PARAM", "ListenStats", "CustomSocket",
    "family", "socket", "create_server", "create_connection",
    "start_server", "open_connection",
]

AF_CUSTOM_DEFAULT = 22
SOL_CUSTOM = 399
CU_BACKLOG = 1
CU_PENDING = 2
CU_STATS = 3
PORT_ANY = 0
PORT_EPHEMERAL = 0x80000000
FAMILY_PARAM = "/sys/module/af_custom/parameters/family"

ListenStats = collections.namedtuple(
    "ListenStats", "queued accepted refused_full reset_shrink reset_close")
ListenStats.__doc__ = "CU_STATS (struct cu_listen_stats) of a listener"
_STATS = struct.Struct("=5Q")


def family():
    """The family number: the module parameter, or 22 before it is loaded."""
    try:
        with open(FAMILY_PARAM) as f:
            return int(f.read())
    except FileNotFoundError:
        return AF_CUSTOM_DEFAULT


# ---- the address calls, through libc ---------------------------------------

class _SockaddrCu(ctypes.Structure):
    _fields_ = [("scu_family", ctypes.c_ushort),
                ("scu_reserved", ctypes.c_uint16),
                ("scu_port", ctypes.c_uint32)]


_SOCKADDR_LEN = ctypes.sizeof(_SockaddrCu)
_libc = ctypes.CDLL(None, use_errno=True)


def _fn(name, restype, *argtypes):
    f = getattr(_libc, name)
    f.restype = restype
    f.argtypes = argtypes
    return f


_P = ctypes.c_void_p
_bind = _fn("bind", ctypes.c_int, ctypes.c_int, _P, ctypes.c_uint32)
_connect = _fn("connect", ctypes.c_int, ctypes.c_int, _P, ctypes.c_uint32)
_accept4 = _fn("accept4", ctypes.c_int, ctypes.c_int, _P, _P, ctypes.c_int)
_getsockname = _fn("getsockname", ctypes.c_int, ctypes.c_int, _P, _P)
_getpeername = _fn("getpeername", ctypes.c_int, ctypes.c_int, _P, _P)
_sendto = _fn("sendto", ctypes.c_ssize_t, ctypes.c_int, _P, ctypes.c_size_t,
              ctypes.c_int, _P, ctypes.c_uint32)
_recvfrom = _fn("recvfrom", ctypes.c_ssize_t, ctypes.c_int, _P, ctypes.c_size_t,
                ctypes.c_int, _P, _P)


def _oserror():
    e = ctypes.get_errno()
    # OSError(errno, ...) is the matching subclass (ConnectionRefusedError...)
    return OSError(e, os.strerror(e))


def _port(address):
    """A port from an address, which is an int."""
    if not isinstance(address, int) or isinstance(address, bool):
        raise TypeError(f"an af_custom address is a port (int), not {address!r}")
    if not 0 <= address <= 0xFFFFFFFF:
        raise OverflowError(f"port {address} out of range 0..4294967295")
    return address


def _buffer(data):
    """(pointer, length, keepalive) of a bytes-like object, read-only."""
    mv = memoryview(data)
    if mv.nbytes == 0:
        return None, 0, None
    if mv.readonly or not mv.c_contiguous:
        b = bytes(mv)
        return ctypes.cast(ctypes.c_char_p(b), _P), len(b), b
    c = (ctypes.c_char * mv.nbytes).from_buffer(mv.cast("B"))
    return ctypes.addressof(c), mv.nbytes, c


class CustomSocket(_socket.socket):
    """A socket.socket of the AF_CUSTOM family; addresses are ports.

    CustomSocket(type=SOCK_STREAM) makes a new socket (SOCK_STREAM,
    SOCK_SEQPACKET or SOCK_DGRAM); the socket module's own calling
    convention, CustomSocket(family, type, proto, fileno), works too.
    """

    def __init__(self, family_or_type=None, type=None, proto=0, fileno=None):
        if type is None:
            # CustomSocket(SOCK_DGRAM) or CustomSocket()
            type = _socket.SOCK_STREAM if family_or_type is None else family_or_type
            fam = None
        else:
            fam = family_or_type
        if fam is None or fam == -1:
            fam = family()
        super().__init__(fam, type, proto, fileno)

    # -- blocking and timeouts as the socket module has them ---------------

    def _io(self, call, events):
        """call() until it does not fail with EAGAIN/EINTR, waiting for
        events within the socket's timeout (TimeoutError) or not at all
        (non-blocking: BlockingIOError)."""
        timeout = self.gettimeout()
        deadline = None if not timeout else time.monotonic() + timeout
        while True:
            try:
                return call()
            except InterruptedError:
                continue        # PEP 475: handlers ran, retry
            except BlockingIOError:
                if not timeout:  # non-blocking, or SO_RCVTIMEO/SO_SNDTIMEO
                    raise
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._wait(events, remaining):
                raise TimeoutError("timed out")

    def _wait(self, events, seconds):
        """True once events (or an error) are there; None: no time limit."""
        p = select.poll()
        p.register(self.fileno(), events)
        ms = None if seconds is None else max(0, int(seconds * 1000 + 0.999))
        return bool(p.poll(ms))

    # -- addresses ---------------------------------------------------------

    def _addr(self, address):
        return _SockaddrCu(self.family, 0, _port(address))

    def bind(self, address):
        """bind(port): port 0 picks a free port >= 0x80000000."""
        sa = self._addr(address)
        if _bind(self.fileno(), ctypes.byref(sa), _SOCKADDR_LEN) < 0:
            raise _oserror()

    def connect_ex(self, address):
        """connect(port) returning an errno instead of raising."""
        sa = self._addr(address)
        fd = self.fileno()
        if _connect(fd, ctypes.byref(sa), _SOCKADDR_LEN) == 0:
            return 0
        err = ctypes.get_errno()
        if err not in (errno.EINPROGRESS, errno.EINTR, errno.EALREADY):
            return err
        # af_custom completes connect() at once; still, do as TCP does
        timeout = self.gettimeout()
        if timeout == 0:
            return err
        if not self._wait(select.POLLOUT, timeout):
            return errno.ETIMEDOUT if timeout is None else errno.EAGAIN
        return self.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR)

    def connect(self, address):
        """connect(port): ECONNREFUSED at once when nobody listens there or
        its queue is full (ConnectionRefusedError)."""
        err = self.connect_ex(address)
        if err == errno.EAGAIN and self.gettimeout():
            raise TimeoutError("timed out")
        if err:
            raise OSError(err, os.strerror(err))

    def _name(self, call):
        sa = _SockaddrCu()
        n = ctypes.c_uint32(_SOCKADDR_LEN)
        if call(self.fileno(), ctypes.byref(sa), ctypes.byref(n)) < 0:
            raise _oserror()
        return sa.scu_port

    def getsockname(self):
        """The local port (0 when unbound)."""
        return self._name(_getsockname)

    def getpeername(self):
        """The peer's port (OSError ENOTCONN when not connected)."""
        return self._name(_getpeername)

    def _accept_fd(self):
        fd = _accept4(self.fileno(), None, None, _socket.SOCK_CLOEXEC)
        if fd < 0:
            raise _oserror()
        return fd

    def accept(self):
        """Take the oldest pending connection: (socket, client's port).

        The descriptor is taken first, without an address, and the port is
        asked for after: a connection is never lost (the port is 0 if its
        client has already gone)."""
        fd = self._io(self._accept_fd, select.POLLIN)
        sock = type(self)(self.family, self.type, self.proto, fileno=fd)
        # as socket.socket.accept does
        if _socket.getdefaulttimeout() is None and self.gettimeout():
            sock.setblocking(True)
        try:
            port = sock.getpeername()
        except OSError:
            port = 0
        return sock, port

    def sendto(self, data, flags_or_address, address=None):
        """sendto(data, port) or sendto(data, flags, port): datagrams
        (ECONNREFUSED when no SOCK_DGRAM socket is bound to port)."""
        if address is None:
            flags, address = 0, flags_or_address
        else:
            flags = flags_or_address
        sa = self._addr(address)
        ptr, length, keep = _buffer(data)

        def call():
            n = _sendto(self.fileno(), ptr, length, flags, ctypes.byref(sa),
                        _SOCKADDR_LEN)
            if n < 0:
                raise _oserror()
            return n
        try:
            return self._io(call, select.POLLOUT)
        finally:
            del keep

    def recvfrom_into(self, buffer, nbytes=0, flags=0):
        """(bytes received, sender's port), into a writable buffer."""
        mv = memoryview(buffer).cast("B")
        if nbytes <= 0 or nbytes > mv.nbytes:
            nbytes = mv.nbytes
        c = (ctypes.c_char * max(nbytes, 1)).from_buffer(mv) if mv.nbytes else None
        ptr = ctypes.addressof(c) if c is not None else None
        sa = _SockaddrCu()
        alen = ctypes.c_uint32()

        def call():
            alen.value = _SOCKADDR_LEN
            n = _recvfrom(self.fileno(), ptr, nbytes, flags, ctypes.byref(sa),
                          ctypes.byref(alen))
            if n < 0:
                raise _oserror()
            return n
        try:
            n = self._io(call, select.POLLIN)
        finally:
            del c
        return n, (sa.scu_port if alen.value >= _SOCKADDR_LEN else 0)

    def recvfrom(self, bufsize, flags=0):
        """(data, sender's port)."""
        buf = bytearray(bufsize)
        n, port = self.recvfrom_into(buf, bufsize, flags)
        return bytes(buf[:n]), port

    # -- the family's own options ------------------------------------------

    @property
    def backlog(self):
        """CU_BACKLOG: the effective backlog (0 when not listening).
        Assigning to it calls listen() again: a shrink resets the newest
        excess pending connections."""
        return self.getsockopt(SOL_CUSTOM, CU_BACKLOG)

    @backlog.setter
    def backlog(self, n):
        self.listen(n)

    def set_backlog(self, n):
        """listen(n) on a listener: resize its queue (Winsock semantics)."""
        self.listen(n)

    @property
    def pending(self):
        """CU_PENDING: connections queued, not yet accepted."""
        return self.getsockopt(SOL_CUSTOM, CU_PENDING)

    @property
    def stats(self):
        """CU_STATS as a ListenStats named tuple."""
        raw = self.getsockopt(SOL_CUSTOM, CU_STATS, _STATS.size)
        return ListenStats._make(_STATS.unpack(raw.ljust(_STATS.size, b"\0")))


def socket(type=_socket.SOCK_STREAM):
    """A new AF_CUSTOM socket (SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM)."""
    return CustomSocket(type)


def create_server(port, backlog, type=_socket.SOCK_STREAM, reuse_port=False):
    """A socket bound to port and listening with exactly backlog."""
    sock = CustomSocket(type)
    try:
        if reuse_port:
            sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        sock.bind(port)
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def create_connection(port, timeout=None, type=_socket.SOCK_STREAM):
    """A socket connected to port (timeout: as settimeout, for its I/O)."""
    sock = CustomSocket(type)
    try:
        if timeout is not None:
            sock.settimeout(timeout)
        sock.connect(port)
    except BaseException:
        sock.close()
        raise
    return sock


# ---- asyncio -----------------------------------------------------------------

async def start_server(client_connected_cb, port, backlog, **kwds):
    """asyncio.start_server on an AF_CUSTOM listener with an exact backlog.

    asyncio calls listen() again when it starts serving, with its own
    backlog argument (100 by default): with af_custom that resizes the
    queue. This passes backlog on, so the queue stays exactly backlog.
    Doing it by hand: asyncio.start_server(cb, sock=sock, backlog=N)."""
    sock = create_server(port, backlog)
    try:
        return await asyncio.start_server(client_connected_cb, sock=sock,
                                          backlog=backlog, **kwds)
    except BaseException:
        sock.close()
        raise


async def open_connection(port, **kwds):
    """asyncio.open_connection to an AF_CUSTOM port: (reader, writer)."""
    sock = CustomSocket(_socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, port)
        return await asyncio.open_connection(sock=sock, **kwds)
    except BaseException:
        sock.close()
        raise
