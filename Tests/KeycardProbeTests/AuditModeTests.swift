import Foundation
import KeycardCompiler
import KeycardModel
import KeycardProbe
import KeycardRuleset
import KeycardScenario
import KeycardTestSupport
import KeycardValues
import Testing

/// Audit mode (`spec.lab.mode: audit`, `keycard run --audit`): the compiled rules log would-be
/// drops to their own NFLOG group and accept them; a run enforces nothing and lists, per policy,
/// what enforcement would have denied.
@Suite("Audit mode")
struct AuditModeTests {
    @Test("the compiled default deny logs to the audit group and accepts; enforcing, it drops")
    func compiledRules() throws {
        let timeline = try FlowLogTests.lateralScan()
        let cluster = timeline.cluster(afterStep: timeline.scenario.steps.count)
        for placement in [Placement.pod, .node] {
            var compiler = PolicyCompiler(labName: "audit", placement: placement)
            let enforcing = compiler.compile(cluster, nodes: timeline.plan.nodes, nodeCount: 1)
            compiler.audit = true
            let auditing = compiler.compile(cluster, nodes: timeline.plan.nodes, nodeCount: 1)
            let rules = { (tables: [RulesetTarget: Table]) in tables.values.flatMap(\.chains).flatMap(\.rules) }
            let enforcingLogged = rules(enforcing).filter { $0.log != nil }
            let auditingLogged = rules(auditing).filter { $0.log != nil }
            #expect(!enforcingLogged.isEmpty && enforcingLogged.count == auditingLogged.count)
            #expect(enforcingLogged.allSatisfy { $0.verdict == .drop && $0.log?.group == PolicyCompiler.dropLogGroup })
            #expect(auditingLogged.allSatisfy { $0.verdict != .drop && $0.log?.group == PolicyCompiler.auditLogGroup })
            #expect(auditingLogged.allSatisfy { $0.log?.prefix.hasPrefix("kc audit ") == true })
        }
    }

    @Test("judged for audit: would-be denies must get through, and are listed per policy")
    func judgement() throws {
        let timeline = try FlowLogTests.lateralScan()
        let step = try #require(timeline.scenario.steps.first { $0.name == "legitimate flows after" })
        let cluster = timeline.cluster(afterStep: step.index)
        let cells = timeline.cells(ofProbeStep: step.index)
        // Packets as on a network without policies: everything served answers.
        let open = cells.map { cell in
            cell.result(observed: cluster.servedPorts(of: cell.to).contains(cell.port) ? .allow : .closed, attempts: 1)
        }
        let report = StepReport(step, passed: false, results: open.map(ResultRecord.probe))
        let judged = AuditEvaluation.judge(report, cluster: cluster)
        #expect(judged.passed)
        let audit = try #require(judged.audit)
        #expect(audit.contains { $0.policy == "monitoring/default-deny-all#egress" && $0.wouldDeny == 5 })
        #expect(
            audit.contains {
                $0.policy == "data/redis-from-api#ingress" && $0.cells.contains("monitoring/prometheus -> data/redis-0 TCP/6379")
            })
        // A would-be deny that the lab dropped means audit enforced something: the step fails.
        var dropped = open
        let index = try #require(dropped.firstIndex { $0.model == .deny })
        dropped[index].observed = .deny
        let failing = AuditEvaluation.judge(
            StepReport(step, passed: true, results: dropped.map(ResultRecord.probe)),
            cluster: cluster)
        #expect(!failing.passed)
    }
}

extension AuditModeTests {
    /// A `dns` step the policies would block (cluster-dns's "DNS is silently broken"): in audit
    /// mode the answer must come as without policies, and the query is listed under the policy.
    @Test("judged for audit: a DNS query the policies would block is listed per policy and must be answered")
    func dnsJudgement() throws {
        let timeline = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/cluster-dns.yaml"))
        let step = try #require(timeline.scenario.steps.first { $0.name == "DNS is silently broken" })
        guard case .dns(let dns) = step.action else {
            Issue.record("not a dns step")
            return
        }
        let cluster = timeline.cluster(afterStep: step.index)
        var result = ModelReport.dnsResult(dns, step: step, timeline: timeline)
        #expect(result.model == .blocked)
        result.observed = .addresses([IPv4("10.244.0.11")])
        let judged = AuditEvaluation.judge(StepReport(step, passed: false, results: [.dns(result)]), cluster: cluster)
        #expect(judged.passed)
        #expect(judged.audit?.contains { $0.policy == "shop/default-deny-all#egress" && $0.wouldDeny == 1 } == true)
        guard case .dns(let audited) = judged.results?.first else {
            Issue.record("no dns result")
            return
        }
        #expect(audited.audit == "would-deny" && audited.rule == "shop/default-deny-all#egress")
        // Blocked in the lab: audit mode enforced something, the step fails.
        result.observed = .blocked
        #expect(!AuditEvaluation.judge(StepReport(step, passed: true, results: [.dns(result)]), cluster: cluster).passed)
    }
}

/// A real audit run of lateral-scan's network part.
@Suite("Audit mode run", .serialized)
struct AuditModeKernelTests {
    @Test("in audit mode the lateral-scan policies enforce nothing; the scan is listed as would-be-denied per policy")
    func auditRun() throws {
        let timeline = try FlowLogTests.lateralScan()
        let lab = ScenarioLibrary.uniqueLabName()
        var options = ScenarioRun.Options(enforcement: .pod, labName: lab)
        options.audit = true
        let run = ScenarioRun(timeline: timeline, options: options)
        defer { run.tearDown() }
        let log = FlowLog(scenario: timeline.scenario.name, labName: lab, nodes: timeline.plan.nodes, audit: true)
        var lines: [HubbleFlowLine] = []
        run.stepFinished = { step in lines += log.flows(of: step, cluster: timeline.cluster(afterStep: step.index), time: Date()) }
        let report = try run.execute()
        #expect(report.passed, "\(ScenarioLibrary.failures(report).joined(separator: "\n"))")
        #expect(ScenarioLibrary.leftoverNamespaces(lab: lab).isEmpty)

        let scan = try #require(report.steps.first { $0.name == "scan after (zero trust)" })
        let results = (scan.results ?? []).compactMap { if case .scan(let result) = $0 { result } else { nil } }
        let wouldDeny = results.filter { $0.audit == "would-deny" }
        #expect(wouldDeny.count == 56)
        // Nothing enforced: every served port answered, as on the flat network.
        #expect(wouldDeny.filter { $0.observed == .open }.count == 7)
        #expect(wouldDeny.allSatisfy { $0.observed == .open || $0.observed == .closed })
        let perPolicy = try #require(scan.audit)
        #expect(perPolicy.first { $0.policy == "monitoring/default-deny-all#egress" }?.wouldDeny == 56)
        #expect(perPolicy.first { $0.policy == "monitoring/allow-dns#egress" }?.wouldDeny == 56)
        #expect(scan.summary?.contains("audit: enforcement would deny 56") == true)

        let scanFlows = lines.filter { FlowLogTests.facts($0)?.stepName == "scan after (zero trust)" }
        // The exporter's egress verdict per target; an isolated destination adds its own ingress verdict.
        let egress = scanFlows.filter { $0.flow.traffic_direction == "EGRESS" }
        #expect(egress.count == 56 && egress.allSatisfy { $0.flow.verdict == "AUDIT" && $0.flow.egress_denied_by?.count == 2 })
        #expect(
            scanFlows.allSatisfy {
                $0.flow.event_type.type == 5 && $0.flow.egress_denied_by == nil || $0.flow.traffic_direction == "EGRESS"
            })
        if HubbleReader.available {
            let read = try HubbleReader.read(try FlowLog.encode(lines))
            #expect(read.status == 0, "\(read.stderr)")
        }
    }
}

extension AuditModeTests {
    /// A ClusterNetworkPolicy's Deny isolates no pod by NetworkPolicy, so it has no
    /// `RuleAttribution`: audit mode counted nothing for it ("would deny nothing here") while the
    /// cell said would-deny (review finding 3). It is listed by its rule now.
    @Test("judged for audit: a cell a ClusterNetworkPolicy would deny is listed under that policy's rule")
    func clusterPolicyJudgement() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: audit-cnp}
            spec:
              lab: {mode: audit}
              resources:
                - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: {app: a}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                - {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: x, labels: {app: b}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
                - apiVersion: policy.networking.k8s.io/v1alpha2
                  kind: ClusterNetworkPolicy
                  metadata: {name: deny-b}
                  spec: {tier: Admin, priority: 1, subject: {pods: {podSelector: {matchLabels: {app: b}}}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}
              steps:
                - probe: {from: [x/a], to: [x/b], ports: [TCP/80]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "audit-cnp.yaml")
        let step = try #require(timeline.scenario.steps.first)
        let cluster = timeline.cluster(afterStep: step.index)
        let open = timeline.cells(ofProbeStep: step.index).map { $0.result(observed: .allow, attempts: 1) }
        let judged = AuditEvaluation.judge(StepReport(step, passed: false, results: open.map(ResultRecord.probe)), cluster: cluster)
        #expect(judged.passed)
        let audit = try #require(judged.audit)
        #expect(audit.map(\.policy) == ["ClusterNetworkPolicy/deny-b#ingress[0]"])
        #expect(audit.first?.wouldDeny == 1 && audit.first?.cells == ["x/a -> x/b TCP/80"])
        #expect(
            judged.summary?.contains("audit: enforcement would deny 1: ClusterNetworkPolicy/deny-b#ingress[0] 1") == true,
            "\(judged.summary ?? "")")
    }

    @Test("judged for audit: a drop no policy decides (a Service without endpoints) is no would-be deny and passes")
    func noPathIsNoWouldBeDeny() throws {
        let text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: audit-nopath}
            spec:
              lab: {mode: audit}
              resources:
                - {apiVersion: v1, kind: Pod, metadata: {name: client, labels: {app: client}}, spec: {containers: [{name: c, image: i}]}}
                - {apiVersion: v1, kind: Service, metadata: {name: empty}, spec: {selector: {app: nothing}, ports: [{port: 80}]}}
              steps:
                - probe: {from: [default/client], to: [svc/default/empty], ports: [TCP/80]}
            """
        let timeline = try ScenarioLoader.parseTimeline(text, file: "audit-nopath.yaml")
        let step = try #require(timeline.scenario.steps.first)
        let cells = timeline.cells(ofProbeStep: step.index)
        #expect(cells.count == 1 && cells.first?.verdict.decision == .deny)
        // The lab drops it, as any network would: nothing answers behind the ClusterIP.
        let dropped = cells.map { $0.result(observed: .deny, attempts: 1) }
        let judged = AuditEvaluation.judge(
            StepReport(step, passed: false, results: dropped.map(ResultRecord.probe)), cluster: timeline.cluster(afterStep: step.index))
        #expect(judged.passed)
        #expect(judged.audit?.isEmpty ?? true)
        guard case .probe(let cell) = judged.results?.first else { return #expect(Bool(false)) }
        #expect(cell.audit == nil)
    }
}
