import Foundation
import KeycardKernel
import KeycardMesh
import KeycardModel
import KeycardTestSupport
import KeycardValues
import NIOCore
import NIOPosix

/// The model of the proxy tests: `prod/client` (10.211.0.1) and `prod/api` (10.211.0.2), both
/// with sidecars; api serves TCP 8080 and HTTP 9080 (container port `http`); STRICT namespace-wide;
/// `prod/api-allow` lets `prod/sa/client` reach 8080 and anyone `GET /public` on 9080.
enum MeshFixtures {
    static let clientAddress: IPv4 = "10.211.0.1"
    static let apiAddress: IPv4 = "10.211.0.2"
    static let client = ObjectKey("prod", "client")
    static let api = ObjectKey("prod", "api")
    static let serviceIP: IPv4 = "10.96.0.10"

    static func cluster(mode: PeerAuthentication.Mode = .strict, portModes: [Int: PeerAuthentication.Mode] = [:]) -> Cluster {
        var cluster = Cluster()
        cluster.namespaces["prod"] = Namespace(name: "prod")
        cluster.pods[client] = Pod(namespace: "prod", name: "client", labels: ["app": "client"], serviceAccountName: "client")
        cluster.pods[api] = Pod(
            namespace: "prod", name: "api", labels: ["app": "api"],
            ports: [ContainerPort(name: "tcp", port: 8080), ContainerPort(name: "http", port: 9080)], serviceAccountName: "api")
        cluster.addresses[client] = clientAddress
        cluster.addresses[api] = apiAddress
        cluster.sidecars = [client, api]
        cluster.peerAuthentications[ObjectKey("prod", "default")] = PeerAuthentication(namespace: "prod", name: "default", mode: mode)
        if !portModes.isEmpty {
            cluster.peerAuthentications[ObjectKey("prod", "api-ports")] = PeerAuthentication(
                namespace: "prod", name: "api-ports", selector: WorkloadSelector(matchLabels: ["app": "api"]), portLevelMtls: portModes)
        }
        var fromClient = AuthorizationPolicy.Source()
        fromClient.principals = ["cluster.local/ns/prod/sa/client"]
        var tcpPort = AuthorizationPolicy.Operation()
        tcpPort.ports = [8080]
        var publicPath = AuthorizationPolicy.Operation()
        publicPath.methods = ["GET"]
        publicPath.paths = ["/public"]
        cluster.authorizationPolicies[ObjectKey("prod", "api-allow")] = AuthorizationPolicy(
            namespace: "prod", name: "api-allow", selector: WorkloadSelector(matchLabels: ["app": "api"]),
            rules: [
                AuthorizationPolicy.Rule(from: [fromClient], to: [tcpPort]),
                AuthorizationPolicy.Rule(to: [publicPath]),
            ])
        cluster.services[ObjectKey("prod", "api")] = Service(
            namespace: "prod", name: "api", selector: ["app": "api"], address: .ip(serviceIP),
            ports: [ServicePort(name: "tcp", port: 80, target: .number(8080))])
        return cluster
    }
}

/// Two namespaces (client, api) joined by a veth, a lab CA, a proxy, and the api's applications.
final class ProxyWorld: @unchecked Sendable {
    let world = MeshTestWorld()
    let clientNamespace: String
    let apiNamespace: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let ca: LabCA
    let flows = MeshFlowLog()
    let intents = MeshIntents()
    let proxy: MeshProxy
    private(set) var apps: [UInt16: TestApp] = [:]

    /// - Parameter originalPort: reach 15006 straight with this fixed original port; nil: the
    ///   kernel's SO_ORIGINAL_DST (the caller installs redirect rules).
    init(cluster: Cluster, originalPort: UInt16?, connectTimeout: TimeAmount = .seconds(1)) throws {
        ca = try LabCA(folder: world.stateFolder)
        let seam = originalPort.map { MeshProxy.fixedOriginalDestination(MeshFixtures.apiAddress, $0) }
        // Created before any namespace work: its event loops live in the host namespace.
        proxy = try MeshProxy(
            labName: world.tag, ca: ca, cluster: { cluster }, intents: intents, flows: flows, connectTimeout: connectTimeout,
            originalDestination: seam)
        clientNamespace = "kc-\(world.tag).prod.client"
        apiNamespace = "kc-\(world.tag).prod.api"
        do {
            _ = try world.namespace("prod.client")
            _ = try world.namespace("prod.api")
            try world.link(clientNamespace, MeshFixtures.clientAddress, apiNamespace, MeshFixtures.apiAddress)
            try proxy.attach(pod: MeshFixtures.api, namespace: apiNamespace, address: MeshFixtures.apiAddress)
        } catch {
            tearDown()
            throw error
        }
    }

    /// Attaches the client pod too (its outbound side).
    func attachClient() throws {
        try proxy.attach(pod: MeshFixtures.client, namespace: clientNamespace, address: MeshFixtures.clientAddress)
    }

    func serve(_ port: UInt16, _ kind: TestApp.Kind) throws {
        apps[port] = try TestApp(
            group: group, namespace: apiNamespace, address: MeshFixtures.apiAddress, port: port, kind: kind, line: "prod/api")
    }

    func app(_ port: UInt16) -> TestApp {
        guard let app = apps[port] else { preconditionFailure("no application on \(port)") }
        return app
    }

    /// The api's inbound record of a connection from the client's source port `port` (straight to 15006).
    func inboundRecord(ofClientPort port: UInt16, originalPort: UInt16) -> MeshFlowRecord? {
        flows.record(of: MeshFlow(MeshFixtures.clientAddress, port, MeshFixtures.apiAddress, originalPort))
    }

    func tearDown() {
        proxy.shutdown()
        for app in apps.values { app.stop() }
        try? group.syncShutdownGracefully()
        ca.remove()
        world.tearDown()
    }
}
