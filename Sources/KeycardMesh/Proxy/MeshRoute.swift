import KeycardModel
import KeycardRuleset
import KeycardValues

/// Where the proxy sends one outbound connection and what it presents there: the model's client
/// logic (spec mesh.md R14, R15, R17, R18) applied to the connection's real attributes. Pure.
public struct MeshRoute: Hashable, Sendable {
    /// The destination pod, when the address is a pod's or the Service resolved to a backend.
    public var pod: ObjectKey?
    /// The Service whose ClusterIP the client dialled.
    public var service: ObjectKey?
    /// Where the proxy connects: the backend's address and target port, or the original destination.
    public var address: IPv4
    public var port: UInt16
    public var presented: PresentedIdentity
    /// The hop goes over HBONE (`Cluster.tunnels`): to the destination pod's port 15008, with the
    /// original port named in the tunnel's CONNECT request.
    public var tunnel = false

    /// The port the proxy connects to: 15008 for an HBONE hop, else `port`.
    public var hopPort: UInt16 { tunnel ? MeshDataPath.hbonePort : port }

    /// Resolves a connection from `source` (client source port `clientPort`) to `destination:port`.
    ///
    /// A Service ClusterIP is resolved as Envoy resolves a cluster: to one backend and its target
    /// port, picked with the same `jhash(th sport) mod N` (`ServiceHash`) the lab's Service DNAT
    /// uses on the client's source port, so the backend the prober aimed at (`ServiceAim`) is the
    /// one the proxy reaches. Under `internalTrafficPolicy: Local` only the endpoints on the source's
    /// node are candidates (`ClusterIPPath`; Istio honours it too, istio/istio#42551); a Service
    /// port without candidates keeps the original destination (which the node's proxy then drops).
    public static func resolve(
        _ cluster: Cluster, source: ObjectKey, clientPort: UInt16, destination: IPv4, port: UInt16, request: MeshRequest
    ) -> MeshRoute {
        var route = MeshRoute(pod: nil, service: nil, address: destination, port: port, presented: .plaintext)
        var request = request
        if let (service, servicePort) = serviceTarget(cluster, destination, port) {
            route.service = service.key
            request.route = .service
            let backends = ClusterIPPath.endpoints(cluster, service, servicePort, node: cluster.clientNode(of: .pod(source)))
            if !backends.isEmpty {
                let backend = backends[ServiceHash.endpointIndex(sourcePort: clientPort, count: backends.count)]
                route.pod = backend.pod
                route.address = backend.address
                route.port = UInt16(backend.target.port)
            }
        } else {
            route.pod = cluster.addresses.first { $0.value == destination }?.key
        }
        let engine = MeshEngine(cluster)
        let sourcePlane = cluster.dataPlane(of: source)
        guard let key = route.pod, let pod = cluster.pods[key], key != source else {
            // Outside the mesh, or the pod itself (R58): no certificate is asked for.
            route.presented = engine.presented(
                request.identity, source: source, sourcePlane: sourcePlane, terminates: false, route: request.route)
            return route
        }
        let plane = cluster.dataPlane(of: key)
        let terminates = cluster.terminatesMutualTLS(
            pod, port: Int(route.port), plane: plane, mode: cluster.mutualTLSMode(for: pod, port: Int(route.port), plane: plane).mode,
            sourcePlane: request.identity == .none ? .none : sourcePlane)
        route.presented = engine.presented(
            request.identity, source: source, sourcePlane: sourcePlane, terminates: terminates, route: request.route)
        route.tunnel = cluster.tunnels(from: source, sourcePlane: sourcePlane, to: key, destinationPlane: plane, presented: route.presented)
        return route
    }

    /// The ClusterIP Service and TCP port `destination:port` names, if any.
    static func serviceTarget(_ cluster: Cluster, _ destination: IPv4, _ port: UInt16) -> (Service, ServicePort)? {
        for service in cluster.services.values.sorted(by: { $0.key < $1.key }) where service.clusterIP == destination {
            if let servicePort = service.ports.first(where: { $0.proto == .tcp && $0.port == Int(port) }) {
                return (service, servicePort)
            }
        }
        return nil
    }
}
