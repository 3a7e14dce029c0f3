# SPDX-License-Identifier: GPL-2.0
"""Tests of the af_custom Python package. They need the module loaded (or
loadable) and are skipped otherwise.

    python3 -m unittest discover -s bindings/python/tests -v
    python3 bindings/python/tests/test_af_custom.py --tap    # TAP, as make check
"""

import asyncio
import errno
import itertools
import os
import selectors
import socket
import sys
import threading
import time
import unittest

try:
    import af_custom
except ImportError:     # run from the source tree, not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import af_custom

_ports = itertools.count(41000 + os.getpid() % 1000 * 20)


def new_port():
    return next(_ports)


def available():
    try:
        af_custom.socket().close()
        return True
    except OSError:
        return False


@unittest.skipUnless(available(), "no af_custom module (family %d)" % af_custom.family())
class Base(unittest.TestCase):
    def setUp(self):
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()

    def keep(self, s):
        self.socks.append(s)
        return s

    def server(self, backlog, type=socket.SOCK_STREAM):
        port = new_port()
        return self.keep(af_custom.create_server(port, backlog, type=type)), port

    def client(self, port, **kw):
        return self.keep(af_custom.create_connection(port, **kw))


class TestSocket(Base):
    def test_family_from_sysfs(self):
        with open(af_custom.FAMILY_PARAM) as f:
            fam = int(f.read())
        s = self.keep(af_custom.socket())
        self.assertEqual(s.family, fam)
        self.assertIsInstance(s, socket.socket)
        self.assertEqual(s.type, socket.SOCK_STREAM)
        self.assertEqual(s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN), fam)

    def test_bind_and_names(self):
        s = self.keep(af_custom.socket())
        self.assertEqual(s.getsockname(), 0)
        port = new_port()
        s.bind(port)
        self.assertEqual(s.getsockname(), port)
        with self.assertRaises(OSError) as cm:
            s2 = self.keep(af_custom.socket())
            s2.bind(port)
        self.assertEqual(cm.exception.errno, errno.EADDRINUSE)
        a = self.keep(af_custom.socket())
        a.bind(af_custom.PORT_ANY)
        self.assertGreaterEqual(a.getsockname(), af_custom.PORT_EPHEMERAL)
        with self.assertRaises(OSError) as cm:
            s.getpeername()
        self.assertEqual(cm.exception.errno, errno.ENOTCONN)
        with self.assertRaises(TypeError):
            a.connect(("localhost", 5))

    def test_refused_without_listener(self):
        with self.assertRaises(ConnectionRefusedError):
            af_custom.create_connection(new_port())
        s = self.keep(af_custom.socket())
        self.assertEqual(s.connect_ex(new_port()), errno.ECONNREFUSED)


class TestListen(Base):
    def test_exact_capacity(self):
        for backlog in (1, 3, 7):
            srv, port = self.server(backlog)
            self.assertEqual(srv.backlog, backlog)
            for _ in range(backlog):
                self.client(port)
            self.assertEqual(srv.pending, backlog)
            t0 = time.monotonic()
            with self.assertRaises(ConnectionRefusedError):
                af_custom.create_connection(port)
            self.assertLess(time.monotonic() - t0, 2.0, "refused, but not at once")
            st = srv.stats
            self.assertIsInstance(st, af_custom.ListenStats)
            self.assertEqual((st.queued, st.accepted, st.refused_full), (backlog, 0, 1))
            # a dequeued slot frees room at once
            srv.accept()[0].close()
            self.client(port)
            self.assertEqual(srv.pending, backlog)

    def test_shrink_resets_newest(self):
        srv, port = self.server(5)
        clients = [self.client(port) for _ in range(5)]
        for i, c in enumerate(clients):
            c.sendall(b"client %d" % i)
        srv.backlog = 2
        self.assertEqual(srv.backlog, 2)
        self.assertEqual(srv.pending, 2)
        self.assertEqual(srv.stats.reset_shrink, 3)
        for c in clients[2:]:
            with self.assertRaises(ConnectionResetError):
                c.recv(10)
            self.assertEqual(c.recv(10), b"")
        for i in range(2):
            conn, cport = self.keep_accept(srv)
            self.assertEqual(cport, clients[i].getsockname())
            self.assertEqual(conn.recv(100), b"client %d" % i)
        # grow again: more fit; set_backlog is the same as listen
        srv.set_backlog(3)
        self.assertEqual(srv.backlog, 3)

    def keep_accept(self, srv):
        conn, port = srv.accept()
        self.keep(conn)
        return conn, port

    def test_accept_order_and_ports(self):
        srv, port = self.server(6)
        clients = [self.client(port) for _ in range(6)]
        for c in clients:
            self.assertEqual(c.getpeername(), port)
        for c in clients:
            conn, cport = self.keep_accept(srv)
            self.assertIsInstance(conn, af_custom.CustomSocket)
            self.assertEqual(cport, c.getsockname())
            self.assertEqual(conn.getpeername(), cport)
            self.assertEqual(conn.getsockname(), port)
        self.assertEqual(srv.stats.accepted, 6)

    def test_close_resets_pending(self):
        srv, port = self.server(2)
        c = self.client(port)
        srv.close()
        with self.assertRaises(ConnectionResetError):
            c.recv(1)

    def test_data_both_ways(self):
        srv, port = self.server(1)
        c = self.client(port)
        conn, _ = self.keep_accept(srv)
        big = os.urandom(1 << 20)
        t = threading.Thread(target=lambda: (c.sendall(big), c.shutdown(socket.SHUT_WR)))
        t.start()
        got = bytearray()
        while True:
            b = conn.recv(65536)
            if not b:
                break
            got += b
        t.join()
        self.assertEqual(bytes(got), big)
        # makefile, the other way
        with conn.makefile("w") as w:
            w.write("line one\nline two\n")
        conn.shutdown(socket.SHUT_WR)
        with c.makefile("r") as r:
            self.assertEqual(r.readlines(), ["line one\n", "line two\n"])

    def test_dup_and_fromfd(self):
        srv, port = self.server(1)
        d = self.keep(srv.dup())
        self.assertIsInstance(d, af_custom.CustomSocket)
        self.assertEqual(d.getsockname(), port)
        self.assertEqual(d.backlog, 1)


class TestDgram(Base):
    def test_sendto_recvfrom(self):
        a = self.keep(af_custom.socket(socket.SOCK_DGRAM))
        b = self.keep(af_custom.socket(socket.SOCK_DGRAM))
        pa, pb = new_port(), new_port()
        a.bind(pa)
        b.bind(pb)
        self.assertEqual(a.sendto(b"ping", pb), 4)
        self.assertEqual(b.recvfrom(100), (b"ping", pa))
        b.sendto(memoryview(b"xpong")[1:], 0, pa)
        buf = bytearray(10)
        self.assertEqual(a.recvfrom_into(buf), (4, pb))
        self.assertEqual(buf[:4], b"pong")
        # connected datagram socket: send/recv
        a.connect(pb)
        self.assertEqual(a.getpeername(), pb)
        a.send(b"hi")
        self.assertEqual(b.recvfrom(10), (b"hi", pa))
        # an unbound sender is autobound
        c = self.keep(af_custom.socket(socket.SOCK_DGRAM))
        c.sendto(b"auto", pb)
        data, port = b.recvfrom(10)
        self.assertEqual((data, port), (b"auto", c.getsockname()))
        self.assertGreaterEqual(port, af_custom.PORT_EPHEMERAL)
        # no socket on the port: refused, not dropped
        with self.assertRaises(ConnectionRefusedError):
            c.sendto(b"x", new_port())
        with self.assertRaises(OSError) as cm:
            a.stats
        self.assertEqual(cm.exception.errno, errno.ENOPROTOOPT)


class TestTimeouts(Base):
    def assertTakes(self, lo, hi, fn, exc):
        t0 = time.monotonic()
        with self.assertRaises(exc):
            fn()
        dt = time.monotonic() - t0
        self.assertGreaterEqual(dt, lo)
        self.assertLess(dt, hi)

    def test_accept_timeout(self):
        srv, port = self.server(1)
        srv.settimeout(0.3)
        self.assertTakes(0.29, 5, srv.accept, TimeoutError)
        self.client(port)
        conn, _ = srv.accept()
        self.keep(conn)
        srv.setblocking(False)
        with self.assertRaises(BlockingIOError):
            srv.accept()

    def test_recv_timeout(self):
        srv, port = self.server(1)
        c = self.client(port, timeout=0.3)
        self.assertEqual(c.gettimeout(), 0.3)
        self.assertTakes(0.29, 5, lambda: c.recv(1), TimeoutError)
        d = self.keep(af_custom.socket(socket.SOCK_DGRAM))
        d.bind(new_port())
        d.settimeout(0.2)
        self.assertTakes(0.19, 5, lambda: d.recvfrom(1), TimeoutError)
        d.setblocking(False)
        with self.assertRaises(BlockingIOError):
            d.recvfrom(1)

    def test_blocking_accept_wakes(self):
        srv, port = self.server(1)
        t = threading.Timer(0.2, lambda: self.client(port))
        t.start()
        conn, cport = srv.accept()
        self.keep(conn)
        t.join()
        self.assertNotEqual(cport, 0)

    def test_selectors(self):
        srv, port = self.server(2)
        srv.setblocking(False)
        with selectors.DefaultSelector() as sel:
            sel.register(srv, selectors.EVENT_READ)
            self.assertEqual(sel.select(0.1), [])
            c = self.client(port)
            ev = sel.select(5)
            self.assertEqual(len(ev), 1)
            conn, cport = srv.accept()
            self.keep(conn)
            self.assertEqual(cport, c.getsockname())


class TestAsyncio(Base):
    def test_server_many_clients(self):
        n, backlog = 60, 8

        async def echo(reader, writer):
            data = await reader.readline()
            writer.write(data.upper())
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        async def client(port, i):
            for _ in range(200):        # the queue is exact: retry when full
                try:
                    reader, writer = await af_custom.open_connection(port)
                    break
                except ConnectionRefusedError:
                    await asyncio.sleep(0.01)
            writer.write(b"hello %d\n" % i)
            await writer.drain()
            line = await reader.readline()
            writer.close()
            await writer.wait_closed()
            return line

        async def main():
            port = new_port()
            server = await af_custom.start_server(echo, port, backlog)
            sock = server.sockets[0]
            self.assertEqual(sock.getsockopt(af_custom.SOL_CUSTOM, af_custom.CU_BACKLOG), backlog)
            async with server:
                lines = await asyncio.gather(*(client(port, i) for i in range(n)))
            self.assertEqual(lines, [b"HELLO %d\n" % i for i in range(n)])

        asyncio.run(asyncio.wait_for(main(), 120))

    def test_start_server_sock_exact_backlog(self):
        # asyncio.start_server(sock=...) itself, the queue kept exact by backlog=
        async def main():
            srv, port = self.server(3)
            srv.setblocking(False)
            conns = []

            async def hold(reader, writer):
                conns.append(writer)

            server = await asyncio.start_server(hold, sock=srv, backlog=3)
            async with server:
                self.assertEqual(srv.backlog, 3)
                r, w = await af_custom.open_connection(port)
                w.write(b"x")
                await w.drain()
                for _ in range(100):
                    if conns:
                        break
                    await asyncio.sleep(0.02)
                self.assertEqual(len(conns), 1)
                self.assertEqual(conns[0].get_extra_info("peername"),
                                 w.get_extra_info("sockname"))
                self.assertEqual(conns[0].get_extra_info("sockname"), port)
                w.close()
                for c in conns:
                    c.close()
        asyncio.run(asyncio.wait_for(main(), 60))

    def test_sock_methods(self):
        async def main():
            loop = asyncio.get_running_loop()
            srv, port = self.server(1)
            srv.setblocking(False)
            c = self.keep(af_custom.socket())
            c.setblocking(False)
            await loop.sock_connect(c, port)
            conn, cport = await loop.sock_accept(srv)
            self.keep(conn)
            self.assertEqual(cport, c.getsockname())
            await loop.sock_sendall(c, b"abc")
            self.assertEqual(await loop.sock_recv(conn, 10), b"abc")
        asyncio.run(asyncio.wait_for(main(), 60))


class TapResult(unittest.TestResult):
    """One TAP line a test, as the other selftests print."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.n = 0

    def _line(self, test, ok, extra=""):
        self.n += 1
        name = test.id().replace("__main__.", "")
        self.stream.write("%s %d %s%s\n" % ("ok" if ok else "not ok", self.n, name, extra))
        self.stream.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(test, True)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(test, True, " # SKIP " + reason)

    def _fail(self, test, err, kind):
        self._line(test, False)
        for line in self._exc_info_to_string(err, test).splitlines():
            self.stream.write("# " + line + "\n")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err, "failure")

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err, "error")


def tap_main():
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    print("1..%d" % suite.countTestCases(), flush=True)
    print("# python %s, af_custom family %d" % (sys.version.split()[0], af_custom.family()))
    res = TapResult(sys.stdout)
    suite.run(res)
    print("# Totals: pass:%d fail:%d skip:%d" % (
        res.testsRun - len(res.failures) - len(res.errors) - len(res.skipped),
        len(res.failures) + len(res.errors), len(res.skipped)))
    return 0 if res.wasSuccessful() else 1


if __name__ == "__main__":
    if "--tap" in sys.argv:
        sys.exit(tap_main())
    unittest.main()
