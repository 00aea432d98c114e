"""A tiny threaded TCP proxy on an ephemeral loopback port, to take a database away and back.

    with TcpProxy(5432) as proxy:          # 127.0.0.1:proxy.port → 127.0.0.1:5432
        proxy.cut()                        # every open connection closes; new ones are reset
        proxy.restore()                    # new connections go through again
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


def _reset(connection: socket.socket) -> None:
    """Drop a connection at once, as a vanished server looks to the client.

    The shutdown wakes a thread blocked in `recv` on it (a bare close from another thread does
    not); linger 0 makes the close a reset rather than an orderly goodbye.
    """
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    connection.close()


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._is_cut = False
        self._closing = False
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def connections(self) -> int:
        """Client connections currently forwarded."""
        with self._lock:
            return len(self._open) // 2

    def cut(self) -> None:
        """Close every forwarded connection; refuse new ones until `restore()`."""
        with self._lock:
            self._is_cut = True
            sockets, self._open = list(self._open), set()
        for each in sockets:
            _reset(each)

    def restore(self) -> None:
        with self._lock:
            self._is_cut = False

    def close(self) -> None:
        self._closing = True
        self.cut()
        with contextlib.suppress(OSError):  # wakes the thread blocked in accept(); a close does not
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:  # the listener was closed
                return
            with self._lock:
                is_cut = self._is_cut
            if is_cut:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                if self._is_cut:  # cut while connecting
                    _reset(client)
                    _reset(upstream)
                    continue
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), name="tcp-proxy-pipe",
                                 daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        with self._lock:
            was_open = source in self._open
            self._open.discard(source)
            self._open.discard(sink)
        if was_open:  # one side ended: end the other (a cut has closed both already)
            for each in (source, sink):
                _reset(each)
