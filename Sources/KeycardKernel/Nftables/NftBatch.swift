import CNetfilter
import Glibc

/// The kinds of nftables message keycard sends (BEGIN and END excluded).
public enum NftMessageKind: String, Sendable, Hashable, CaseIterable {
    case newTable, deleteTable, newChain, newSet, newSetElements, deleteSetElements, newRule

    var type: nf_tables_msg_types {
        switch self {
        case .newTable: NFT_MSG_NEWTABLE
        case .deleteTable: NFT_MSG_DELTABLE
        case .newChain: NFT_MSG_NEWCHAIN
        case .newSet: NFT_MSG_NEWSET
        case .newSetElements: NFT_MSG_NEWSETELEM
        case .deleteSetElements: NFT_MSG_DELSETELEM
        case .newRule: NFT_MSG_NEWRULE
        }
    }

    /// What nft would call the operation, for errors.
    var verb: String {
        switch self {
        case .newTable: "add table"
        case .deleteTable: "delete table"
        case .newChain: "add chain"
        case .newSet: "add set"
        case .newSetElements: "add elements to set"
        case .deleteSetElements: "delete elements from set"
        case .newRule: "add rule"
        }
    }
}

/// One nfnetlink transaction (BEGIN … END) being written into one growable buffer, so that it
/// goes to the kernel in a single sendmsg. Remembers every message's sequence number and subject.
final class NftBatch {
    struct Entry {
        var kind: NftMessageKind
        var subject: String
    }

    private(set) var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var length = 0
    /// The sequence number of the first acknowledged message; entries follow one by one.
    let firstSequence: UInt32
    private(set) var entries: [Entry] = []
    private var sequence: UInt32

    /// Room kept free before each message: the largest message (a chunk of elements) is far smaller.
    private static let headroom = 256 * 1024

    init(firstSequence: UInt32) {
        self.firstSequence = firstSequence
        sequence = firstSequence
        capacity = 1 << 20
        // Zeroed: libmnl 1.0.4's mnl_attr_put leaves attribute padding unwritten, and those bytes
        // would otherwise be stale heap (and the batch's bytes not reproducible for golden tests).
        // calloc of 1 MiB does not fail on Linux short of overcommit refusal; treat that as fatal.
        guard let memory = calloc(capacity, 1) else { fatalError("calloc(\(1 << 20)) failed") }
        storage = memory
        writeControl(nftnl_batch_begin, sequence: firstSequence &- 1)
    }

    deinit { free(storage) }

    /// Starts a message at the end of the buffer; write its payload, then call `seal`.
    func header(_ kind: NftMessageKind, family: UInt32, flags: Int32, subject: String) -> UnsafeMutablePointer<nlmsghdr> {
        reserve()
        let nlh = nftnl_nlmsg_build_hdr(
            cursor, UInt16(kind.type.rawValue), UInt16(family), UInt16(flags | NLM_F_ACK), sequence)
        sequence &+= 1
        entries.append(Entry(kind: kind, subject: subject))
        // nftnl_nlmsg_build_hdr never returns NULL: it writes into the buffer it was given.
        guard let nlh else { preconditionFailure("nftnl_nlmsg_build_hdr returned NULL") }
        return nlh
    }

    /// Accounts for the message written since `header`.
    func seal(_ nlh: UnsafeMutablePointer<nlmsghdr>) { length += align4(Int(nlh.pointee.nlmsg_len)) }

    /// Writes END (once); the buffer is then ready to send.
    func finish() {
        guard !finished else { return }
        finished = true
        writeControl(nftnl_batch_end, sequence: sequence)
    }

    private var finished = false

    /// The sequence numbers of the acknowledged messages, in order (BEGIN and END have none).
    var sequences: [UInt32] { (0..<UInt32(entries.count)).map { firstSequence &+ $0 } }

    private var cursor: UnsafeMutablePointer<CChar> {
        (storage + length).assumingMemoryBound(to: CChar.self)
    }

    private func writeControl(
        _ build: (UnsafeMutablePointer<CChar>?, UInt32) -> UnsafeMutablePointer<nlmsghdr>?, sequence: UInt32
    ) {
        reserve()
        if let nlh = build(cursor, sequence) { seal(nlh) }
    }

    private func reserve() {
        guard length + Self.headroom > capacity else { return }
        let grown = max(capacity * 2, length + Self.headroom)
        guard let memory = realloc(storage, grown) else { fatalError("realloc(\(grown)) failed") }
        memset(memory + capacity, 0, grown - capacity)
        storage = memory
        capacity = grown
    }
}

@inline(__always) func align4(_ value: Int) -> Int { (value + 3) & ~3 }
