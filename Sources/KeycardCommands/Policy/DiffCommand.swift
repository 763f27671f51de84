import ArgumentParser
import Foundation
import KeycardModel
import KeycardProbe
import KeycardScenario
import KeycardValues

/// `keycard diff OLD NEW`: what a policy change opens and closes, by the model (no root), in
/// np-guard netpol-analyzer's columns; `--prove` sends each changed cell as packets on both sides.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract:
            "Connectivity gained, lost and changed between two scenarios or manifest sets (no root needed); --prove confirms each changed cell with packets (root)."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv, md, dot
    }

    @OptionGroup var logging: LoggingOptions

    @Argument(
        help: "The old side: a scenario file (FILE@N: its state after step N; default: after its last step), or a manifests file or folder."
    )
    var old: String
    @Argument(help: "The new side, as OLD.") var new: String
    @Option(name: .shortAndLong, help: "Namespace of manifests' objects that name none (as kubectl apply -n).") var namespace: String?
    @Option(name: .shortAndLong, help: "table (np-guard's txt), json, csv, md or dot.") var output: Format = .table
    @Option(name: .customLong("fail-on"), help: "Exit 1 when a row of this type exists: added, removed or changed (repeatable).")
    var failOn: [DiffRow.DiffType] = []
    @Flag(help: "Build each side as a lab (root) and send every changed cell as packets: exit 1 unless each is as the model says.")
    var prove = false
    @Option(help: "pod or node, for --prove; overrides spec.lab.enforcement.") var enforcement: Enforcement?

    /// One side: its timeline and the state compared (after step `step`).
    struct Side {
        var timeline: Timeline
        var step: Int
        var cluster: Cluster
        var label: String
    }

    func run() throws {
        logging.apply()
        let before = try Self.load(old, namespace: namespace)
        let after = try Self.load(new, namespace: namespace)
        let diff = ConnectivityDiff.result(old: before.timeline, afterStep: before.step, new: after.timeline, afterStep: after.step)
        let rows = diff.rows
        for note in diff.notes { Console.error(note) }
        // The rows carry the mesh's decision where a side uses it; the proof's labs run no mesh
        // proxy, so they can prove the rows only where the mesh changes none of them.
        if prove, before.timeline.usesMesh || after.timeline.usesMesh,
            rows
                != ConnectivityDiff.compare(
                    old: before.timeline, afterStep: before.step, new: after.timeline, afterStep: after.step, mesh: false)
        {
            Console.error(
                "diff --prove: the mesh decides some of these rows, and the proof's labs run no mesh proxy: run the scenarios with keycard run instead"
            )
            throw Exit.invalid
        }
        // np-guard's bytes: nothing for an empty diff, in every format (keycard's JSON is `[]`), and a
        // final newline where np-guard writes one (txt, csv), none where it does not (md, dot).
        let text: String
        switch output {
        case .table: text = DiffTextRenderer.render(rows)
        case .json: text = ""
        case .csv: text = DiffCSVRenderer.render(rows)
        case .md: text = DiffMarkdownRenderer.render(rows)
        case .dot: text = DiffDotRenderer.render(diff)
        }
        if output == .json { try Console.json(rows) } else { Console.write(text) }
        if prove, !rows.isEmpty {
            try Environment.requireRoot()
            let wrong = try Self.prove(rows, before, after, enforcement: enforcement)
            if wrong > 0 { throw Exit.failed }
        }
        if rows.contains(where: { failOn.contains($0.diffType) }) { throw Exit.failed }
    }

    /// `PATH` or `PATH@N` (N: a step index, 0 for the resources alone).
    /// A path that exists is read whole, even with an `@` in its name.
    static func load(_ argument: String, namespace: String?) throws -> Side {
        var path = argument
        var stepText: Substring?
        if !FileManager.default.fileExists(atPath: argument), let at = argument.lastIndex(of: "@"),
            FileManager.default.fileExists(atPath: String(argument[..<at]))
        {
            path = String(argument[..<at])
            stepText = argument[argument.index(after: at)...]
        }
        // The diff reads cluster states, never a probe step's cells: a step over the cell limit only warns.
        let timelines = try ScenarioInput.loadAll([path], namespace: namespace, cellLimit: .warn)
        guard let timeline = timelines.first else { throw Exit.invalid }
        let index =
            try stepText.map { try ScenarioInput.step(written: $0, of: timeline, asked: argument) }
            ?? ScenarioInput.step(nil, of: timeline, asked: argument)
        return Side(timeline: timeline, step: index, cluster: timeline.cluster(afterStep: index), label: argument)
    }

    /// Sends each changed cell on both sides (a lab per side, torn down after); prints what was
    /// confirmed and returns how many cells disagreed with the model.
    static func prove(_ rows: [DiffRow], _ before: Side, _ after: Side, enforcement: Enforcement?) throws -> Int {
        let slot = Interruption.ProofSlot()
        return try Interruption.tearingDown(slot) { interruption in
            try prove(rows, before, after, enforcement: enforcement, slot: slot, interruption: interruption)
        }
    }

    /// `prove` under its signal trap: `slot` names the side's lab while it stands.
    private static func prove(
        _ rows: [DiffRow], _ before: Side, _ after: Side, enforcement: Enforcement?, slot: Interruption.ProofSlot,
        interruption: @escaping () -> Int32?
    ) throws -> Int {
        var wrong = 0
        let probed = ConnectivityDiff.judgedCells(old: before.timeline, afterStep: before.step, new: after.timeline, afterStep: after.step)
        for (side, isNew) in [(before, false), (after, true)] {
            let map = ConnectivityMap(side.cluster, leavingOut: side.timeline.unpairedPods, probed: probed)
            let engine = PolicyEngine(side.cluster)
            // A peer by its row name; an external peer is a range of addresses (ExternalBlocks): every external in it.
            func peers(_ name: String) -> [ConnectivityPeer] {
                ExternalBlocks.range(ofPeer: name).map { range in
                    map.destinations.filter { peer in
                        guard case .external = peer.endpoint, let address = side.cluster.address(of: peer.endpoint) else { return false }
                        return range.contains(address.value)
                    }
                } ?? map.peer(named: name).map { [$0] } ?? []
            }
            var cells: [ProbeCell] = []
            for row in rows {
                for source in peers(row.source) {
                    guard let from = source.endpoint.sourceKey else { continue }
                    for destination in peers(row.destination) {
                        let judged = map.judgedPorts(from: source, to: destination)
                        for text in row.gained + row.lost {
                            guard let port = ProtocolPort.parse(text), judged.contains(port) else { continue }
                            let open = row.gained.contains(text) == isNew
                            cells.append(
                                ProbeCell(
                                    judging: from, to: destination.endpoint, port: port, engine: engine, mesh: nil,
                                    expected: .explicit(open ? .allow : .deny)))
                        }
                    }
                }
            }
            guard !cells.isEmpty else { continue }
            let labName = LabName.derived(
                from: side.timeline.scenario.name, role: "\(isNew ? "new" : "old")\(ProcessInfo.processInfo.processIdentifier)")
            slot.labName = labName
            let results = try GeneratedPolicyProof.run(
                side.timeline, cluster: side.cluster, cells: cells, enforcement: enforcement ?? side.timeline.scenario.lab.enforcement,
                labName: labName, progress: Progress.line, interruption: interruption)
            let failed = results.filter { !$0.passed }
            let sent = results.filter { $0.observed != .skipped }
            Console.error(
                "proof \(isNew ? "NEW" : "OLD") (\(side.label)): \(results.count) changed cells, \(sent.count - failed.count) confirmed by packets"
                    + (sent.count < results.count ? ", \(results.count - sent.count) judged by the model only" : "")
                    + (failed.isEmpty ? "" : ", \(failed.count) wrong"))
            for cell in results {
                Console.error(
                    "  \(!cell.passed ? "wrong" : cell.observed == .skipped ? "model only" : "confirmed"): \(cell.cellDescription): expected \(cell.expected.rawValue), model \(cell.model.rawValue), observed \(cell.observed?.rawValue ?? "-")"
                )
            }
            wrong += failed.count
        }
        return wrong
    }
}

extension DiffRow.DiffType: ExpressibleByArgument {}
