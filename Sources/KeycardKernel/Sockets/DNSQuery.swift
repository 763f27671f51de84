import CLinuxShim
import Glibc
import KeycardValues

/// One DNS query for A records, sent by glibc's resolver (libresolv `res_nsearch` with a private
/// resolver state built from the pod's resolv.conf alone) from inside a lab namespace: no packet
/// codec of keycard's own.
public struct DNSQuery: Sendable, Hashable {
    /// The network namespace the query leaves from (a pod's).
    public var namespace: String
    /// The name as a program would ask for it.
    public var name: String
    /// The only nameserver asked.
    public var server: IPv4
    public var port: UInt16 = 53
    /// The search list and ndots, as in the pod's resolv.conf; at most `maximumSearchDomains` are
    /// used (a longer list is searched name by name: `DNSProbe`).
    public var search: [String]
    /// The search domains libresolv's resolver state holds (`MAXDNSRCH` in resolv.h).
    public static let maximumSearchDomains = 6
    public var ndots: Int = 5
    /// Per try, whole seconds (libresolv's unit; at least 1).
    public var timeoutSeconds: Int = 1
    public var attempts: Int = 2
    /// The pod's resolv.conf `options` (`use-vc`, `edns0`, ...), as glibc reads them; `ndots`,
    /// `timeout` and `attempts` are the fields above. Nothing of the machine's file is used.
    public var options: [String] = []

    /// Whether the resolver asks over TCP (`ResolvConf.usesTCP`).
    public var overTCP: Bool { ResolvConf(options: options).usesTCP }

    /// `net.ipv4.tcp_syn_retries` of a new network namespace (the kernel's TCP_SYN_RETRIES).
    static let namespaceSynRetries = "6"

    public init(namespace: String, name: String, server: IPv4, search: [String], timeoutSeconds: Int = 1, attempts: Int = 2) {
        self.namespace = namespace
        self.name = name
        self.server = server
        self.search = search
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
    }
}

extension DNSQuery {
    /// The bytes of a query for `name`'s A records, as libresolv builds them (`res_nmkquery`): a
    /// UDP probe of a DNS server sends it, since a real DNS server answers nothing else. Empty
    /// when the name cannot be encoded (a label over 63 bytes, say).
    public static func message(asking name: String) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 512)
        let length = buffer.withUnsafeMutableBufferPointer { kc_dns_query_message(name, $0.baseAddress, Int32($0.count)) }
        return length > 0 ? Array(buffer.prefix(Int(length))) : []
    }
}

/// What the resolver said.
public enum DNSQueryOutcome: Sendable, Hashable {
    /// A records (sorted).
    case answered([IPv4])
    /// NXDOMAIN, or the name has no record (NOERROR with an empty answer).
    case notFound
    /// The server answered with records but no A record (a CNAME whose target has no address):
    /// the resolver's search stops here, as at an address.
    case noAddress
    /// No answer within the tries (dropped, or the send was refused by a local rule): `errno`.
    case noAnswer(errno: Int32)
    /// Any other failure (REFUSED, FORMERR, ...), as the resolver's h_errno.
    case failed(hErrno: Int32, errno: Int32)
}

extension DNSQuery {
    /// Sends the query from a thread of its own that enters `namespace` first, so the resolver's
    /// socket is born in the pod's namespace; blocks until the resolver returns.
    public func run() throws(KernelError) -> DNSQueryOutcome {
        nonisolated(unsafe) var result: Result<DNSQueryOutcome, KernelError> = .failure(KernelError("dns", subject: name, errno: EIO))
        let query = self
        let thread = OneShotThread {
            do {
                result = .success(
                    try NetworkNamespace.perform(in: query.namespace) { () -> DNSQueryOutcome in
                        guard NetworkNamespace.currentInode() != NetworkNamespace.hostInode() else {
                            throw KernelError("dns", subject: "refusing to query from the host namespace", errno: EPERM)
                        }
                        // Every query may go over TCP: with `use-vc`, and after a UDP answer
                        // truncated (TC) for its size, which glibc asks again over TCP/53
                        // (res_send.c `send_dg`), as it does here: the lab's dnsmasq sets TC on a
                        // UDP answer over 512 bytes (over the EDNS size the query offers).
                        // glibc connects its TCP socket without a timeout (res_send.c `send_vc`): a
                        // dropped SYN would hold each try for the kernel's SYN retries (about 2 min).
                        // For the query only, the pod's namespace retries the SYN about as long as
                        // a try waits (1 retry: 3 s; each more doubles it).
                        // Put back as the kernel makes a new namespace (TCP_SYN_RETRIES, 6), not
                        // as read: two such queries of one pod at once (two live probes) would
                        // otherwise leave the lowered value behind. The pod's own programs see the
                        // lowered value while the query runs.
                        let key = "net/ipv4/tcp_syn_retries"
                        try Sysctl.write(key, String(Self.synRetries(forTimeout: query.timeoutSeconds)))
                        defer { try? Sysctl.write(key, Self.namespaceSynRetries) }
                        return query.resolveHere()
                    })
            } catch let error as KernelError {
                result = .failure(error)
            } catch {
                result = .failure(KernelError("dns", subject: query.namespace, errno: EIO))
            }
        }
        thread.join()
        return try result.get()
    }

    /// The fewest SYN retries (at least 1) whose backoff, 1 s doubling, lasts `timeout` seconds.
    static func synRetries(forTimeout timeout: Int) -> Int {
        var retries = 1
        while (1 << (retries + 1)) - 1 < timeout, retries < 6 { retries += 1 }
        return retries
    }

    /// Calls libresolv on the current thread.
    private func resolveHere() -> DNSQueryOutcome {
        // As many A records as the largest DNS message holds (16 bytes each).
        let capacity = 4096
        var addresses = [UInt32](repeating: 0, count: capacity)
        var failure: Int32 = 0
        var errorNumber: Int32 = 0
        let domains = search.prefix(Self.maximumSearchDomains).map { strdup($0) }
        defer { for pointer in domains { free(pointer) } }
        var searchPointers: [UnsafePointer<CChar>?] = domains.map { UnsafePointer($0) }
        let optionStrings = options.map { strdup($0) }
        defer { for pointer in optionStrings { free(pointer) } }
        var optionPointers: [UnsafePointer<CChar>?] = optionStrings.map { UnsafePointer($0) }
        let count = searchPointers.withUnsafeMutableBufferPointer { searchBuffer in
            optionPointers.withUnsafeMutableBufferPointer { optionBuffer in
                addresses.withUnsafeMutableBufferPointer { addressBuffer in
                    kc_dns_lookup_a(
                        server.value.bigEndian, port, name, searchBuffer.baseAddress, Int32(domains.count), Int32(ndots),
                        Int32(timeoutSeconds), Int32(attempts), optionBuffer.baseAddress, Int32(optionStrings.count),
                        addressBuffer.baseAddress, Int32(capacity), &failure, &errorNumber)
                }
            }
        }
        if count >= 0 {
            let found = addresses.prefix(Int(count)).map { IPv4(UInt32(bigEndian: $0)) }
            return found.isEmpty ? .noAddress : .answered(found.sorted())
        }
        switch failure {
        case HOST_NOT_FOUND, NO_DATA: return .notFound
        case TRY_AGAIN: return .noAnswer(errno: errorNumber)
        default: return .failed(hErrno: failure, errno: errorNumber)
        }
    }
}
