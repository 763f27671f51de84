import KeycardValues

/// A v1 Service, reduced to what the proxy, the policy model and the lab need.
///
/// Kubernetes: https://kubernetes.io/docs/reference/kubernetes-api/service-resources/service-v1/
/// and https://kubernetes.io/docs/concepts/services-networking/service/. Endpoints are the pods of
/// the Service's namespace its `selector` matches (`Cluster.backends`), recomputed whenever the
/// cluster changes, as the EndpointSlice controller does; every lab pod counts as ready.
public struct Service: Hashable, Sendable, NamespacedObject {
    /// `spec.type`. NodePort and LoadBalancer also get node ports (`ServicePort.nodePort`) and, for
    /// LoadBalancer, an ingress address (`NodePorts.swift`).
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case clusterIP = "ClusterIP"
        case nodePort = "NodePort"
        case loadBalancer = "LoadBalancer"
        case externalName = "ExternalName"
    }

    /// The virtual address: allocated or pinned, headless (`clusterIP: None`, no translation), or
    /// none at all (ExternalName, a DNS alias only).
    public enum Address: Hashable, Sendable {
        /// Not yet allocated: `ClusterChange` picks one from the lab's service CIDR.
        case unallocated
        case ip(IPv4)
        case headless
        case none
    }

    public var namespace: String
    public var name: String
    public var labels: Labels
    public var kind: Kind
    /// nil: no selector (endpoints would be managed by hand; keycard gives such a Service none,
    /// unless it had a selector before: `retainedEndpoints`).
    public var selector: Labels?
    /// The endpoints the EndpointSlice controller last wrote for this Service, kept when an update
    /// removed its selector; nil otherwise. The controller's `syncService`
    /// (pkg/controller/endpointslice/endpointslice_controller.go) returns early for a Service
    /// without a selector ("these services will receive endpoint slices that are created
    /// out-of-band"), so it neither updates nor deletes the slices it made; the Endpoints
    /// controller leaves its Endpoints the same way, and the mirroring controller copies them into
    /// one more slice of the same addresses. kube-proxy and CoreDNS read slices, not selectors: the
    /// Service keeps sending to the pods selected when its selector went away
    /// (kubernetes/kubernetes#118376, open; #120775, which would delete them, was closed unmerged).
    /// Pods selected later are not added; a listed pod that is deleted is no backend here, where
    /// kube-proxy would still send to its stale address (a connection that fails). A selector
    /// written again hands the Service back to the controller (nil).
    public var retainedEndpoints: [ObjectKey: RetainedEndpoint]?
    public var address: Address
    public var ports: [ServicePort]
    /// `spec.externalName` of an ExternalName Service.
    public var externalName: String?
    /// When it was created, in change batches (`Cluster.generation`); an update keeps it. Istio's
    /// protocol selection lets the oldest Service decide when two disagree (spec mesh.md R37).
    public var createdAt = 0
    /// `spec.externalTrafficPolicy`: nil unless NodePort or LoadBalancer (defaulted to Cluster).
    public var externalTrafficPolicy: ExternalTrafficPolicy?
    /// `spec.internalTrafficPolicy`: which endpoints cluster-internal clients reach through the
    /// ClusterIP (`ClusterIPPath`); nil is Cluster (the API server defaults it to Cluster for every
    /// type but ExternalName).
    public var internalTrafficPolicy: InternalTrafficPolicy?
    /// `trafficDistribution: PreferSameNode`: kube-proxy sends a client's ClusterIP traffic, and a
    /// node's node-port traffic under Cluster, to the endpoints on that node when there are any
    /// (`ClusterIPPath`, `NodePortPath`).
    public var prefersSameNode = false
    /// `spec.healthCheckNodePort`: LoadBalancer with the Local policy only (pinned or allocated).
    public var healthCheckNodePort: Int?
    /// `spec.allocateLoadBalancerNodePorts`: LoadBalancer only, defaulted to true.
    public var allocateLoadBalancerNodePorts: Bool?
    /// `status.loadBalancer.ingress[0].ip`: a LoadBalancer's address from `spec.lab.loadBalancerCIDR`,
    /// nil while pending (no such CIDR, or the range is full).
    public var loadBalancerIngress: IPv4?
    /// `spec.loadBalancerClass` (LoadBalancer only), as written: the load-balancer implementation
    /// meant (the lab's router serves every class); an update may not change it
    /// (`validateLoadBalancerClassField`).
    public var loadBalancerClass: String?
    /// `spec.loadBalancerSourceRanges` (LoadBalancer only), as written, or, the field empty, those
    /// of the `service.beta.kubernetes.io/load-balancer-source-ranges` annotation.
    public var loadBalancerSourceRanges: [CIDR] = []
    /// True when `loadBalancerSourceRanges` come from the annotation: the cloud load balancer (the
    /// lab's router) honours them, the nodes do not (kube-proxy and Cilium read only the field).
    public var sourceRangesFromAnnotation = false
    /// `spec.publishNotReadyAddresses`: its endpoints count as ready whatever their pods' `Ready`
    /// condition (`podToEndpoint`, k8s.io/endpointslice), so a `Pod.notReady` pod stays one.
    public var publishNotReadyAddresses = false

    /// The ranges that guard the (IPv4) load-balancer address: when not empty, it admits only
    /// clients inside one of them (kube-proxy's firewall chain, a cloud load balancer's firewall).
    /// kube-proxy keeps the ranges of the Service's family (`MapCIDRsByIPFamily`) and builds no
    /// firewall when none is left, so IPv6 ranges alone guard nothing here.
    public var ipv4SourceRanges: [CIDR] { loadBalancerSourceRanges.filter { $0.family == .ipv4 } }

    /// Whether the cluster's kube-proxy serves it: its informers take only Services without the
    /// label `service.kubernetes.io/service-proxy-name` (another proxy's Service) and without
    /// `service.kubernetes.io/headless` (cmd/kube-proxy/app/server.go, `noProxyName`,
    /// `noHeadlessEndpoints`; e2e "should implement service.kubernetes.io/service-proxy-name" and
    /// "…/headless"). Its ClusterIP, node ports and load-balancer address then lead nowhere; DNS
    /// still answers for it.
    public var isProxied: Bool {
        labels["service.kubernetes.io/service-proxy-name"] == nil && labels["service.kubernetes.io/headless"] == nil
    }

    public init(
        namespace: String, name: String, labels: Labels = [:], kind: Kind = .clusterIP, selector: Labels? = nil,
        address: Address = .unallocated, ports: [ServicePort] = [], externalName: String? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.kind = kind
        self.selector = selector
        self.address = address
        self.ports = ports
        self.externalName = externalName
    }

    /// The ClusterIP when the Service has one (not headless, not ExternalName).
    public var clusterIP: IPv4? { if case .ip(let ip) = address { ip } else { nil } }

    /// The port `text` names: a port name, or a number (`80`) matching one port (any protocol when
    /// `proto` is nil).
    public func port(named text: String, proto: TransportProtocol? = nil) -> ServicePort? {
        if let number = Int(text) {
            return ports.first { $0.port == number && (proto == nil || $0.proto == proto) }
        }
        return ports.first { $0.name == text }
    }
}

/// One endpoint of a Service's retained EndpointSlices (`Service.retainedEndpoints`), as the
/// controller wrote it (`podToEndpoint`, k8s.io/endpointslice; `getEndpointPorts`).
public struct RetainedEndpoint: Hashable, Sendable {
    /// The endpoint's `ready` condition then: the pod was ready and not terminating, or the
    /// Service published not-ready addresses.
    public var ready: Bool
    /// Its `serving` and `terminating` conditions both held then: a pod still Ready while it shuts
    /// down, which kube-proxy sends to when no endpoint of the port is ready.
    public var servingTerminating = false
    /// The port each slice port names for it, by the Service port's name and protocol (kube-proxy
    /// matches a slice port to a Service port so, `ServicePortName`); a named `targetPort` the pod
    /// did not declare has none.
    public var targets: [PortKey: Int]

    /// A Service port as kube-proxy keys it: name ("" when unnamed) and protocol.
    public struct PortKey: Hashable, Sendable {
        public var name: String
        public var proto: TransportProtocol
        public init(_ port: ServicePort) { (name, proto) = (port.name ?? "", port.proto) }
    }

    public init(ready: Bool, servingTerminating: Bool = false, targets: [PortKey: Int]) {
        (self.ready, self.servingTerminating, self.targets) = (ready, servingTerminating, targets)
    }
}

extension Service {
    /// The endpoints the EndpointSlice controller writes for this Service in `cluster` now, as
    /// `retainedEndpoints` keeps them; nil when it writes none (no selector, ExternalName).
    public func controllerEndpoints(in cluster: Cluster) -> [ObjectKey: RetainedEndpoint]? {
        if let retainedEndpoints { return retainedEndpoints }
        guard kind != .externalName, selector?.isEmpty == false else { return nil }
        var endpoints: [ObjectKey: RetainedEndpoint] = [:]
        for pod in cluster.pods.values where Cluster.selects(self, pod) {
            var targets: [RetainedEndpoint.PortKey: Int] = [:]
            for port in ports { targets[RetainedEndpoint.PortKey(port)] = port.targetPort(on: pod) }
            endpoints[pod.key] = RetainedEndpoint(
                ready: Cluster.isReady(pod, publishing: publishNotReadyAddresses),
                servingTerminating: Cluster.isServingTerminating(pod, publishing: publishNotReadyAddresses), targets: targets)
        }
        return endpoints
    }

    /// The port `port` of this Service sends to on `pod`: from the retained slices when it has
    /// them, else resolved on the pod (`ServicePort.targetPort(on:)`).
    public func target(_ port: ServicePort, on pod: Pod) -> Int? {
        if let retainedEndpoints { return retainedEndpoints[pod.key]?.targets[RetainedEndpoint.PortKey(port)] }
        return port.targetPort(on: pod)
    }
}

/// One entry of `spec.ports`.
public struct ServicePort: Hashable, Sendable {
    /// `targetPort`: a number, or a container port name resolved on each backend pod.
    public enum Target: Hashable, Sendable, CustomStringConvertible {
        case number(Int)
        case name(String)

        public var description: String {
            switch self {
            case .number(let number): "\(number)"
            case .name(let name): name
            }
        }
    }

    /// Required (and unique) when a Service has more than one port.
    public var name: String?
    public var proto: TransportProtocol
    public var port: Int
    public var target: Target
    /// `appProtocol`: the application protocol (a qualified name, e.g. `http` or
    /// `kubernetes.io/h2c`); Istio reads it before the port name (spec mesh.md R37).
    public var appProtocol: String?
    /// `nodePort`: the port every node forwards to this Service port (NodePort and LoadBalancer),
    /// pinned or allocated from `NodePorts.range`; nil otherwise.
    public var nodePort: Int?

    public init(
        name: String? = nil, proto: TransportProtocol = .tcp, port: Int, target: Target? = nil, appProtocol: String? = nil,
        nodePort: Int? = nil
    ) {
        self.nodePort = nodePort
        self.name = name
        self.proto = proto
        self.port = port
        self.target = target ?? .number(port)
        self.appProtocol = appProtocol
    }

    /// The Service's own `proto/port`.
    public var protocolPort: ProtocolPort { ProtocolPort(proto, port) }

    /// The port this Service port sends to on `pod`, or nil when a named target is not declared by
    /// the pod (the EndpointSlice controller leaves such a pod out of this port's endpoints).
    public func targetPort(on pod: Pod) -> Int? {
        switch target {
        case .number(let number): number
        case .name(let name): pod.resolve(portName: name, proto: proto).first
        }
    }
}

/// One endpoint of one Service port: the backend pod and the port the connection reaches there.
public struct ServiceBackend: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var pod: ObjectKey
    public var address: IPv4
    public var target: ProtocolPort

    public var description: String { "\(pod) \(target)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.pod, lhs.target) < (rhs.pod, rhs.target) }

    /// What kube-proxy keys an endpoint by: its address and target port (`IP:port`).
    public struct Address: Hashable, Sendable {
        public var ip: IPv4
        public var target: ProtocolPort
    }

    public var endpointAddress: Address { Address(ip: address, target: target) }

    /// Whether both are the same `IP:port` (two host-network pods of one node).
    public func sameEndpoint(as other: ServiceBackend) -> Bool { endpointAddress == other.endpointAddress }
}

extension Cluster {
    /// The pods `service` selects: same namespace, selector matches; none without a selector or
    /// for an ExternalName Service. Sorted by key (the proxy's endpoint order).
    public func backendPods(of service: Service) -> [Pod] {
        guard service.kind != .externalName, service.selector?.isEmpty == false || service.retainedEndpoints != nil else { return [] }
        return pods.values.filter { Self.isReadyEndpoint($0, of: service) }.sorted { $0.key < $1.key }
    }

    /// Whether `pod` is a ready endpoint of `service`: selected (`selects`), and ready and not
    /// terminating, or published anyway (`publishNotReadyAddresses`). The EndpointSlice controller
    /// marks a pod whose `Ready` condition is not True, or whose `deletionTimestamp` is set, not
    /// ready (`podToEndpoint`); kube-proxy sends to ready endpoints (pkg/proxy
    /// `CategorizeEndpoints`; to a terminating one only when none is ready:
    /// `isServingTerminatingEndpoint`) and CoreDNS answers only them.
    public static func isReadyEndpoint(_ pod: Pod, of service: Service) -> Bool {
        if let retained = service.retainedEndpoints {
            return selects(service, pod) && retained[pod.key]?.ready == true
        }
        return selects(service, pod) && isReady(pod, publishing: service.publishNotReadyAddresses)
    }

    /// Whether `pod` is a serving, terminating, not ready endpoint of `service`: selected, Ready,
    /// with its `deletionTimestamp` set, its Service not publishing not-ready addresses (which
    /// makes it ready). kube-proxy sends a Service port's connections to such endpoints only when
    /// the port has no ready one (`CategorizeEndpoints`, KEP-1669 "Proxy Terminating Endpoints");
    /// CoreDNS never answers them.
    public static func isServingTerminatingEndpoint(_ pod: Pod, of service: Service) -> Bool {
        if let retained = service.retainedEndpoints {
            return selects(service, pod) && retained[pod.key]?.servingTerminating == true
        }
        return selects(service, pod) && isServingTerminating(pod, publishing: service.publishNotReadyAddresses)
    }

    /// The `ready` condition the EndpointSlice controller writes for `pod` (`podToEndpoint`).
    static func isReady(_ pod: Pod, publishing notReady: Bool) -> Bool { notReady || (!pod.notReady && !pod.terminating) }

    /// Whether `pod`'s endpoint is serving and terminating but not ready (`podToEndpoint`).
    static func isServingTerminating(_ pod: Pod, publishing notReady: Bool) -> Bool { !notReady && !pod.notReady && pod.terminating }

    /// Whether `service`'s selector picks `pod`: same namespace, every selector label matched; an
    /// ExternalName Service or one without a (non-empty) selector picks none.
    public static func selects(_ service: Service, _ pod: Pod) -> Bool {
        // A Service whose selector was removed keeps the slices written before (`retainedEndpoints`).
        if service.kind != .externalName, let retained = service.retainedEndpoints {
            return pod.namespace == service.namespace && retained[pod.key] != nil
        }
        guard service.kind != .externalName, let selector = service.selector, !selector.isEmpty else { return false }
        return pod.namespace == service.namespace && selector.allSatisfy { pod.labels[$0.key] == $0.value }
    }

    /// The endpoint `pod` is of `port` of `service`, the one `backends(of:port:)` lists for it, or
    /// nil when it is none: found without listing the others, so per-cell lookups stay linear in
    /// the cells (listing every backend per cell made a 100-replica Service's probe cubic).
    public func backend(_ pod: ObjectKey?, of service: Service, port: ServicePort) -> ServiceBackend? {
        guard service.isProxied, let pod, let found = pods[pod] else { return nil }
        // A terminating endpoint is one only while the port has no ready endpoint.
        if Self.isServingTerminatingEndpoint(found, of: service) { return backends(of: service, port: port).first { $0.pod == pod } }
        guard Self.isReadyEndpoint(found, of: service), let address = addresses[pod], let target = service.target(port, on: found)
        else { return nil }
        let backend = ServiceBackend(pod: pod, address: address, target: ProtocolPort(port.proto, target))
        // Only host-network pods share an address: an earlier one at the same address and port is the endpoint.
        if found.hostNetwork, backends(of: service, port: port).contains(where: { $0.pod < pod && $0.sameEndpoint(as: backend) }) {
            return nil
        }
        return backend
    }

    /// The endpoints of one Service port, in pod order: each selected pod with an address whose
    /// target port resolves, once per address and target port; none for a Service kube-proxy does
    /// not serve (`isProxied`). Host-network pods on one node
    /// share its address: kube-proxy keeps one endpoint of each `IP:port` (pkg/proxy
    /// endpointslicecache.go, `addEndpoints`: "deduplicating potential overlapping endpoints"),
    /// here the first pod's. The ready endpoints; when the port has none, the serving terminating
    /// ones (`isServingTerminatingEndpoint`; kube-proxy `CategorizeEndpoints`, KEP-1669).
    public func backends(of service: Service, port: ServicePort) -> [ServiceBackend] {
        guard service.isProxied else { return [] }
        func endpoints(_ pods: [Pod]) -> [ServiceBackend] {
            var seen: Set<ServiceBackend.Address> = []
            return pods.compactMap { pod in
                guard let address = addresses[pod.key], let target = service.target(port, on: pod) else { return nil }
                let backend = ServiceBackend(pod: pod.key, address: address, target: ProtocolPort(port.proto, target))
                return seen.insert(backend.endpointAddress).inserted ? backend : nil
            }
        }
        let ready = endpoints(backendPods(of: service))
        guard ready.isEmpty, service.kind != .externalName, service.selector?.isEmpty == false || service.retainedEndpoints != nil else {
            return ready
        }
        return endpoints(pods.values.filter { Self.isServingTerminatingEndpoint($0, of: service) }.sorted { $0.key < $1.key })
    }

    /// Services sorted by key.
    public var sortedServices: [Service] { services.values.sorted { $0.key < $1.key } }

    /// The Service whose ClusterIP is `ip`, if any.
    public func service(at ip: IPv4) -> Service? { services.values.first { $0.clusterIP == ip } }

    /// Every (protocol, port) a pod must serve: its container ports and every target port a
    /// Service sends it, declared or not (applications listen without declaring). The lab serves
    /// exactly these (its port servers: container ports and `serviceTargetPorts` at every step).
    public func servedPortsIncludingServices(of key: ObjectKey) -> [ProtocolPort] {
        let declared = (pods[key]?.ports ?? []).map { ProtocolPort($0.proto, $0.port) }
        return Set(declared).union(serviceTargetPorts(of: key)[key] ?? []).sorted()
    }

    /// The target port every Service port sends each of its backends (`backends(of:port:)`: a
    /// numeric `targetPort`, or a name resolved on the pod), by pod; with `pod`, that pod's only.
    public func serviceTargetPorts(of pod: ObjectKey? = nil) -> [ObjectKey: Set<ProtocolPort>] {
        var targets: [ObjectKey: Set<ProtocolPort>] = [:]
        for service in services.values {
            for port in service.ports {
                for backend in backends(of: service, port: port) where pod == nil || backend.pod == pod {
                    targets[backend.pod, default: []].insert(backend.target)
                }
            }
        }
        return targets
    }
}
