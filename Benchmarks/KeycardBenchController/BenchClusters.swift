import KeycardModel
import KeycardValues

/// The clusters the benchmark compiles: one namespace `bench`, policies protecting one server pod.
enum BenchClusters {
    static let serverKey = ObjectKey("bench", "server")
    static let clientKey = ObjectKey("bench", "client")
    static let port = 8080

    /// Server 10.99.0.2 {app: server} and client 10.99.0.1 {app: client} in namespace `bench`, and
    /// `fillers` pods `peers/pI` {group: gN} (N = I % groups) at 10.98.x.y, none adjacent (so their
    /// ranges do not merge). The fillers live in their own namespace so that only two pods share
    /// the policies' namespace (pod placement compiles every policy of a namespace into each of its pods).
    static func cluster(fillers: Int, groups: Int) -> Cluster {
        var cluster = Cluster()
        cluster.namespaces["bench"] = Namespace(name: "bench")
        cluster.namespaces["peers"] = Namespace(name: "peers")
        func add(_ pod: Pod, _ address: UInt32) {
            cluster.pods[pod.key] = pod
            cluster.addresses[pod.key] = IPv4(address)
        }
        add(
            Pod(namespace: "bench", name: "server", labels: ["app": "server"], ports: [ContainerPort(name: "http", port: port)]),
            0x0A63_0002)
        add(Pod(namespace: "bench", name: "client", labels: ["app": "client"]), 0x0A63_0001)
        for index in 0..<fillers {
            add(Pod(namespace: "peers", name: "p\(index)", labels: ["group": "g\(index % groups)"]), 0x0A62_0000 + UInt32(index) * 2 + 1)
        }
        return cluster
    }

    /// `count - 1` policies on the server allowing TCP/8080 from a filler group each, and last (by
    /// key, so by rule order) `zz-allow-client`, the one that lets the client in.
    static func policies(_ count: Int, groups: Int, portSpread: Int = 1) -> [NetworkPolicy] {
        var policies = (0..<max(0, count - 1)).map { index in
            fillerPolicy(index, groups: groups, portSpread: portSpread)
        }
        policies.append(
            NetworkPolicy(
                namespace: "bench", name: "zz-allow-client", podSelector: LabelSelector(matchLabels: ["app": "server"]),
                ingress: [
                    .init(
                        peers: [.init(podSelector: LabelSelector(matchLabels: ["app": "client"]))],
                        ports: [.init(proto: .tcp, port: .number(port))])
                ]))
        return policies
    }

    static func fillerPolicy(_ index: Int, groups: Int, portSpread: Int, name: String? = nil) -> NetworkPolicy {
        NetworkPolicy(
            namespace: "bench", name: name ?? String(format: "p%05d", index), podSelector: LabelSelector(matchLabels: ["app": "server"]),
            ingress: [
                .init(
                    peers: [
                        .init(
                            podSelector: LabelSelector(matchLabels: ["group": "g\(index % groups)"]),
                            namespaceSelector: LabelSelector(matchLabels: [Namespace.nameLabel: "peers"]))
                    ],
                    ports: [.init(proto: .tcp, port: .number(port + index % portSpread))])
            ])
    }

    /// The pod of the fixed-size relabel: `peers/mover` {mover: m1} at 10.97.0.1, outside the
    /// fillers' groups, so only the `moverPolicies` see it.
    static let moverKey = ObjectKey("peers", "mover")

    static func withMover(_ cluster: Cluster) -> Cluster {
        var cluster = cluster
        cluster.pods[moverKey] = Pod(namespace: "peers", name: "mover", labels: ["mover": "m1"])
        cluster.addresses[moverKey] = IPv4(0x0A61_0001)
        return cluster
    }

    /// 10 policies admitting {mover: m1} on ports 9000-9009 and 10 admitting {mover: m2} on
    /// 9100-9109: moving the mover from m1 to m2 is the same change (10 tuples out, 10 in) whatever
    /// else is in place.
    static func moverPolicies() -> [NetworkPolicy] {
        [("m1", 9000), ("m2", 9100)].flatMap { group, firstPort in
            (0..<10).map { index in
                NetworkPolicy(
                    namespace: "bench", name: "mover-\(group)-\(index)", podSelector: LabelSelector(matchLabels: ["app": "server"]),
                    ingress: [
                        .init(
                            peers: [
                                .init(
                                    podSelector: LabelSelector(matchLabels: ["mover": group]),
                                    namespaceSelector: LabelSelector(matchLabels: [Namespace.nameLabel: "peers"]))
                            ],
                            ports: [.init(proto: .tcp, port: .number(firstPort + index))])
                    ])
            }
        }
    }

    static func with(_ cluster: Cluster, _ policies: [NetworkPolicy]) -> Cluster {
        var cluster = cluster
        for policy in policies { cluster.policies[policy.key] = policy }
        return cluster
    }
}
