/// An inclusive box of an allow program's ranges set: peer addresses (host order) × protocols ×
/// destination ports.
public struct TupleBox: Hashable, Sendable {
    public var addresses: ClosedRange<UInt32>
    public var protocols: ClosedRange<UInt32>
    public var ports: ClosedRange<UInt32>

    /// Every protocol (`0-255`) and every port (`0-65535`).
    public static let anyProtocol: ClosedRange<UInt32> = 0...255
    public static let anyPort: ClosedRange<UInt32> = 0...65535

    /// The box as a set element: `address range . protocol range . port range`.
    public var element: SetElement {
        .box(
            from: [.ipv4(addresses.lowerBound), .proto(UInt8(protocols.lowerBound)), .port(UInt16(ports.lowerBound))],
            to: [.ipv4(addresses.upperBound), .proto(UInt8(protocols.upperBound)), .port(UInt16(ports.upperBound))])
    }

    public init(addresses: ClosedRange<UInt32>, protocols: ClosedRange<UInt32>, ports: ClosedRange<UInt32>) {
        self.addresses = addresses
        self.protocols = protocols
        self.ports = ports
    }

    /// The box of an element of a set keyed `ipv4_addr [. inet_proto . inet_service]`: a value is a
    /// point (or, with only an address, every protocol and port), a box is itself.
    public init?(_ element: SetElement) {
        func numbers(_ values: [KeyValue]) -> [UInt32] { values.map(\.number) }
        switch element {
        case .value(let values) where values.count == 1:
            let address = values[0].number
            self.init(addresses: address...address, protocols: Self.anyProtocol, ports: Self.anyPort)
        case .value(let values) where values.count == 3:
            let n = numbers(values)
            self.init(addresses: n[0]...n[0], protocols: n[1]...n[1], ports: n[2]...n[2])
        case .box(let from, let to) where from.count == 3 && to.count == 3:
            let (low, high) = (numbers(from), numbers(to))
            guard low[0] <= high[0], low[1] <= high[1], low[2] <= high[2] else { return nil }
            self.init(addresses: low[0]...high[0], protocols: low[1]...high[1], ports: low[2]...high[2])
        default: return nil
        }
    }

    /// The points both boxes hold, if any.
    public func intersection(_ other: TupleBox) -> TupleBox? {
        guard addresses.overlaps(other.addresses), protocols.overlaps(other.protocols), ports.overlaps(other.ports) else { return nil }
        return TupleBox(
            addresses: addresses.clamped(to: other.addresses), protocols: protocols.clamped(to: other.protocols),
            ports: ports.clamped(to: other.ports))
    }
}

extension TupleBox {
    /// The meet of "these peers on every port" with `boxes`: for each box holding a peer's
    /// address, that peer alone with the box's protocols and ports.
    public static func peerBoxes(_ peers: Set<UInt32>, within boxes: [TupleBox]) -> [TupleBox] {
        var result: [TupleBox] = []
        for box in boxes {
            for peer in peers where box.addresses.contains(peer) {
                result.append(TupleBox(addresses: peer...peer, protocols: box.protocols, ports: box.ports))
            }
        }
        return result
    }
}
