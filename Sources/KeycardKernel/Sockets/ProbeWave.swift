import CLinuxShim
import Glibc
import KeycardValues

/// One wave of probes: every socket opened (one setns window per source namespace), then one epoll loop
/// under a single deadline, so a wave of drops costs one timeout however many probes it holds. With drop
/// evidence, a probe whose packet the kernel logged as dropped settles at once: the logged packet's flow
/// (source address and port from getsockname, destination, protocol, port; for an ICMP echo request the
/// echo identifier in place of the ports) names exactly one slot.
final class ProbeWave {
    /// What a TCP probe waits for once connected.
    enum Mode {
        /// The server's "<line>\n" (or EOF): the prober.
        case readLine
        /// Nothing: the handshake is the answer (the scanner).
        case handshake
    }

    private enum Phase { case connecting, reading, awaitingAnswer }

    private struct Slot {
        let request: ProbeRequest
        var fd: Int32 = -1
        var phase = Phase.connecting
        var received: [UInt8] = []
        var verdict: ProbeVerdict?
    }

    static let datagram = Array("keycard-probe\n".utf8)

    /// What a UDP probe sends: its request's payload (a DNS query to a DNS server), else keycard's
    /// line, which the lab's port servers echo.
    private func udpPayload(_ index: Int) -> [UInt8] {
        slots[index].request.payload.isEmpty ? Self.datagram : slots[index].request.payload
    }

    /// The identifier of slot `index`'s echo request: unique among the waves that run at once
    /// (`echoBase` is the number of slots of the waves before this one in its group, and a group
    /// holds fewer than 65,536 probes), mixed with the process so that two processes' probes differ.
    /// With the source and destination it is what ties a logged drop to the probe (`PacketFlow`).
    private func echoIdentifier(_ index: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: echoBase &+ index &+ Int(getpid()) &* 40_503)
    }

    /// Slot `index`'s echo request.
    private func echoRequest(_ index: Int) -> [UInt8] {
        ICMPEcho.request(identifier: echoIdentifier(index), payload: Self.datagram)
    }

    /// epoll tokens from here on are evidence listeners (index into `evidence.listeners`), below are slots.
    private static let evidenceToken: UInt64 = 1 << 62
    /// The token of the eventfd other waves write when they forward this wave's evidence.
    private static let inboxToken: UInt64 = 1 << 61

    private var slots: [Slot]
    private let mode: Mode
    private let epoll: Epoll
    private var pending = 0
    private let router: EvidenceRouter?
    /// This wave's number among the waves sharing `router`.
    private let waveID: Int
    /// Added to a slot's index to make its echo identifier (`echoIdentifier`).
    private let echoBase: Int
    /// Written by other waves when they forward this wave's evidence (-1 without evidence).
    private var inboxFD: Int32 = -1

    private init(_ requests: [ProbeRequest], mode: Mode, router: EvidenceRouter?, waveID: Int, echoBase: Int) throws(KernelError) {
        slots = requests.map { Slot(request: $0) }
        self.mode = mode
        self.router = router
        self.waveID = waveID
        self.echoBase = echoBase
        epoll = try Epoll(capacity: min(max(requests.count, 1), 4096))
    }

    deinit {
        for slot in slots where slot.fd >= 0 { close(slot.fd) }
        router?.leave(wave: waveID)
        if inboxFD >= 0 { close(inboxFD) }
    }

    /// Runs `requests` (no SCTP) as one wave; verdicts in request order. Several waves may run at
    /// once on different threads, each with its own `waveID` and `echoBase` (the slots of the waves
    /// before it), sharing `router` (whose listeners the caller emptied before they started).
    static func run(
        _ requests: [ProbeRequest], mode: Mode, timeout: Duration, namespaces: NamespaceHandles, router: EvidenceRouter? = nil,
        waveID: Int = 0, echoBase: Int = 0
    ) throws(KernelError) -> [ProbeVerdict] {
        let wave = try ProbeWave(requests, mode: mode, router: router, waveID: waveID, echoBase: echoBase)
        try wave.listenForEvidence()
        try wave.openAll(namespaces)
        try wave.loop(timeout: timeout)
        return wave.slots.map { $0.verdict ?? .deny(.timeout) }
    }

    /// Joins the router and adds every listener (and this wave's inbox eventfd) to the wave's epoll.
    private func listenForEvidence() throws(KernelError) {
        guard let router else { return }
        inboxFD = try syscall("eventfd") { eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK)) }
        router.join(wave: waveID, wakeFD: inboxFD)
        try epoll.add(inboxFD, events: EpollFlag.input, token: Self.inboxToken)
        for (index, listener) in router.evidence.listeners.enumerated() {
            try epoll.add(listener.fd, events: EpollFlag.input, token: Self.evidenceToken + UInt64(index))
        }
    }

    private func openAll(_ namespaces: NamespaceHandles) throws(KernelError) {
        var order: [String] = []
        var indices: [String: [Int]] = [:]
        for (index, slot) in slots.enumerated() {
            let name = slot.request.sourceNamespace
            if indices[name] == nil { order.append(name) }
            indices[name, default: []].append(index)
        }
        for name in order {
            try namespaces.perform(in: name) { handle throws(KernelError) in
                for index in indices[name, default: []] {
                    try open(index, inode: handle.inode, forbidden: namespaces.forbiddenInodes)
                }
            }
        }
    }

    /// socket, namespace check, non-blocking connect (and the first datagram for UDP), epoll registration.
    private func open(_ index: Int, inode: UInt64, forbidden: Set<UInt64>) throws(KernelError) {
        let request = slots[index].request
        let address = IPv4Sockaddr.make(request.destination, port: request.port)
        let fd = try SocketCalls.open(request.proto)
        slots[index].fd = fd
        pending += 1
        try SocketNamespaceGuard.check(socket: fd, expectedInode: inode, forbiddenInodes: forbidden)
        if request.proto == .udp {
            // Report every ICMP error on the connected socket, not only the "hard" ones.
            try SocketCalls.setOption(fd, Int32(IPPROTO_IP), IP_RECVERR, 1, "IP_RECVERR")
        }
        if let mark = request.mark { try MeshSocketOptions.setMark(fd, mark) }
        if let sourcePort = request.sourcePort {
            try SocketCalls.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            let bound = IPv4Sockaddr.withSockaddr(IPv4Sockaddr.make(IPv4(0), port: sourcePort)) { bind(fd, $0, $1) }
            if bound != 0 { return settle(index, Self.verdict(forError: errno)) }
        }
        let result = IPv4Sockaddr.withSockaddr(address) { connect(fd, $0, $1) }
        if result != 0 && errno != EINPROGRESS { return settle(index, Self.verdict(forError: errno)) }
        if router != nil {
            recordFlow(index, destination: address)
            if let translated = request.translated {
                let backend = IPv4Sockaddr.make(translated.address, port: translated.port)
                recordFlow(index, destination: backend)
                if let nat = request.sourceNAT { recordFlow(index, destination: backend, source: nat) }
            }
        }
        if request.proto == .udp || request.proto == .icmp {
            // A datagram or an echo request goes out with send(): a local output (egress) drop fails it
            // with EPERM, which settles the slot before the egress rule's log entry is read.
            slots[index].phase = .awaitingAnswer
            let bytes = request.proto == .icmp ? echoRequest(index) : udpPayload(index)
            if let code = SocketCalls.send(fd, bytes) { return settle(index, Self.verdict(forError: code)) }
            try epoll.add(fd, events: EpollFlag.input, token: UInt64(index))
        } else if result == 0 {
            try connected(index, registered: false)
        } else {
            try epoll.add(fd, events: EpollFlag.output, token: UInt64(index))
        }
    }

    /// connect() has bound the socket: its local address and port complete the flow the kernel will log.
    /// A raw ICMP socket has no ports (its getsockname port is the protocol number, `inet_create` in
    /// net/ipv4/af_inet.c): its echo request's identifier completes the flow instead. `source`: the
    /// address a source NAT put in place of the local one (`ProbeRequest.sourceNAT`).
    private func recordFlow(_ index: Int, destination: sockaddr_in, source nat: IPv4? = nil) {
        guard let local = IPv4Sockaddr.local(of: slots[index].fd) else { return }
        let proto = slots[index].request.proto
        let source = nat ?? IPv4(UInt32(bigEndian: local.sin_addr.s_addr))
        let target = IPv4(UInt32(bigEndian: destination.sin_addr.s_addr))
        let flow =
            proto == .icmp
            ? PacketFlow(source: source, destination: target, proto: proto.number, echoIdentifier: echoIdentifier(index))
            : PacketFlow(
                source: source, destination: target, proto: proto.number, sourcePort: UInt16(bigEndian: local.sin_port),
                destinationPort: UInt16(bigEndian: destination.sin_port))
        router?.own(flow, wave: waveID, slot: index)
    }

    /// Settles every pending slot whose packet a listener reports dropped (the router forwards other
    /// waves' packets to them and ignores the rest).
    private func collectEvidence(_ listener: Int) throws(KernelError) {
        guard let router else { return }
        for settlement in try router.drain(listener: listener, for: waveID) {
            settle(settlement.slot, .deny(.dropLogged(settlement.prefix)))
        }
    }

    /// Settles the slots other waves found logged as dropped.
    private func collectForwarded() {
        guard let router else { return }
        var count: UInt64 = 0
        _ = read(inboxFD, &count, MemoryLayout<UInt64>.size)
        for settlement in router.takeInbox(wave: waveID) {
            settle(settlement.slot, .deny(.dropLogged(settlement.prefix)))
        }
    }

    private func loop(timeout: Duration) throws(KernelError) {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var resendAt: ContinuousClock.Instant? = clock.now + timeout / 2
        while pending > 0 {
            let now = clock.now
            if now >= deadline {
                // A process starved of CPU may wake only after the deadline: what the kernel has
                // answered by then is read before the rest is judged a timeout.
                try dispatch(try epoll.wait(timeoutMilliseconds: 0))
                break
            }
            if let due = resendAt, now >= due {
                resendDatagrams()
                resendAt = nil
                continue
            }
            let wake = min(deadline, resendAt ?? deadline)
            try dispatch(try epoll.wait(timeoutMilliseconds: Self.milliseconds(until: wake, from: now)))
        }
    }

    private func dispatch(_ events: [(token: UInt64, events: UInt32)]) throws(KernelError) {
        for event in events {
            if event.token >= Self.evidenceToken {
                try collectEvidence(Int(event.token - Self.evidenceToken))
            } else if event.token == Self.inboxToken {
                collectForwarded()
            } else {
                try handle(Int(event.token))
            }
        }
    }

    private func handle(_ index: Int) throws(KernelError) {
        guard slots[index].verdict == nil else { return }
        switch slots[index].phase {
        case .connecting:
            let code = SocketCalls.pendingError(slots[index].fd)
            // Connected and reset before this loop looked (a refusing mesh proxy is quick): no
            // answer, not a refusal of the connection itself.
            if code == ECONNRESET && slots[index].request.answerRequired { return settle(index, .unanswered(reset: true)) }
            if code != 0 { return settle(index, Self.verdict(forError: code)) }
            try connected(index, registered: true)
        case .reading:
            readLine(index)
        case .awaitingAnswer:
            readAnswer(index)
        }
    }

    private func connected(_ index: Int, registered: Bool) throws(KernelError) {
        guard mode == .readLine, !slots[index].request.handshakeOnly else { return settle(index, .allow(line: "")) }
        slots[index].phase = .reading
        let fd = slots[index].fd
        if !slots[index].request.payload.isEmpty, let code = SocketCalls.send(fd, slots[index].request.payload) {
            return settle(index, code == ECONNRESET || code == EPIPE ? .unanswered(reset: true) : Self.verdict(forError: code))
        }
        if registered {
            try epoll.modify(fd, events: EpollFlag.input, token: UInt64(index))
        } else {
            try epoll.add(fd, events: EpollFlag.input, token: UInt64(index))
        }
        readLine(index)
    }

    /// Reads what the server sent until a newline or EOF (`readsToEnd`: until EOF); a reset after
    /// the handshake still counts as allowed (the network let the connection through) unless the
    /// request needs an answer and none came (`unanswered`).
    private func readLine(_ index: Int) {
        var buffer = [UInt8](repeating: 0, count: 512)
        let request = slots[index].request
        while true {
            let count = buffer.withUnsafeMutableBytes { read(slots[index].fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            if count > 0 { slots[index].received += buffer.prefix(count) }
            if count <= 0 && slots[index].received.isEmpty && request.answerRequired {
                return settle(index, .unanswered(reset: count < 0))
            }
            if count <= 0 || (!request.readsToEnd && slots[index].received.contains(UInt8(ascii: "\n"))) {
                let text =
                    request.readsToEnd ? String(decoding: slots[index].received, as: UTF8.self) : Self.firstLine(slots[index].received)
                return settle(index, .allow(line: text))
            }
        }
    }

    private func readAnswer(_ index: Int) {
        if slots[index].request.proto == .icmp { return readEchoReplies(index) }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = buffer.withUnsafeMutableBytes { recv(slots[index].fd, $0.baseAddress, $0.count, kc_msg_dontwait()) }
        if count >= 0 { return settle(index, .allow(line: Self.firstLine(Array(buffer.prefix(count))))) }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
        settle(index, Self.verdict(forError: errno))
    }

    /// Reads what the raw socket holds (ICMP from the destination only) until this probe's echo
    /// reply; anything else (another probe's reply, an echo request to this namespace) is skipped.
    private func readEchoReplies(_ index: Int) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(slots[index].fd, $0.baseAddress, $0.count, kc_msg_dontwait()) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                return settle(index, Self.verdict(forError: errno))
            }
            if ICMPEcho.isReply(buffer[0..<count], identifier: echoIdentifier(index)) { return settle(index, .allow(line: "")) }
        }
    }

    /// The one resend of a UDP or ICMP wave, halfway to the deadline, for datagrams lost on the way.
    private func resendDatagrams() {
        for index in slots.indices where slots[index].verdict == nil && slots[index].phase == .awaitingAnswer {
            let bytes = slots[index].request.proto == .icmp ? echoRequest(index) : udpPayload(index)
            if let code = SocketCalls.send(slots[index].fd, bytes) { settle(index, Self.verdict(forError: code)) }
        }
    }

    private func settle(_ index: Int, _ verdict: ProbeVerdict) {
        guard slots[index].verdict == nil else { return }
        slots[index].verdict = verdict
        if slots[index].fd >= 0 {
            // Also leaves the epoll set. A TCP probe ends with a RST: no TIME_WAIT on either end.
            if slots[index].request.proto == .tcp { SocketCalls.abort(slots[index].fd) } else { close(slots[index].fd) }
            slots[index].fd = -1
        }
        pending -= 1
    }

    /// ECONNREFUSED (RST, ICMP port-unreachable) is "closed"; anything else is a denial with its errno.
    static func verdict(forError code: Int32) -> ProbeVerdict {
        switch code {
        case ECONNREFUSED, ECONNRESET: .closed
        case ETIMEDOUT: .deny(.timeout)
        default: .deny(.socketError(errno: code))
        }
    }

    private static func firstLine(_ bytes: [UInt8]) -> String {
        let line = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        return String(decoding: line, as: UTF8.self)
    }

    private static func milliseconds(until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int32 {
        let (seconds, attoseconds) = (deadline - now).components
        let total = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(total, 0))
    }
}
