import Foundation
import Glibc
import Testing

/// 200 pods and 10,000 probes in one `keycard run`: it must pass without running out of
/// descriptors or memory. Figures (wall time, peak RSS, peak open descriptors) are printed.
@Suite(.serialized, .enabled(if: Hardening.isRoot, "needs root: creates network namespaces"))
struct HardeningScaleTests {
    @Test func twoHundredPodsTenThousandProbes() throws {
        let lab = Hardening.labName("scale")
        var text = """
            apiVersion: keycard/v1
            kind: Scenario
            metadata: {name: \(lab)}
            spec:
              lab: {nodes: 4}
              resources:

            """
        for namespace in 0..<4 {
            text += "    - {apiVersion: v1, kind: Namespace, metadata: {name: ns\(namespace)}}\n"
        }
        // Half the namespaces only admit their own pods: about half of all probes are denied.
        for namespace in [1, 3] {
            text +=
                "    - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: own, namespace: ns\(namespace)}, "
                + "spec: {podSelector: {}, ingress: [{from: [{podSelector: {}}]}]}}\n"
        }
        var names: [String] = []
        for index in 0..<200 {
            names.append("ns\(index % 4)/p\(index)")
            text +=
                "    - {apiVersion: v1, kind: Pod, metadata: {name: p\(index), namespace: ns\(index % 4)}, "
                + "spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}\n"
        }
        // 50 sources x 200 destinations = 10,000 probes on TCP/80, checked against the model.
        text += "  steps:\n    - probe: {from: [\(names.prefix(50).joined(separator: ", "))], ports: [TCP/80]}\n"
        let file = try Hardening.writeScenario(text)
        let start = Date()
        let child = try Hardening.Child(["run", file], prefix: ["/usr/bin/time", "-v"])
        defer { _ = Hardening.down(lab) }
        // keycard is /usr/bin/time's child: sample its open descriptors while it runs.
        var peakDescriptors = 0
        var keycard: String?
        while child.isRunning {
            if keycard == nil {
                keycard = (try? String(contentsOfFile: "/proc/\(child.pid)/task/\(child.pid)/children", encoding: .utf8))?
                    .split(separator: " ").first.map(String.init)
            }
            if let keycard, let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(keycard)/fd") {
                peakDescriptors = max(peakDescriptors, fds.count)
            }
            usleep(20_000)
        }
        let status = child.wait()
        let wall = Date().timeIntervalSince(start)
        let stderr = child.stderr
        let peakKilobytes =
            stderr.split(separator: "\n").first { $0.contains("Maximum resident set size") }
            .flatMap { $0.split(separator: ":").last.map { Int($0.trimmingCharacters(in: .whitespaces)) } } ?? nil
        print(
            "scale: 200 pods, 10,000 probes: exit \(status), wall \(String(format: "%.1f", wall)) s, "
                + "peak RSS \(peakKilobytes.map { "\($0 / 1024) MiB" } ?? "?"), peak open descriptors \(peakDescriptors)")
        #expect(status == 0, "\(stderr.suffix(2000))")
        #expect(child.stdout.contains("10000 probes"), "\(child.stdout.prefix(2000))")
        #expect((peakKilobytes ?? Int.max) < 1_024 * 1_024, "peak RSS above 1 GiB")
        #expect(Hardening.traces(lab: lab, marker: nil).isEmpty)
    }
}
