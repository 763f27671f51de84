import KeycardValues

/// A named set (`set allow-a { type ipv4_addr; flags interval; elements = { ... } }`).
///
/// More than one key field makes a concatenation (`type ipv4_addr . inet_proto . inet_service`).
/// An interval set with one `ipv4Address` key holds address ranges (the kernel's rbtree); an
/// interval set with a concatenated key holds disjoint boxes (`SetElement.box`, the kernel's
/// pipapo, Linux ≥ 5.6). A verdict map (`data == .verdict`) maps each key to a jump or goto.
public struct NamedSet: Hashable, Sendable, Codable {
    public var name: String
    public var key: [KeyField]
    public var interval: Bool
    public var elements: [SetElement]
    /// Whether more elements let more traffic through (the set is looked up by accepting rules)
    /// or less (it names what is isolated). `Table.meet` needs to know which way is tighter.
    public var polarity: Polarity
    /// What each element maps to: nil for a plain set, `.verdict` for a verdict map
    /// (`map m { type ipv4_addr : verdict; }`, elements `SetElement.mapping`).
    public var data: SetData?
    /// Sets with the same `union` are looked up one after another by rules with the same verdict:
    /// a key is allowed when any of them holds it. `Table.meet` intersects the unions, not each set.
    public var union: String?
    /// Where elements come from, for humans (`nft list` shows it as the element's comment): the
    /// first contributing `ns/policy#ingress[i]`. Never part of what an update compares.
    public var comments: [SetElement: String]?

    /// What a map's elements carry.
    public enum SetData: String, Hashable, Sendable, Codable {
        /// A verdict (`jump chain`, `goto chain`): the map is looked up by a `vmap` statement.
        case verdict
    }

    /// Which way a set's elements move what is allowed.
    public enum Polarity: String, Hashable, Sendable, Codable {
        /// More elements, more allowed: peers, selected pods, named-port destinations.
        case allows
        /// More elements, less allowed: the pods a chain isolates, a ClusterNetworkPolicy Deny
        /// rule's peers.
        case restricts
        /// Neither: more elements move traffic elsewhere, which may allow or deny it (an Admin
        /// Pass rule's peers skip the rest of the tier). `Table.meet` cannot meet its elements:
        /// when they change it meets the whole chains.
        case neither
    }

    public init(
        name: String, key: [KeyField], interval: Bool = false, elements: [SetElement] = [], polarity: Polarity = .allows,
        data: SetData? = nil, union: String? = nil
    ) {
        self.union = union
        self.name = name
        self.key = key
        self.interval = interval
        self.elements = elements
        self.polarity = polarity
        self.data = data
    }

    /// The elements as the kernel will hold them: for interval sets, ranges sorted and with
    /// overlapping or adjacent ones merged (the kernel refuses overlaps); otherwise duplicates
    /// removed, order kept.
    public var normalizedElements: [SetElement] {
        interval && key.count == 1 ? SetElement.mergedRanges(elements) : SetElement.deduplicated(elements)
    }

    /// The same set without its elements: what must match for an element-only update.
    public var declaration: NamedSet { NamedSet(name: name, key: key, interval: interval, polarity: polarity, data: data, union: union) }
}

/// One field of a set key.
public enum KeyField: String, Hashable, Sendable, Codable {
    /// `ipv4_addr`, 4 bytes, network order.
    case ipv4Address
    /// `inet_proto`, 1 byte (padded to 4 in a concatenation).
    case inetProto
    /// `inet_service`, 2 bytes network order (padded to 4 in a concatenation).
    case inetService
}

/// One element of a named set.
public enum SetElement: Hashable, Sendable, Codable {
    /// One value per key field.
    case value([KeyValue])
    /// An inclusive IPv4 range (interval sets only); host-order addresses.
    case range(from: UInt32, to: UInt32)
    /// An inclusive box of a concatenated interval set: one value per key field at each corner
    /// (`10.0.0.0-10.0.0.255 . tcp . 80-90`). Boxes of one set never overlap (the kernel refuses).
    case box(from: [KeyValue], to: [KeyValue])
    /// A verdict map's element: the key and where a packet with that key goes.
    case mapping([KeyValue], Verdict)

    /// A CIDR block as a range.
    public static func prefix(_ address: UInt32, length: UInt8) -> SetElement {
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - UInt32(min(length, 32)))
        return .range(from: address & mask, to: (address & mask) | ~mask)
    }

    /// A one-address range or value as a single IPv4 value element (for hash sets), or nil.
    public var singleAddress: SetElement? {
        guard let range = ipv4Range, range.lowerBound == range.upperBound else { return nil }
        return .value([.ipv4(range.lowerBound)])
    }

    /// The element as an inclusive IPv4 range, if it is one (a single IPv4 value counts).
    public var ipv4Range: ClosedRange<UInt32>? {
        switch self {
        case .range(let from, let to): return from <= to ? from...to : to...from
        case .value(let values):
            if values.count == 1, case .ipv4(let address) = values[0] { return address...address }
            return nil
        case .box, .mapping: return nil
        }
    }

    static func deduplicated(_ elements: [SetElement]) -> [SetElement] {
        var seen = Set<SetElement>()
        return elements.filter { seen.insert($0).inserted }
    }

    static func mergedRanges(_ elements: [SetElement]) -> [SetElement] {
        let ranges = elements.compactMap(\.ipv4Range).sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for range in ranges {
            if let last = merged.last, last.upperBound == .max || range.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged.map { .range(from: $0.lowerBound, to: $0.upperBound) }
    }
}

/// One field value of an element; values of one field compare in numeric order.
public enum KeyValue: Hashable, Sendable, Codable, Comparable {
    /// An IPv4 address, host order (10.0.0.1 = 0x0A00_0001).
    case ipv4(UInt32)
    /// An IP protocol number (6 tcp, 17 udp, 132 sctp).
    case proto(UInt8)
    /// A transport port.
    case port(UInt16)
}

extension KeyValue {
    /// The value as a number, for comparisons against a box's corners.
    public var number: UInt32 {
        switch self {
        case .ipv4(let address): address
        case .proto(let number): UInt32(number)
        case .port(let port): UInt32(port)
        }
    }

    public static func < (lhs: KeyValue, rhs: KeyValue) -> Bool { lhs.number < rhs.number }
}
