package backstop.local.lambda;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 in front of one endpoint, which can drop every connection it carries at once: what a
 * SnapStart restore does to the connections a function opened before its snapshot (the snapshot keeps the
 * client's sockets, but the far ends forgot them). Counts the connections it accepted and dropped.
 */
final class DroppingProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final URI target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Set<Socket> clients = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger dropped = new AtomicInteger();
    private volatile boolean closed;

    DroppingProxy(URI target) throws IOException {
        this.target = target;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("proxy-" + target.getPort()).start(this::acceptLoop);
    }

    /** The proxy's own address, to give the function instead of the target's. */
    URI endpoint() {
        return URI.create("http://127.0.0.1:" + listener.getLocalPort());
    }

    int accepted() {
        return accepted.get();
    }

    /** Closes every connection it carries (both sides); returns how many client connections that was. */
    int dropAll() {
        Set<Socket> carried = Set.copyOf(open);
        int count = (int) carried.stream().filter(clients::contains).count();
        carried.forEach(this::close);
        dropped.addAndGet(count);
        return count;
    }

    int dropped() {
        return dropped.get();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                accepted.incrementAndGet();
                Socket upstream = new Socket();
                upstream.connect(new InetSocketAddress(target.getHost(), target.getPort()), 2000);
                clients.add(client);
                open.add(client);
                open.add(upstream);
                Thread.ofVirtual().start(() -> pump(client, upstream));
                Thread.ofVirtual().start(() -> pump(upstream, client));
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed or was dropped: close both
        } finally {
            close(from);
            close(to);
        }
    }

    private void close(Socket socket) {
        open.remove(socket);
        clients.remove(socket);
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        dropAll();
        try {
            listener.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
