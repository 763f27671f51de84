import KeycardModel
import KeycardValues

/// The IPv4 space cut where the policies' address blocks begin and end, as np-guard's
/// netpol-analyzer cuts it into its external peers: every ipBlock (its CIDR less its excepts, split
/// into contiguous ranges) of every NetworkPolicy's ingress and egress rules, and every `networks`
/// CIDR of a ClusterNetworkPolicy, with 0.0.0.0/0; the pieces are the contiguous ranges no block
/// boundary crosses (np-guard's `DisjointIPBlocks` over the blocks and `GetCidrAll`; a diff refines
/// both sides' pieces together, as its `DisjointPeerIPMap`). Every address of a piece is treated
/// alike by every policy, which is why np-guard names an external peer by its piece:
/// `IPBlockPeer.String()`, `first-last[External]` (`169.254.169.254-169.254.169.254[External]`,
/// `0.0.0.0-255.255.255.255[External]`). IPv6 blocks hold no lab address and are left out.
public struct ExternalBlocks: Sendable, Equatable {
    /// The first address of every piece, ascending; the first is 0.0.0.0.
    public private(set) var starts: [UInt32]

    /// The pieces of the clusters' blocks taken together (one cluster: its own pieces; the two
    /// sides of a diff: their common refinement).
    public init(_ clusters: [Cluster]) {
        var cuts: Set<UInt32> = [0]
        func cut(_ range: ClosedRange<UInt32>) {
            cuts.insert(range.lowerBound)
            if range.upperBound < .max { cuts.insert(range.upperBound + 1) }
        }
        for cluster in clusters {
            for policy in cluster.policies.values {
                for rule in (policy.ingress ?? []) + (policy.egress ?? []) {
                    for block in (rule.peers ?? []).compactMap(\.ipBlock) { Self.ranges(of: block).forEach(cut) }
                }
            }
            for policy in cluster.clusterPolicies.values {
                for rule in policy.ingress + policy.egress {
                    for peer in rule.peers {
                        guard case .networks(let blocks) = peer else { continue }
                        for block in blocks where block.family == .ipv4 { cut(block.network...block.last) }
                    }
                }
            }
        }
        starts = cuts.sorted()
    }

    /// An ipBlock's addresses: its CIDR less every except, as contiguous ranges.
    static func ranges(of block: NetworkPolicy.IPBlock) -> [ClosedRange<UInt32>] {
        guard block.cidr.family == .ipv4 else { return [] }
        var pieces = [block.cidr.network...block.cidr.last]
        for except in block.except where except.family == .ipv4 {
            let hole = except.network...except.last
            pieces = pieces.flatMap { piece -> [ClosedRange<UInt32>] in
                guard hole.overlaps(piece) else { return [piece] }
                var rest: [ClosedRange<UInt32>] = []
                if hole.lowerBound > piece.lowerBound { rest.append(piece.lowerBound...(hole.lowerBound - 1)) }
                if hole.upperBound < piece.upperBound { rest.append((hole.upperBound + 1)...piece.upperBound) }
                return rest
            }
        }
        return pieces
    }

    /// The index of the piece holding `address`.
    public func piece(of address: IPv4) -> Int {
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= address.value { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The addresses of pieces `first` through `last` (touching, so one range).
    public func range(_ first: Int, _ last: Int) -> ClosedRange<UInt32> {
        starts[first]...(last + 1 < starts.count ? starts[last + 1] - 1 : .max)
    }

    /// np-guard's name of an external peer covering `range`: `first-last[External]`.
    public static func peerName(_ range: ClosedRange<UInt32>) -> String {
        "\(IPv4(range.lowerBound))-\(IPv4(range.upperBound))\(externalSuffix)"
    }

    /// The suffix of an external peer's name (np-guard's `externalLabel`).
    public static let externalSuffix = "[External]"

    /// The range an external peer's name (`first-last[External]`) covers; nil for another name.
    public static func range(ofPeer name: String) -> ClosedRange<UInt32>? {
        guard name.hasSuffix(externalSuffix) else { return nil }
        let bounds = name.dropLast(externalSuffix.count).split(separator: "-")
        guard bounds.count == 2, let first = IPv4(String(bounds[0])), let last = IPv4(String(bounds[1])), first <= last else {
            return nil
        }
        return first.value...last.value
    }
}
