import CLinuxShim
import Glibc

/// Serves every declared port of every pod from one epoll loop on one dedicated thread.
///
/// Each socket is created inside its pod's namespace (one setns window per namespace) and stays there;
/// the loop thread itself needs no namespace. TCP: accept, write "<line>\n", close (client-first: read
/// the request, then answer). UDP: answer each
/// datagram with "<line>\n". SCTP: this kernel has none, so such endpoints are listed in `unsupported`.
public final class PortServer: @unchecked Sendable {
    /// Endpoints with a live socket.
    public let serving: [ServedEndpoint]
    /// Endpoints whose protocol the kernel lacks (socket() said EPROTONOSUPPORT/ESOCKTNOSUPPORT).
    public let unsupported: [ServedEndpoint]

    private let loop: ServerLoop
    private var thread: OneShotThread?
    private let stopLock = PthreadMutex()

    /// Opens every endpoint (duplicates are served once) and starts the loop thread.
    /// - Parameters:
    ///   - backlog: listen(2) backlog; the namespace's net.core.somaxconn is raised to it if lower.
    ///   - clientFirst: TCP connections are answered only after the client's request (a line, or an
    ///     HTTP/1.1 request head, answered `200` with the line as body). A lab with the mesh serves
    ///     this way (spec mesh.md R41: a sidecar authorizes TCP on the client's first bytes, so its
    ///     probes are client-first; 2.2: HTTP ports answer HTTP).
    public init(endpoints: [ServedEndpoint], backlog: Int32 = 4096, clientFirst: Bool = false) throws(KernelError) {
        try raiseOpenFileLimit()
        var unique: [ServedEndpoint] = []
        var seen = Set<ServedEndpoint>()
        for endpoint in endpoints where seen.insert(endpoint).inserted { unique.append(endpoint) }

        let opened = try ListenerSet.open(unique, backlog: backlog)
        serving = opened.listeners.map(\.endpoint)
        unsupported = opened.unsupported
        loop = try ServerLoop(listeners: opened.listeners, clientFirst: clientFirst)
        let loop = self.loop
        thread = OneShotThread { loop.run() }
    }

    /// Ends the loop thread and closes every socket; idempotent.
    public func stop() {
        stopLock.withLock {
            guard let thread else { return }
            loop.wake()
            thread.join()
            self.thread = nil
            loop.closeAll()
        }
    }

    deinit { stop() }
}

/// A pthread mutex, enough to make `stop()` idempotent without Foundation.
final class PthreadMutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
