import KeycardValues

/// Which TCP ports the destination proxy treats as HTTP (spec mesh.md R37), and where a connection
/// lands for the mesh when it is addressed to a Service.
///
/// Istio's explicit protocol selection reads Service ports
/// (https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/;
/// `istio/istio` `pkg/config/kube/conversion.go` `ConvertProtocol`): `appProtocol`, when set,
/// decides alone; else the port name `<protocol>[-<suffix>]`, case-insensitive.
extension ServicePort {
    /// The protocol names R37 counts as HTTP: `http`, `http2`, `grpc`, `grpc-web`, and
    /// `http_proxy`, which `protocol.Parse` reads as HTTP_PROXY and `IsHTTP` counts (istio/istio
    /// `pkg/config/protocol/instance.go`).
    static let httpProtocols: Set<String> = ["http", "http2", "grpc", "grpc-web", "http_proxy"]

    /// Whether Istio treats this Service port as HTTP (R37). UDP and SCTP never are (R56).
    /// `appProtocol` alone decides when set (Kubernetes' `kubernetes.io/h2c` is HTTP/2 and
    /// `kubernetes.io/ws` WebSocket over HTTP, as `ConvertProtocol` maps them); otherwise the port
    /// name's prefix before the first `-` (`grpc-web` checked whole first). An unnamed port is TCP.
    public var isHTTP: Bool {
        guard proto == .tcp else { return false }
        let declared: String
        if let appProtocol {
            if appProtocol == "kubernetes.io/h2c" || appProtocol == "kubernetes.io/ws" { return true }
            declared = appProtocol
        } else if let name {
            declared = name
        } else {
            return false
        }
        let lowered = declared.lowercased()
        if lowered.hasPrefix("grpc-web") { return true }
        let prefix = lowered.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? lowered
        return Self.httpProtocols.contains(prefix)
    }
}

extension Service {
    /// Whether this Service sends traffic to `pod`: same namespace, a non-empty selector the pod's
    /// labels satisfy, not ExternalName (as `Cluster.backendPods`).
    public func selects(_ pod: Pod) -> Bool {
        guard kind != .externalName, pod.namespace == namespace, let selector, !selector.isEmpty else { return false }
        return selector.allSatisfy { pod.labels[$0.key] == $0.value }
    }
}

extension Cluster {
    /// The Service port that decides the protocol of `pod`'s TCP port `port` (R37): among the
    /// Services selecting the pod with a TCP port whose target is `port` there, the oldest Service
    /// (`createdAt`, then name, then namespace, as Istio's `configCompareByCreationTime`; one step
    /// counts as one second, as for PeerAuthentication in R9), and its first such port. nil when no
    /// Service targets the port.
    public func protocolService(of pod: Pod, port: Int) -> (service: Service, port: ServicePort)? {
        var found: (service: Service, port: ServicePort)?
        for service in services.values where service.selects(pod) {
            guard let servicePort = service.ports.first(where: { $0.proto == .tcp && $0.targetPort(on: pod) == port }) else { continue }
            if let current = found?.service,
                (current.createdAt, current.name, current.namespace) <= (service.createdAt, service.name, service.namespace)
            {
                continue
            }
            found = (service, servicePort)
        }
        return found
    }

    /// R37 as keycard applies it: a pod's TCP port is HTTP when the Service port that decides it
    /// (`protocolService`) is HTTP; a port no Service targets is HTTP when the container port itself
    /// is named `http`/`http-<suffix>` (keycard's documented stand-in for Istio's sniffing).
    public func isHTTPPort(pod key: ObjectKey, port: Int) -> Bool {
        guard let pod = pods[key] else { return false }
        if let decided = protocolService(of: pod, port: port) { return decided.port.isHTTP }
        return pod.isHTTPPort(port)
    }

    /// Where a connection to `destination` on `port` reaches a proxy: a pod on that port; a Service
    /// cell (`svc/ns/name` through one backend) on the backend pod and its target port, since the
    /// mesh, like NetworkPolicy, sees the translated connection (R10 and R34 speak of workload
    /// ports). nil for externals, plain addresses and a Service port without a backend.
    public func meshTarget(of destination: Endpoint, port: ProtocolPort) -> (pod: ObjectKey, port: ProtocolPort)? {
        switch destination {
        case .pod(let key): return (key, port)
        case .service(let key, let backend?):
            guard let service = services[key], let servicePort = service.ports.first(where: { $0.protocolPort == port }),
                let pod = pods[backend], let target = servicePort.targetPort(on: pod)
            else { return nil }
            return (backend, ProtocolPort(servicePort.proto, target))
        case .exposed(let key, let entry, let backend?):
            // Through a node port or the load balancer: the backend's proxy captures the
            // translated connection like any other inbound one (`Cluster.exposedPath`).
            guard let path = exposedPath(key, entry, backend: backend, port: port) else { return nil }
            return (path.backend.pod, ProtocolPort(path.servicePort.proto, path.backend.target.port))
        case .service, .external, .node, .address, .exposed: return nil
        }
    }
}

extension Cluster {
    /// Why an HTTP request cannot be sent to `targets` (probe cells, as `Timeline.aimed` gives
    /// them) on `port`, or nil when every target's port is HTTP (spec mesh.md 2.4: `http` only
    /// towards ports R37 declares HTTP; Istio would sniff, keycard does not guess).
    public func httpProblem(_ targets: [Endpoint], port: ProtocolPort) -> String? {
        guard port.proto == .tcp else { return "\(port) is not TCP" }
        let rule =
            "R37: a Service port named http, http-<suffix>, http2, grpc or grpc-web or with such an appProtocol; "
            + "with no Service, a container port named http or http-<suffix>"
        for target in targets {
            switch target {
            case .pod(let key):
                if !isHTTPPort(pod: key, port: port.port) {
                    return "\(port) of \(key) is not an HTTP port (\(rule)); Istio would sniff, keycard does not guess"
                }
            case .service(let key, let backend?):
                guard let reached = meshTarget(of: target, port: port) else { return "Service \(key) has no port \(port) for \(backend)" }
                if !isHTTPPort(pod: reached.pod, port: reached.port.port) {
                    return
                        "\(port) of Service \(key) reaches \(reached.pod) on \(reached.port), which is not an HTTP port (\(rule)); Istio would sniff, keycard does not guess"
                }
            case .service(let key, nil):
                // No backend: the connection goes nowhere; the Service port's own declaration decides.
                if !(services[key]?.ports.first { $0.protocolPort == port }?.isHTTP ?? false) {
                    return "\(port) of Service \(key) is not an HTTP port (\(rule))"
                }
            case .external, .node, .address, .exposed:
                return "\(target) is not a pod with HTTP ports"
            }
        }
        return nil
    }

    /// The TCP ports of `destination` that are HTTP (R37): for a pod, those it serves (declared or
    /// targeted by a Service); for a Service, its ports whose every backend port is HTTP (a port
    /// without backends: by its own declaration).
    public func httpPorts(of destination: Endpoint) -> [ProtocolPort] {
        switch destination {
        case .pod(let key):
            return servedPortsIncludingServices(of: key).filter { $0.proto == .tcp && isHTTPPort(pod: key, port: $0.port) }
        case .service(let key, _):
            guard let service = services[key] else { return [] }
            return service.ports.filter { servicePort in
                guard servicePort.proto == .tcp else { return false }
                let reached = backends(of: service, port: servicePort)
                if reached.isEmpty { return servicePort.isHTTP }
                return reached.allSatisfy { isHTTPPort(pod: $0.pod, port: $0.target.port) }
            }
            .map(\.protocolPort)
        case .external, .node, .address, .exposed:
            return []
        }
    }
}
