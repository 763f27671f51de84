import KeycardModel
import KeycardValues

/// One line of `keycard diff`, in np-guard netpol-analyzer's columns (`diff-type, source,
/// destination, dir1, dir2, workloads-diff-info`), with the cells behind it: the ports gained and
/// lost between the pair.
public struct DiffRow: Hashable, Sendable, Codable {
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

/// The semantic diff of two clusters' connectivity (issue 16, as np-guard's `diff`): a pair whose
/// allowed ports differ is `added` when OLD allowed nothing, `removed` when NEW allows nothing,
/// `changed` otherwise. Rows are in np-guard's order: changed, added, removed, each by source and
/// destination.
public enum ConnectivityDiff {
    public static func compare(old: Cluster, new: Cluster) -> [DiffRow] {
        compare(old: ConnectivityMap(old), new: ConnectivityMap(new))
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
        let mesh = useMesh && (old.usesMesh || new.usesMesh)
        return compare(
            old: ConnectivityMap(old.cluster(afterStep: oldStep), leavingOut: old.unpairedPods, mesh: mesh),
            new: ConnectivityMap(new.cluster(afterStep: newStep), leavingOut: new.unpairedPods, mesh: mesh))
    }

    public static func compare(old: ConnectivityMap, new: ConnectivityMap) -> [DiffRow] {
        let oldNames = Set(old.destinations.map(\.name))
        let newNames = Set(new.destinations.map(\.name))
        func byName(_ map: ConnectivityMap) -> [String: [String: [ProtocolPort]]] {
            var result: [String: [String: [ProtocolPort]]] = [:]
            for (pair, ports) in map.allowed { result[pair.source.name, default: [:]][pair.destination.name] = ports }
            return result
        }
        let before = byName(old)
        let after = byName(new)
        var rows: [DiffRow] = []
        let sources = Set(before.keys).union(after.keys)
        for source in sources {
            let destinations = Set((before[source] ?? [:]).keys).union((after[source] ?? [:]).keys)
            for destination in destinations {
                let was = before[source]?[destination] ?? []
                let now = after[source]?[destination] ?? []
                guard was != now else { continue }
                let type: DiffRow.DiffType = was.isEmpty ? .added : (now.isEmpty ? .removed : .changed)
                var info: [String] = []
                for name in [source, destination] {
                    if !oldNames.contains(name) { info.append("workload \(name) added") }
                    if !newNames.contains(name) { info.append("workload \(name) removed") }
                }
                rows.append(
                    DiffRow(
                        diffType: type, source: source, destination: destination, dir1: ConnectivityMap.text(was),
                        dir2: ConnectivityMap.text(now), workloadsDiffInfo: info.joined(separator: ", "),
                        gained: now.filter { !was.contains($0) }.map(\.description),
                        lost: was.filter { !now.contains($0) }.map(\.description)))
            }
        }
        return rows.sorted { ($0.diffType.rank, $0.source, $0.destination) < ($1.diffType.rank, $1.source, $1.destination) }
    }
}
