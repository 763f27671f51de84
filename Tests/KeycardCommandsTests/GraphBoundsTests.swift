import Foundation
import Testing

@testable import KeycardCommands
@testable import KeycardScenario

/// `dot` needs minutes and gigabytes for a few hundred edges, and a probe step of a cluster that
/// denies most pairs draws one dashed edge per pair: the graph keycard hands `dot` is bounded,
/// `dot` runs under a time limit and ends with keycard, and a failure always says why.
/// In `ProcessSignalTests`: the Graphviz tests set the process-wide signal trap, and one test
/// signals the test process itself.
extension ProcessSignalTests {
    @Suite struct GraphBoundsTests {
        /// `pods` pods in one namespace under a default deny, every pair probed: pods·(pods-1) denied pairs.
        static func deniedCluster(pods: Int) throws -> Timeline {
            let items = (0..<pods).map {
                "    - {apiVersion: v1, kind: Pod, metadata: {name: p\($0), namespace: x, labels: {app: p\($0)}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}"
            }
            let text = """
                apiVersion: keycard/v1
                kind: Scenario
                metadata: {name: dense}
                spec:
                  resources:
                    - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
                \(items.joined(separator: "\n"))
                    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny, namespace: x}, spec: {podSelector: {}, policyTypes: [Ingress]}}
                  steps:
                    - probe: {ports: [TCP/80]}
                      expect: model

                """
            return try Timeline(ScenarioLoader.parse(text, file: "dense.yaml"))
        }

        @Test func pastTheLimitDeniedEdgesAreLeftOutWithANote() throws {
            let timeline = try Self.deniedCluster(pods: 20)
            let graph = ConnectivityGraph(timeline)
            #expect(graph.edges.count == 380 && graph.edges.allSatisfy { !$0.allowed })
            let bounded = GraphDotRenderer.render(graph, title: "dense")
            #expect(!bounded.contains("style=dashed"))
            #expect(bounded.contains("380 denied flows not drawn: the graph has more than 150 edges"))
            let small = GraphDotRenderer.render(ConnectivityGraph(try Self.deniedCluster(pods: 5)), title: "small")
            #expect(small.components(separatedBy: "style=dashed").count - 1 == 20)
            #expect(!small.contains("not drawn"))
        }

        @Test func pastThePageLimitTheGraphIsLeftOutOfThePageSayingHowToGetIt() throws {
            let timeline = try Self.deniedCluster(pods: 5)
            guard case .failure(let error) = RunCommand.pageGraph(timeline, pageLimit: 10) else {
                Issue.record("a graph of 20 edges over a limit of 10 was laid out")
                return
            }
            #expect("\(error)".contains("the graph has 20 edges, more than 10"))
            #expect("\(error)".contains("`keycard graph dense.yaml` prints it as DOT"))
        }

        @Test func dotIsStoppedAfterItsTimeLimit() {
            let start = ContinuousClock.now
            var pid: Int32 = 0
            do {
                _ = try Graphviz.run("/bin/sleep", ["30"], input: "", timeLimit: .milliseconds(200)) { pid = $0 }
                Issue.record("sleep 30 finished within 0.2 seconds")
            } catch {
                #expect("\(error)".contains("did not finish within 0.2 seconds and was stopped"), "\(error)")
            }
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(pid > 0 && kill(pid, 0) != 0, "the child \(pid) still runs")
        }

        @Test func aFailureWithoutErrorOutputSaysHowTheProgramEnded() {
            for (script, expected) in [("kill -KILL $$", "killed by signal 9"), ("exit 3", "exit status 3, no message")] {
                do {
                    _ = try Graphviz.run("/bin/sh", ["-c", script], input: "", timeLimit: .seconds(30))
                    Issue.record("\(script) succeeded")
                } catch {
                    #expect("\(error)".contains(expected), "\(error)")
                    #expect("\(error)" != "dot failed: ")
                }
            }
        }

        @Test func aSignalToKeycardEndsDotFirst() {
            var pid: Int32 = 0
            let raiser = Thread {
                usleep(300_000)
                kill(getpid(), SIGTERM)
            }
            do {
                _ = try Graphviz.run("/bin/sleep", ["30"], input: "", timeLimit: .seconds(30), rethrowing: true) { started in
                    pid = started
                    raiser.start()
                }
                Issue.record("the run ended without the signal")
            } catch {
                #expect("\(error)" == "interrupted by signal \(SIGTERM)")
            }
            #expect(pid > 0 && kill(pid, 0) != 0, "the child \(pid) still runs")
        }
    }
}
