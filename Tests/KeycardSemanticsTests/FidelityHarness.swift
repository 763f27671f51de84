import Foundation
import KeycardCompiler
import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

/// One row of docs/kubernetes-fidelity.md: a minimal manifest and what the API server does with it,
/// which keycard must do too.
struct FidelityRow: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable {
        /// Loads; each cell holds in the model and in the compiled rules of both placements.
        case accepts([FidelityCell])
        /// Loads with a warning containing the fragment (keycard cannot honour it as written and says
        /// what it does instead); the cells hold as for `accepts`.
        case warns(String, [FidelityCell])
        /// Refused at the first occurrence of `at` in the manifest (its line and column), with the
        /// fragment in the message; `keycard check` exits 2.
        case refuses(at: String, String)
    }

    var id: String
    /// Objects appended to the fidelity cluster's resources, as block YAML list items.
    var manifest: String
    var outcome: Outcome
    /// For accepted rows, a fact about the loaded cluster beyond verdicts: nil when it holds, else
    /// what is wrong.
    var state: (@Sendable (Cluster) -> String?)?
    var testDescription: String { id }

    init(_ id: String, _ manifest: String, _ outcome: Outcome, state: (@Sendable (Cluster) -> String?)? = nil) {
        self.id = id
        self.manifest = manifest
        self.outcome = outcome
        self.state = state
    }
}

/// `"shop/client -> shop/web TCP/80 allow"`: a connection and the decision Kubernetes gives it.
struct FidelityCell: Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    var from: ObjectKey
    var to: Endpoint
    var port: ProtocolPort
    var decision: Decision
    var description: String

    init(stringLiteral text: String) {
        let words = text.split(separator: " ").map(String.init)
        precondition(words.count == 5 && words[1] == "->", "a cell is written `ns/a -> ns/b TCP/80 allow`: \(text)")
        from = required(ObjectKey.parse(words[0]), text)
        to = required(Endpoint.parse(words[2]), text)
        port = required(ProtocolPort.parse(words[3]), text)
        decision = required(Decision(rawValue: words[4]), text)
        description = text
    }
}

/// The cluster every row starts from, and the checks.
enum Fidelity {
    /// Two namespaces, pods on two nodes: shop/web serves TCP/80 (`http`), TCP/8080 and UDP/53
    /// (`dns`); shop/client, other/client and other/web (TCP/80) serve nothing else.
    static let head = """
        apiVersion: keycard/v1
        kind: Scenario
        metadata: {name: fidelity}
        spec:
          lab: {nodes: 2}
          externals:
            - {name: outside, ip: 192.0.2.10, ports: [TCP/80]}
          resources:
            - {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {team: shop}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: other, labels: {team: other}}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: shop, labels: {app: web}}, spec: {containers: [{name: web, image: i, ports: [{containerPort: 80, name: http}, {containerPort: 8080}, {containerPort: 53, protocol: UDP, name: dns}]}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: shop, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: client, namespace: other, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
            - {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: other, labels: {app: web}}, spec: {containers: [{name: web, image: i, ports: [{containerPort: 80, name: http}]}]}}

        """

    static let file = "fidelity.yaml"

    static func text(_ row: FidelityRow) -> String {
        head + row.manifest.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }.joined(separator: "\n") + "\n"
    }

    static func check(_ row: FidelityRow) throws {
        let text = text(row)
        switch row.outcome {
        case .accepts(let cells):
            let timeline = try ScenarioLoader.parseTimeline(text, file: file)
            #expect(timeline.warnings.isEmpty, "\(row.id): unexpected warnings \(timeline.warnings)")
            try checkCells(cells, timeline, row)
        case .warns(let fragment, let cells):
            let timeline = try ScenarioLoader.parseTimeline(text, file: file)
            #expect(timeline.warnings.contains { $0.message.contains(fragment) }, "\(row.id): warnings \(timeline.warnings)")
            try checkCells(cells, timeline, row)
        case .refuses(let needle, let fragment):
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let headLines = head.split(separator: "\n", omittingEmptySubsequences: false).count - 1
            guard let index = lines.indices.dropFirst(headLines).first(where: { lines[$0].contains(needle) }),
                let range = lines[index].range(of: needle)
            else {
                Issue.record("\(row.id): test bug: \(needle) is not in the manifest")
                return
            }
            let column = lines[index].distance(from: lines[index].startIndex, to: range.lowerBound) + 1
            do {
                _ = try ScenarioLoader.parseTimeline(text, file: file)
                Issue.record("\(row.id): loaded; the API server refuses it (\(fragment))")
            } catch {
                #expect(error.location == SourceLocation(file: file, line: index + 1, column: column), "\(row.id): \(error)")
                #expect(error.message.contains(fragment), "\(row.id): \(error)")
            }
        }
    }

    /// Each cell in the model and in the compiled rules, pod and node placement.
    private static func checkCells(_ cells: [FidelityCell], _ timeline: Timeline, _ row: FidelityRow) throws {
        #expect(!cells.isEmpty || row.id.hasPrefix("SIZE"), "\(row.id): an accepted row states at least one verdict")
        let cluster = timeline.initial
        if let problem = row.state?(cluster) { Issue.record("\(row.id): \(problem)") }
        let engine = PolicyEngine(cluster)
        for placement in Placement.allCases {
            let tables = PolicyCompiler(labName: "fid", placement: placement)
                .compile(cluster, nodes: timeline.plan.nodes, nodeCount: timeline.scenario.lab.nodes)
            for cell in cells {
                #expect(cluster.pods[cell.from] != nil, "\(row.id): \(cell.from) does not exist")
                let model = engine.evaluate(from: .pod(cell.from), to: cell.to, port: cell.port).decision
                #expect(model == cell.decision, "\(row.id): model says \(model) for \(cell)")
                let rules = CompiledRulesMatchModelTests.interpreted(
                    tables, placement, cluster, timeline.plan.nodes, from: cell.from, to: cell.to, port: cell.port)
                #expect(rules == cell.decision, "\(row.id): \(placement) rules say \(rules) for \(cell)")
            }
        }
    }

    /// The row ids docs/kubernetes-fidelity.md names in its tables (`| NP-01 |`), or nil without the doc.
    static func documentedIDs() -> [String]? {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/kubernetes-fidelity.md")
        guard let text = try? String(contentsOf: doc, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("| "), let cell = line.split(separator: "|").first?.trimmingCharacters(in: .whitespaces),
                cell.range(of: #"^[A-Z]+-[0-9]+$"#, options: .regularExpression) != nil
            else { return nil }
            return cell
        }
    }
}
