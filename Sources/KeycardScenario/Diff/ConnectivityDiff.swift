import KeycardModel
import KeycardValues

/// One line of `keycard diff`, in np-guard netpol-analyzer's columns (`diff-type, source,
/// destination, dir1, dir2, workloads-diff-info`), with the cells behind it: the ports gained and
/// lost between the pair.
public struct DiffRow: Hashable, Sendable, Codable {
    /// np-guard's `diff-type` column.
    public enum DiffType: String, Hashable, Sendable, Codable, CaseIterable {
        case changed, added, removed

        /// np-guard's order: changed, added, removed.
        var rank: Int {
            switch self {
            case .changed: 0
            case .added: 1
            case .removed: 2
            }
        }
    }

    public var diffType: DiffType
    public var source: String
    public var destination: String
    /// The connections in OLD (`dir1`) and NEW (`dir2`), as `ConnectivityMap.text` writes them.
    public var dir1: String
    public var dir2: String
    /// `workload ns/name[Kind] added` (or removed) when a peer exists on one side only.
    public var workloadsDiffInfo: String
    /// Ports open in NEW and not in OLD, and the reverse.
    public var gained: [String]
    public var lost: [String]

    enum CodingKeys: String, CodingKey {
        case diffType = "diff-type"
        case source, destination, dir1, dir2
        case workloadsDiffInfo = "workloads-diff-info"
        case gained, lost
    }
}

/// A pair whose allowed connections are the same on both sides (np-guard's unchanged
/// connection, drawn grey in its dot graph): `connections` as `ConnectivityMap.text` writes them.
public struct UnchangedPair: Hashable, Sendable {
    public var source: String
    public var destination: String
    public var connections: String
}

/// Everything np-guard's diff formats show: the rows (changed, added, removed), the unchanged
/// pairs (its dot graph's grey edges), and the peers on one side only (its new and lost peers).
public struct DiffResult: Sendable, Equatable {
    public var rows: [DiffRow]
    /// Sorted by source and destination.
    public var unchanged: [UnchangedPair]
    /// Workloads and bare pods in NEW only, and in OLD only (externals are never new or lost).
    public var addedPeers: Set<String>
    public var removedPeers: Set<String>
    /// What the diff left out and why (IP-block peers past `ConnectivityDiff.standInCellBudget`).
    public var notes: [String] = []
}

/// The semantic diff of two clusters' connectivity (issue 16, as np-guard's `diff`): a pair whose
/// allowed ports differ is `added` when OLD allowed nothing, `removed` when NEW allows nothing,
/// `changed` otherwise. Rows are in np-guard's order: changed, added, removed, each by source and
/// destination. Externals are np-guard's IP-block peers (`ExternalBlocks`), as sources and as
/// destinations: the externals in one piece of both sides' blocks are one peer, allowed the union
/// of their allowed ports, and pieces that touch and have the same other peer and connections on
/// both sides are merged into one row, as np-guard's `mergeIPblocks` merges them.
public enum ConnectivityDiff {
    /// The rows of np-guard's connectivity diff between two clusters, peers matched by workload name.
    public static func compare(old: Cluster, new: Cluster) -> [DiffRow] {
        let (old, new, _) = withStandIns(old, new)
        return compare(old: ConnectivityMap(old), new: ConnectivityMap(new))
    }

    /// The most cells the stand-in externals may add to a diff (stand-ins × pods of both sides ×
    /// their ports, both ways): past it they are left out, with a note, so that a policy of
    /// hundreds of ipBlocks over hundreds of pods does not make the diff take minutes.
    public static let standInCellBudget = 300_000

    /// Both clusters with the stand-in externals of their IP-block pieces that hold no declared
    /// external (`ExternalBlocks.standIns`), the same on both sides; none, and a note saying so,
    /// past `standInCellBudget`.
    static func withStandIns(_ old: Cluster, _ new: Cluster) -> (Cluster, Cluster, note: String?) {
        let standIns = ExternalBlocks.standIns(for: [old, new])
        let cells = standIns.reduce(0) { $0 + $1.ports.count } * (old.pods.count + new.pods.count) * 2
        guard cells <= standInCellBudget else {
            return (
                old, new,
                "diff: the \(standIns.count) IP blocks the policies cut 0.0.0.0/0 into are not compared (about \(cells) cells, more than \(standInCellBudget)): only the scenario's externals are; declare an external in a block to compare it"
            )
        }
        var (old, new) = (old, new)
        for standIn in standIns {
            old.externals[standIn.name] = standIn
            new.externals[standIn.name] = standIn
        }
        return (old, new, nil)
    }

    /// The diff of two scenarios' states: `old` after step `oldStep`, `new` after `newStep`, each
    /// without the pods it leaves out (`Timeline.unpairedPods`: keycard's own in manifests mode, as
    /// `keycard model` leaves them out); with the mesh's decision where either side uses the mesh
    /// (`Timeline.usesMesh`), as `keycard model` judges its cells.
    /// `mesh: false` leaves the mesh out whatever the sides use: the NetworkPolicy layer alone,
    /// which is what a lab without mesh proxies shows (`keycard diff --prove`).
    public static func compare(
        old: Timeline, afterStep oldStep: Int, new: Timeline, afterStep newStep: Int, mesh useMesh: Bool = true
    ) -> [DiffRow] {
        result(old: old, afterStep: oldStep, new: new, afterStep: newStep, mesh: useMesh).rows
    }

    /// `compare(old:afterStep:new:afterStep:mesh:)` with the unchanged pairs and the peers on one
    /// side only, for the dot graph.
    public static func result(
        old: Timeline, afterStep oldStep: Int, new: Timeline, afterStep newStep: Int, mesh useMesh: Bool = true
    ) -> DiffResult {
        let mesh = useMesh && (old.usesMesh || new.usesMesh)
        let cells = judgedCells(old: old, afterStep: oldStep, new: new, afterStep: newStep)
        let (before, after, note) = withStandIns(old.cluster(afterStep: oldStep), new.cluster(afterStep: newStep))
        var diff = result(
            old: ConnectivityMap(before, leavingOut: old.unpairedPods, mesh: mesh, probed: cells),
            new: ConnectivityMap(after, leavingOut: new.unpairedPods, mesh: mesh, probed: cells))
        if let note { diff.notes.append(note) }
        return diff
    }

    /// The cells both sides of a diff judge: every port either side serves and every cell either
    /// side's probe steps send (`Timeline.probedCells`). Judging the same cells on both sides, a
    /// row is a verdict that changed: a port one side serves and the other does not is compared
    /// (a pod that stops serving a port its policies still admit is no row, as np-guard's
    /// connectivity is the policies'), and so is a port only one side probes.
    public static func judgedCells(old: Timeline, afterStep oldStep: Int, new: Timeline, afterStep newStep: Int) -> ProbedCells {
        old.probedCells.union(new.probedCells)
            .union(ConnectivityMap.servedCells(old.cluster(afterStep: oldStep), leavingOut: old.unpairedPods))
            .union(ConnectivityMap.servedCells(new.cluster(afterStep: newStep), leavingOut: new.unpairedPods))
    }

    /// The rows of `result(old:new:)`.
    public static func compare(old: ConnectivityMap, new: ConnectivityMap) -> [DiffRow] { result(old: old, new: new).rows }

    /// A side of a pair of the diff: a workload or pod by name, or a piece of `ExternalBlocks`.
    enum Peer: Hashable {
        case peer(String)
        case piece(Int)
    }

    /// The diff of two connectivity maps: changed, added and removed pairs in np-guard's order, external
    /// address blocks split into the pieces both sides agree on.
    public static func result(old: ConnectivityMap, new: ConnectivityMap) -> DiffResult {
        let blocks = ExternalBlocks([old.cluster, new.cluster])
        // Externals are never new or lost peers.
        let oldNames = Set(old.sources.filter { $0.namespace != nil }.map(\.name))
        let newNames = Set(new.sources.filter { $0.namespace != nil }.map(\.name))
        struct Key: Hashable {
            var source: Peer
            var destination: Peer
        }
        func byPeer(_ map: ConnectivityMap) -> [Key: Set<ProtocolPort>] {
            func side(_ peer: ConnectivityPeer) -> Peer {
                if case .external = peer.endpoint, let address = map.cluster.address(of: peer.endpoint) {
                    return .piece(blocks.piece(of: address))
                }
                return .peer(peer.name)
            }
            var result: [Key: Set<ProtocolPort>] = [:]
            for (pair, ports) in map.allowed {
                result[Key(source: side(pair.source), destination: side(pair.destination)), default: []].formUnion(ports)
            }
            return result
        }
        let before = byPeer(old)
        let after = byPeer(new)
        var rows: [DiffRow] = []
        var unchanged: [UnchangedPair] = []
        /// Rows and unchanged pairs between a peer and pieces, by what must be equal to merge them:
        /// the peer, which side the pieces are on, and the connections (np-guard's `mergeIPblocks`
        /// merges by source when the destination is an IP block, by destination when the source is).
        struct MergeKey: Hashable {
            var peer: String
            var piecesAreSources: Bool
            var type: DiffRow.DiffType?
            var dir1: String
            var dir2: String
        }
        var pieces: [MergeKey: [(piece: Int, gained: [ProtocolPort], lost: [ProtocolPort])]] = [:]
        for key in Set(before.keys).union(after.keys) {
            let was = (before[key] ?? []).sorted()
            let now = (after[key] ?? []).sorted()
            let type: DiffRow.DiffType? = was == now ? nil : was.isEmpty ? .added : (now.isEmpty ? .removed : .changed)
            let dir1 = ConnectivityMap.text(was)
            let dir2 = ConnectivityMap.text(now)
            let gained = now.filter { !was.contains($0) }
            let lost = was.filter { !now.contains($0) }
            switch (key.source, key.destination) {
            case (.peer(let source), .piece(let index)):
                pieces[MergeKey(peer: source, piecesAreSources: false, type: type, dir1: dir1, dir2: dir2), default: []].append(
                    (index, gained, lost))
            case (.piece(let index), .peer(let destination)):
                pieces[MergeKey(peer: destination, piecesAreSources: true, type: type, dir1: dir1, dir2: dir2), default: []].append(
                    (index, gained, lost))
            case (.peer(let source), .peer(let destination)):
                guard let type else {
                    unchanged.append(UnchangedPair(source: source, destination: destination, connections: dir1))
                    continue
                }
                rows.append(
                    DiffRow(
                        diffType: type, source: source, destination: destination, dir1: dir1, dir2: dir2,
                        workloadsDiffInfo: info(type, source, destination, oldNames: oldNames, newNames: newNames),
                        gained: gained.map(\.description), lost: lost.map(\.description)))
            case (.piece, .piece):
                continue  // The map judges no external to an external.
            }
        }
        for (key, list) in pieces {
            let sorted = list.sorted { $0.piece < $1.piece }
            var runs: [[(piece: Int, gained: [ProtocolPort], lost: [ProtocolPort])]] = []
            for entry in sorted {
                if let last = runs.last?.last, last.piece + 1 == entry.piece {
                    runs[runs.count - 1].append(entry)
                } else {
                    runs.append([entry])
                }
            }
            for run in runs {
                let name = ExternalBlocks.peerName(blocks.range(run[0].piece, run[run.count - 1].piece))
                let (source, destination) = key.piecesAreSources ? (name, key.peer) : (key.peer, name)
                guard let type = key.type else {
                    unchanged.append(UnchangedPair(source: source, destination: destination, connections: key.dir1))
                    continue
                }
                rows.append(
                    DiffRow(
                        diffType: type, source: source, destination: destination, dir1: key.dir1, dir2: key.dir2,
                        workloadsDiffInfo: info(type, source, destination, oldNames: oldNames, newNames: newNames),
                        gained: Set(run.flatMap(\.gained)).sorted().map(\.description),
                        lost: Set(run.flatMap(\.lost)).sorted().map(\.description)))
            }
        }
        return DiffResult(
            rows: rows.sorted { ($0.diffType.rank, $0.source, $0.destination) < ($1.diffType.rank, $1.source, $1.destination) },
            unchanged: unchanged.sorted { ($0.source, $0.destination) < ($1.source, $1.destination) },
            addedPeers: newNames.subtracting(oldNames), removedPeers: oldNames.subtracting(newNames))
    }

    /// np-guard's `workloads-diff-info` (`getDiffInfo`): on an added or removed row whose source or
    /// destination workload exists on that side only, `workload SRC added`, `workload DST
    /// removed`, or `workload SRC and DST added`; externals are never new or lost.
    static func info(_ type: DiffRow.DiffType, _ source: String, _ destination: String, oldNames: Set<String>, newNames: Set<String>)
        -> String
    {
        let other: Set<String>
        switch type {
        case .changed: return ""
        case .added: other = oldNames
        case .removed: other = newNames
        }
        let named = [source, destination].filter { ExternalBlocks.range(ofPeer: $0) == nil && !other.contains($0) }
        guard !named.isEmpty else { return "" }
        return "workload \(named.joined(separator: " and ")) \(type.rawValue)"
    }
}
