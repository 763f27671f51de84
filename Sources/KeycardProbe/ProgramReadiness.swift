import KeycardKernel
import KeycardTopology

/// Waits until the programs started in pods (`command:`) accept connections on their declared TCP
/// ports, so the first probe does not race their start-up.
public enum ProgramReadiness {
    static let patience: Duration = .seconds(10)

    /// Probes every declared TCP port of each pod with a `command:` from that pod's own namespace
    /// (handshake only, 200 ms per try, every 50 ms) until all accept or 10 seconds pass; then prints one
    /// warning naming the ports still closed through `progress` and returns. Throws what `Prober` throws
    /// (a namespace that cannot be entered).
    public static func await(_ plan: LabPlan, progress: (String) -> Void) throws {
        var requests: [ProbeRequest] = []
        for pod in plan.servingPods where !(pod.command ?? []).isEmpty {
            for port in pod.ports where port.proto == .tcp {
                // From the pod's own namespace to its own address: no policy is involved.
                requests.append(
                    ProbeRequest(
                        sourceNamespace: pod.netns, destination: pod.address,
                        proto: .tcp, port: port.port, handshakeOnly: true))
            }
        }
        guard !requests.isEmpty else { return }
        let clock = ContinuousClock()
        let deadline = clock.now + patience
        let prober = Prober()
        while true {
            let outcomes = try prober.probe(requests, timeout: .milliseconds(200), retries: 0)
            let waiting = zip(requests, outcomes).filter { if case .allow = $0.1.verdict { false } else { true } }.map(\.0)
            if waiting.isEmpty { return }
            if clock.now > deadline {
                progress(
                    "warning: not listening after \(patience): " + waiting.map { "\($0.destination):\($0.port)" }.joined(separator: ", "))
                return
            }
            requests = waiting
            Sleep.milliseconds(50)
        }
    }
}
