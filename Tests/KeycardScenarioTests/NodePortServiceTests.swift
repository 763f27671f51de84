import KeycardModel
import KeycardTestSupport
import KeycardValues
import Testing

@testable import KeycardScenario

private typealias T = ScenarioText

/// NodePort and LoadBalancer Services (issue 18, parts 2 and 3): the API server's defaults and
/// validation, keycard's deterministic node-port and load-balancer allocation, the probe targets
/// `svc/NS/NAME@node-N` and `@lb`, and the model's answer for Cluster and Local.
@Suite("NodePort and LoadBalancer Services")
struct NodePortServiceTests {
    /// A Service item in prod selecting app=web; `spec` is the rest of its spec in flow style.
    static func service(_ name: String, _ spec: String) -> String {
        "- {apiVersion: v1, kind: Service, metadata: {name: \(name), namespace: prod}, spec: {selector: {app: web}, \(spec)}}"
    }

    /// The timeline of a scenario with `resources`, two nodes and `lab` extra lines.
    static func build(_ resources: String, steps: String? = nil, lab: String = "") throws -> Timeline {
        let head = T.head.replacingOccurrences(of: "spec:\n  resources:", with: "spec:\n  lab:\n    nodes: 2\n\(lab)  resources:")
        return try timeline(T.scenario(resources: resources, steps: steps, head: head))
    }

    /// The error building the timeline gives (applying resources happens there).
    static func failure(_ resources: String, lab: String = "", sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String {
        let head = T.head.replacingOccurrences(of: "spec:\n  resources:", with: "spec:\n  lab:\n    nodes: 2\n\(lab)  resources:")
        do {
            _ = try Timeline(ScenarioLoader.parse(T.scenario(resources: resources, head: head), file: "bad.yaml"))
            Issue.record("expected an error", sourceLocation: sourceLocation)
            return ""
        } catch {
            return error.description
        }
    }

    @Test func nodePortDefaultsAndDeterministicAllocation() throws {
        let t = try Self.build(
            [
                Self.service("a", "type: NodePort, ports: [{port: 80}]"),
                Self.service("b", "type: NodePort, ports: [{name: x, port: 81, nodePort: 30086}, {name: y, port: 82}]"),
                Self.service("c", "ports: [{port: 83}]"),
            ].joined(separator: "\n"))
        let a = try #require(t.initial.services[ObjectKey("prod", "a")])
        let b = try #require(t.initial.services[ObjectKey("prod", "b")])
        let c = try #require(t.initial.services[ObjectKey("prod", "c")])
        #expect(a.externalTrafficPolicy == .cluster)
        // Allocation starts above the static subrange (30000-30085, kept for pins: KEP-3668). a
        // comes first, but b pins 30086 in the same batch: a's allocation steps over it.
        #expect(a.ports.map(\.nodePort) == [30087])
        #expect(b.ports.map(\.nodePort) == [30086, 30088])
        #expect(c.externalTrafficPolicy == nil)
        #expect(c.ports.map(\.nodePort) == [nil])
        #expect(a.healthCheckNodePort == nil && a.allocateLoadBalancerNodePorts == nil)
    }

    /// KEP-3668 (ServiceNodePortStaticSubrange, GA in 1.29): automatic node ports come from above
    /// the first 86 ports of 30000-32767, so a Service applied later may pin one of those.
    @Test func aLaterServiceMayPinAPortOfTheStaticSubrange() throws {
        let t = try Self.build(
            Self.service("a", "type: NodePort, ports: [{port: 80}]"),
            steps: """
                - apply:
                    - {apiVersion: v1, kind: Service, metadata: {name: b, namespace: prod}, spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, nodePort: 30000}]}}
                """)
        #expect(t.initial.services[ObjectKey("prod", "a")]?.ports.map(\.nodePort) == [30086])
        #expect(t.cluster(afterStep: 1).services[ObjectKey("prod", "b")]?.ports.map(\.nodePort) == [30000])
        #expect(NodePorts.staticOffset == 86)
        // The upper part full, the lower part is used.
        #expect(NodePorts.allocate(taken: Set(30086...32767)) == 30000)
        #expect(NodePorts.allocate(taken: Set(30000...32767)) == nil)
    }

    /// `dropTypeDependentFields` (pkg/registry/core/service/strategy.go): an update that changes
    /// the type alone keeps sending the fields the old type had (`kubectl apply` of the edited
    /// file); the API server drops them when unchanged, and refuses them when new or changed.
    @Test(
        arguments: [
            ("type: ClusterIP, ports: [{port: 80, nodePort: 30080}]", nil),
            ("type: ClusterIP, externalTrafficPolicy: Local, ports: [{port: 80}]", nil),
            (
                "type: ClusterIP, ports: [{port: 80, nodePort: 30081}]",
                "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
            ),
            ("type: ClusterIP, externalTrafficPolicy: Cluster, ports: [{port: 80}]", "may only be set for externally-accessible services"),
            (
                "type: NodePort, allocateLoadBalancerNodePorts: false, ports: [{port: 80, nodePort: 30080}]",
                "may only be used when `type` is 'LoadBalancer'"
            ),
            (
                "type: ExternalName, externalName: db.example.com, clusterIP: 10.96.1.1, clusterIPs: [10.96.1.1], ipFamilies: [IPv4], ipFamilyPolicy: SingleStack, externalTrafficPolicy: Local, ports: [{port: 80, nodePort: 30080}]",
                nil
            ),
            (
                "type: ExternalName, externalName: db.example.com, clusterIP: 10.96.1.9, ports: [{port: 80}]",
                "spec.clusterIP must be empty for an ExternalName Service"
            ),
        ] as [(String, String?)])
    func anUpdateDropsTheFieldsTheOldTypeHadUnchanged(_ spec: String, _ refusal: String?) throws {
        let old = Self.service("a", "type: NodePort, externalTrafficPolicy: Local, ports: [{port: 80, nodePort: 30080}]")
        let steps = "- apply:\n" + T.indent(Self.service("a", spec), 4)
        let head = T.head.replacingOccurrences(of: "spec:\n  resources:", with: "spec:\n  lab:\n    nodes: 2\n  resources:")
        do {
            let t = try Timeline(ScenarioLoader.parse(T.scenario(resources: old, steps: steps, head: head), file: "update.yaml"))
            #expect(refusal == nil, "accepted: \(spec)")
            let updated = try #require(t.cluster(afterStep: 1).services[ObjectKey("prod", "a")])
            if spec.hasPrefix("type: ClusterIP") {
                #expect(updated.ports.map(\.nodePort) == [nil] && updated.externalTrafficPolicy == nil)
            }
        } catch {
            let message = try #require(refusal, "refused: \(error)")
            #expect(String(describing: error).contains(message), "\(error)")
        }
        // A new Service with such a field is refused, as before.
        if let refusal, spec.contains("ClusterIP") {
            #expect(Self.failure(Self.service("b", spec)).contains(refusal))
        }
    }

    @Test func pinnedPortsAndTheLowestFreeOne() throws {
        let t = try Self.build(
            [
                Self.service("b", "type: NodePort, ports: [{name: x, port: 81, nodePort: 30000}, {name: y, port: 82}]"),
                Self.service("a", "type: NodePort, ports: [{port: 80}]"),
                Self.service(
                    "dns",
                    "type: NodePort, ports: [{name: u, port: 53, protocol: UDP, nodePort: 30053}, {name: t, port: 53, nodePort: 30053}]"
                ),
            ].joined(separator: "\n"))
        #expect(t.initial.services[ObjectKey("prod", "b")]?.ports.map(\.nodePort) == [30000, 30086])
        #expect(t.initial.services[ObjectKey("prod", "a")]?.ports.map(\.nodePort) == [30087])
        // One number for two protocols of one Service, as the API server allows.
        #expect(t.initial.services[ObjectKey("prod", "dns")]?.ports.map(\.nodePort) == [30053, 30053])
    }

    /// The registry's `initNodePorts` (alloc.go): a new Service's ports with one `port` number
    /// share a node port, the one pinned on any of them when there is one.
    @Test func portsWithOneNumberShareANodePortWhenCreated() throws {
        let t = try Self.build(
            [
                Self.service(
                    "dns", "type: NodePort, ports: [{name: u, port: 53, protocol: UDP}, {name: t, port: 53}, {name: w, port: 80}]"),
                Self.service("pinned", "type: NodePort, ports: [{name: u, port: 53, protocol: UDP, nodePort: 30053}, {name: t, port: 53}]"),
                Self.service("later", "type: NodePort, ports: [{name: a, port: 80}, {name: b, port: 80, protocol: UDP, nodePort: 30200}]"),
                Self.service(
                    "two",
                    "type: NodePort, ports: [{name: u, port: 53, protocol: UDP, nodePort: 30054}, {name: t, port: 53, nodePort: 30055}]"),
                Self.service("lb", "type: LoadBalancer, ports: [{name: u, port: 53, protocol: UDP}, {name: t, port: 53}]"),
            ].joined(separator: "\n"))
        #expect(t.initial.services[ObjectKey("prod", "dns")]?.ports.map(\.nodePort) == [30086, 30086, 30087])
        // Pinned on the first port of the number, or on a later one: the sibling gets it.
        #expect(t.initial.services[ObjectKey("prod", "pinned")]?.ports.map(\.nodePort) == [30053, 30053])
        #expect(t.initial.services[ObjectKey("prod", "later")]?.ports.map(\.nodePort) == [30200, 30200])
        // Two different pins of one number: both are allocated, as the registry allocates each.
        #expect(t.initial.services[ObjectKey("prod", "two")]?.ports.map(\.nodePort) == [30054, 30055])
        #expect(t.initial.services[ObjectKey("prod", "lb")]?.ports.map(\.nodePort) == [30088, 30088])
    }

    /// One node port pinned on two different `port` numbers (of two protocols, so validation's
    /// duplicate check passes) is refused by the allocator: the second `Allocate` finds it taken.
    @Test func oneNodePortPinnedOnTwoPortNumbersIsAlreadyAllocated() {
        let twice = Self.failure(
            Self.service(
                "a", "type: NodePort, ports: [{name: a, port: 80, nodePort: 30100}, {name: b, port: 90, protocol: UDP, nodePort: 30100}]"))
        #expect(twice.hasSuffix("Service prod/a: spec.ports[1].nodePort: Invalid value: 30100: provided port is already allocated"))
    }

    /// An update allocates each unpinned port afresh (`updateNodePorts` shares nothing): a TCP/53
    /// added to a Service that had UDP/53 gets a node port of its own.
    @Test func anUpdateDoesNotShareNodePorts() throws {
        let t = try Self.build(
            Self.service("dns", "type: NodePort, ports: [{name: u, port: 53, protocol: UDP}]"),
            steps: """
                - apply:
                    - {apiVersion: v1, kind: Service, metadata: {name: dns, namespace: prod}, spec: {type: NodePort, selector: {app: web}, ports: [{name: u, port: 53, protocol: UDP}, {name: t, port: 53}]}}
                """)
        #expect(t.initial.services[ObjectKey("prod", "dns")]?.ports.map(\.nodePort) == [30086])
        #expect(t.cluster(afterStep: 1).services[ObjectKey("prod", "dns")]?.ports.map(\.nodePort) == [30086, 30087])
    }

    /// The node ports of an applied Service (steps: one `apply` of `update`, a Service spec in prod).
    static func nodePortsAfterUpdate(_ initial: String, _ update: String) throws -> (before: Service?, after: Service?) {
        let t = try Self.build(
            Self.service("a", initial),
            steps: """
                - apply:
                    - {apiVersion: v1, kind: Service, metadata: {name: a, namespace: prod}, spec: {selector: {app: web}, \(update)}}
                """)
        let key = ObjectKey("prod", "a")
        return (t.initial.services[key], t.cluster(afterStep: 1).services[key])
    }

    @Test func reapplyingKeepsAllocatedPorts() throws {
        let t = try Self.build(
            Self.service("a", "type: NodePort, ports: [{name: main, port: 80}]") + "\n"
                + Self.service("b", "type: NodePort, ports: [{port: 80}]"),
            steps: """
                - apply:
                    - {apiVersion: v1, kind: Service, metadata: {name: a, namespace: prod}, spec: {type: NodePort, selector: {app: web}, ports: [{name: main, port: 80}, {name: extra, port: 90}]}}
                """)
        #expect(t.initial.services[ObjectKey("prod", "a")]?.ports.map(\.nodePort) == [30086])
        #expect(t.cluster(afterStep: 1).services[ObjectKey("prod", "a")]?.ports.map(\.nodePort) == [30086, 30088])
    }

    /// patchAllocatedValues (pkg/registry/core/service/storage) maps the old node ports by port
    /// name: a port keeps its node port when its name stays, whatever its number or protocol; a
    /// renamed port (an unnamed single port named when a second joins) gets a new one, and the
    /// number it had is not handed out again in the same update (released only when it is done).
    @Test(arguments: [
        (
            "type: NodePort, ports: [{name: http, port: 80}]",
            "type: NodePort, ports: [{name: admin, port: 9000}, {name: http, port: 8080}]", [30087, 30086]
        ),
        ("type: NodePort, ports: [{port: 80}]", "type: NodePort, ports: [{port: 8080, protocol: UDP}]", [30086]),
        ("type: NodePort, ports: [{name: http, port: 80}]", "type: NodePort, ports: [{name: http, port: 80, protocol: UDP}]", [30086]),
        (
            "type: NodePort, ports: [{port: 80}]", "type: NodePort, ports: [{name: http, port: 80}, {name: admin, port: 81}]",
            [30087, 30088]
        ),
        // The number pinned again on another port: the named port gets a new one.
        (
            "type: NodePort, ports: [{name: http, port: 80}]",
            "type: NodePort, ports: [{name: http, port: 80}, {name: b, port: 81, nodePort: 30086}]", [30087, 30086]
        ),
        // Kept on a LoadBalancer that stops allocating them (`allocateLoadBalancerNodePorts: false`).
        (
            "type: NodePort, ports: [{name: http, port: 80}]",
            "type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{name: http, port: 80}]", [30086]
        ),
    ])
    func anUpdateKeepsNodePortsByPortName(_ initial: String, _ update: String, _ expected: [Int]) throws {
        let (_, after) = try Self.nodePortsAfterUpdate(initial, update)
        #expect(after?.ports.map(\.nodePort) == expected)
    }

    /// The health-check node port a LoadBalancer with the Local policy holds is kept by an update
    /// (patchAllocatedValues) and never handed to a port allocated in the same update (one
    /// allocator: a number the Service holds is taken).
    @Test(arguments: [
        ("ports: [{name: a, port: 80}]", "ports: [{name: a, port: 80}, {name: b, port: 81}]", [30086, 30088], 30087),
        (
            "allocateLoadBalancerNodePorts: false, ports: [{name: a, port: 80}]",
            "allocateLoadBalancerNodePorts: true, ports: [{name: a, port: 80}]", [30087], 30086
        ),
    ])
    func anUpdateKeepsTheHealthCheckNodePort(_ initial: String, _ update: String, _ ports: [Int], _ healthCheck: Int) throws {
        let lb = "type: LoadBalancer, externalTrafficPolicy: Local, "
        let (before, after) = try Self.nodePortsAfterUpdate(lb + initial, lb + update)
        #expect(before?.healthCheckNodePort == healthCheck)
        #expect(after?.ports.map(\.nodePort) == ports)
        #expect(after?.healthCheckNodePort == healthCheck)
    }

    /// The error applying `update` over the Service `initial` gives (nil: accepted).
    static func updateProblem(_ initial: String, _ update: String) -> String? {
        let head = T.head.replacingOccurrences(of: "spec:\n  resources:", with: "spec:\n  lab:\n    nodes: 2\n  resources:")
        let steps = """
            - apply:
                - {apiVersion: v1, kind: Service, metadata: {name: a, namespace: prod}, spec: {selector: {app: web}, \(update)}}
            """
        do {
            _ = try Timeline(
                ScenarioLoader.parse(T.scenario(resources: Self.service("a", initial), steps: steps, head: head), file: "bad.yaml"))
            return nil
        } catch {
            return error.description
        }
    }

    /// ValidateServiceUpdate's rules for a LoadBalancer (pkg/apis/core/validation):
    /// `validateServiceExternalTrafficFieldsUpdate` keeps the health-check node port while the
    /// Service needs one, `validateLoadBalancerClassField` keeps the class from LoadBalancer to
    /// LoadBalancer; a change of type to LoadBalancer may set a class, and one from LoadBalancer
    /// drops the class it had when written unchanged (`dropTypeDependentFields`).
    @Test(
        arguments: [
            (
                "type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]",
                "type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 30500, ports: [{port: 80}]",
                "spec.healthCheckNodePort: Forbidden: field is immutable"
            ),
            (
                "type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]",
                "type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 30087, ports: [{port: 80}]", nil
            ),
            ("type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]", "type: LoadBalancer, ports: [{port: 80}]", nil),
            (
                "type: LoadBalancer, loadBalancerClass: example.com/one, ports: [{port: 80}]",
                "type: LoadBalancer, loadBalancerClass: example.com/two, ports: [{port: 80}]",
                "spec.loadBalancerClass: Invalid value: \"example.com/two\": may not change once set"
            ),
            (
                "type: LoadBalancer, loadBalancerClass: example.com/one, ports: [{port: 80}]", "type: LoadBalancer, ports: [{port: 80}]",
                "spec.loadBalancerClass: Invalid value: \"null\": may not change once set"
            ),
            (
                "type: LoadBalancer, ports: [{port: 80}]", "type: LoadBalancer, loadBalancerClass: example.com/one, ports: [{port: 80}]",
                "spec.loadBalancerClass: Invalid value: \"example.com/one\": may not change once set"
            ),
            (
                "type: LoadBalancer, loadBalancerClass: example.com/one, ports: [{port: 80}]",
                "type: LoadBalancer, loadBalancerClass: example.com/one, ports: [{port: 80}]", nil
            ),
            ("ports: [{port: 80}]", "type: LoadBalancer, loadBalancerClass: example.com/one, ports: [{port: 80}]", nil),
            (
                "type: LoadBalancer, loadBalancerClass: example.com/one, ports: [{port: 80}]",
                "type: ClusterIP, loadBalancerClass: example.com/one, ports: [{port: 80}]", nil
            ),
            (
                "type: LoadBalancer, loadBalancerClass: example.com/one, ports: [{port: 80}]",
                "type: ClusterIP, loadBalancerClass: example.com/two, ports: [{port: 80}]",
                "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"
            ),
        ] as [(String, String, String?)])
    func loadBalancerUpdateRules(_ initial: String, _ update: String, _ refusal: String?) {
        let problem = Self.updateProblem(initial, update)
        if let refusal {
            #expect(problem?.contains(refusal) == true, "\(problem ?? "accepted")")
        } else {
            #expect(problem == nil)
        }
    }

    /// The `service.beta.kubernetes.io/load-balancer-source-ranges` annotation, validated by
    /// ValidateService only when `spec.loadBalancerSourceRanges` is empty and then read by cloud
    /// load balancers (servicehelpers `GetLoadBalancerSourceRanges`): the lab's does the same.
    @Test(
        arguments: [
            (
                "ports: [{port: 80}]", "not-a-cidr",
                "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Forbidden: may only be used when `type` is 'LoadBalancer'",
                []
            ),
            (
                "type: LoadBalancer, ports: [{port: 80}]", "10.0.0.0/8,not-a-cidr",
                "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Invalid value: \"not-a-cidr\": must be a valid CIDR value",
                []
            ),
            ("type: LoadBalancer, ports: [{port: 80}]", " 203.0.113.0/24 , 198.51.100.0/24", nil, ["203.0.113.0/24", "198.51.100.0/24"]),
            ("type: LoadBalancer, ports: [{port: 80}]", " ", nil, []),
            ("type: LoadBalancer, loadBalancerSourceRanges: [192.0.2.0/24], ports: [{port: 80}]", "not-a-cidr", nil, ["192.0.2.0/24"]),
        ] as [(String, String, String?, [String])])
    func sourceRangesAnnotationIsValidatedAndHonoured(_ spec: String, _ annotation: String, _ refusal: String?, _ ranges: [String]) throws {
        let item =
            "- {apiVersion: v1, kind: Service, metadata: {name: s, namespace: prod, annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: '\(annotation)'}}, spec: {selector: {app: web}, \(spec)}}"
        guard let refusal else {
            let service = try Self.build(item).initial.services[ObjectKey("prod", "s")]
            #expect(service?.loadBalancerSourceRanges.map(\.text) == ranges)
            return
        }
        #expect(Self.failure(item).contains(refusal))
    }

    @Test func pinnedPortOutOfRangeOrTakenIsRefusedWithItsPlace() {
        let range = Self.failure(Self.service("a", "type: NodePort, ports: [{port: 80, nodePort: 8080}]"))
        // At the field itself: the range is fixed, so it is checked when the file is read.
        let head = T.head.replacingOccurrences(of: "spec:\n  resources:", with: "spec:\n  lab:\n    nodes: 2\n  resources:")
        let text = T.scenario(resources: Self.service("a", "type: NodePort, ports: [{port: 80, nodePort: 8080}]"), head: head)
        let spot = Spot.at("name: a,", column: "8080").resolve(in: text)
        #expect(range.hasPrefix("bad.yaml:\(spot?.line ?? 0):\(spot?.column ?? 0): "))
        #expect(
            range.hasSuffix(
                "Service prod/a: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767"
            ))
        let taken = Self.failure(
            Self.service("a", "type: NodePort, ports: [{port: 80, nodePort: 30100}]") + "\n"
                + Self.service("b", "type: NodePort, ports: [{port: 80, nodePort: 30100}]"))
        #expect(taken.hasSuffix("Service prod/b: spec.ports[0].nodePort: Invalid value: 30100: provided port is already allocated"))
        // At the field too: the taken number is found when the Service is applied.
        let takenText = T.scenario(
            resources: Self.service("a", "type: NodePort, ports: [{port: 80, nodePort: 30100}]") + "\n"
                + Self.service("b", "type: NodePort, ports: [{port: 80, nodePort: 30100}]"), head: head)
        let takenSpot = Spot.at("name: b,", column: "30100").resolve(in: takenText)
        #expect(takenSpot != nil && taken.hasPrefix("bad.yaml:\(takenSpot?.line ?? 0):\(takenSpot?.column ?? 0): "), "\(taken)")
    }

    @Test(arguments: [
        (
            "ports: [{port: 80, nodePort: 30001}]",
            "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
        ),
        (
            "externalTrafficPolicy: Local, ports: [{port: 80}]",
            "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services"
        ),
        (
            "type: NodePort, externalTrafficPolicy: Global, ports: [{port: 80}]",
            "spec.externalTrafficPolicy: Unsupported value: \"Global\": supported values: \"Cluster\", \"Local\""
        ),
        (
            "type: NodePort, externalTrafficPolicy: Local, healthCheckNodePort: 30500, ports: [{port: 80}]",
            "spec.healthCheckNodePort: Invalid value: 30500: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
        ),
        (
            "type: LoadBalancer, healthCheckNodePort: 30500, ports: [{port: 80}]",
            "spec.healthCheckNodePort: Invalid value: 30500: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
        ),
        (
            "type: NodePort, allocateLoadBalancerNodePorts: false, ports: [{port: 80}]",
            "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"
        ),
        (
            "type: NodePort, ports: [{name: a, port: 80, nodePort: 30001}, {name: b, port: 81, nodePort: 30001}]",
            "spec.ports[1].nodePort: Duplicate value: 30001 (TCP)"
        ),
    ])
    func apiValidation(_ spec: String, _ message: String) throws {
        let text = T.scenario(resources: Self.service("a", spec))
        let error = try #require(parseError(text))
        #expect(error.message == message)
        let line = try #require(Spot.line("name: a,").resolve(in: text)).line
        #expect(error.location.line == line)
    }

    @Test func loadBalancerGetsNodePortsHealthCheckAndAnAddress() throws {
        let t = try Self.build(
            [
                Self.service("lb", "type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]"),
                Self.service("lb2", "type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{port: 80}]"),
            ].joined(separator: "\n"), lab: "    loadBalancerCIDR: 192.0.2.0/30\n")
        let lb = try #require(t.initial.services[ObjectKey("prod", "lb")])
        #expect(lb.ports.map(\.nodePort) == [30086])
        #expect(lb.healthCheckNodePort == 30087)
        #expect(lb.loadBalancerIngress == IPv4("192.0.2.1"))
        #expect(lb.allocateLoadBalancerNodePorts == true)
        let lb2 = try #require(t.initial.services[ObjectKey("prod", "lb2")])
        #expect(lb2.externalTrafficPolicy == .cluster)
        #expect(lb2.ports.map(\.nodePort) == [nil])
        #expect(lb2.healthCheckNodePort == nil)
        #expect(lb2.loadBalancerIngress == IPv4("192.0.2.2"))
        #expect(
            lb.exposureText
                == "Service prod/lb LoadBalancer, externalTrafficPolicy Local: TCP/80 node port 30086; status.loadBalancer.ingress 192.0.2.1; healthCheckNodePort 30087"
        )
    }

    @Test func withoutALoadBalancerCIDRTheAddressIsPending() throws {
        let t = try Self.build(Self.service("lb", "type: LoadBalancer, ports: [{port: 80}]"))
        #expect(t.initial.services[ObjectKey("prod", "lb")]?.loadBalancerIngress == nil)
        #expect(t.initial.services[ObjectKey("prod", "lb")]?.exposureText?.contains("pending") == true)
    }

    @Test(arguments: [
        ("10.244.128.0/24", "overlaps the pod CIDR 10.244.0.0/16"),
        ("10.96.0.0/24", "overlaps the service CIDR 10.96.0.0/16"),
        ("100.64.1.0/24", "overlaps 100.64.0.0/16, which the lab reserves"),
        ("192.0.2.1/24", "has host bits set; did you mean 192.0.2.0/24?"),
        ("192.0.2.0/8", "is not an IPv4 CIDR from /16 to /32 like 203.0.113.0/28"),
    ])
    func loadBalancerCIDRIsValidated(_ cidr: String, _ problem: String) throws {
        let text = T.head.replacingOccurrences(
            of: "spec:\n  resources:", with: "spec:\n  lab:\n    loadBalancerCIDR: \(cidr)\n  resources:")
        let error = try #require(parseError(text))
        #expect(error.message.hasSuffix(problem))
        #expect(error.location.line == Spot.line("loadBalancerCIDR").resolve(in: text)?.line)
    }

    @Test func probeTargetsParseAndPrint() {
        for text in ["svc/prod/web@node-1", "svc/prod/web@lb", "svc/prod/web@node-0>prod/web", "svc/prod/web@lb>prod/web-1"] {
            #expect(Endpoint.parse(text)?.description == text)
        }
        #expect(Endpoint.parse("svc/prod/web@node-1") == .exposed(ObjectKey("prod", "web"), .node(1)))
        #expect(
            Endpoint.parse("svc/prod/web@lb>prod/a") == .exposed(ObjectKey("prod", "web"), .loadBalancer, backend: ObjectKey("prod", "a")))
        for bad in ["svc/prod/web@node-01", "svc/prod/web@node-", "svc/prod/web@elb", "svc/prod/web@lb@lb"] {
            #expect(Endpoint.parse(bad) == nil)
        }
        #expect(Endpoint.parse("svc/prod/web@node-1")?.column == .exposed(ObjectKey("prod", "web"), .node(1)))
    }

    /// Cluster through a node without the pod: the policy sees the node's address; through the
    /// pod's node, or under Local, the client's. Local through a node without the pod: nothing.
    @Test func theModelSeesTheNodeOrTheClient() throws {
        let pods = """
            - apiVersion: v1
              kind: Pod
              metadata: {name: web, namespace: prod, labels: {app: web}}
              spec:
                nodeName: node-1
                containers: [{name: web, image: nginx, ports: [{containerPort: 80, name: http}]}]
            """
        let head = T.head.replacingOccurrences(
            of: "spec:\n  resources:",
            with:
                "spec:\n  lab:\n    nodes: 2\n    loadBalancerCIDR: 192.0.2.0/28\n  externals:\n    - {name: client, ip: 203.0.113.10}\n  resources:"
        )
        .replacingOccurrences(
            of: """
                    - apiVersion: v1
                      kind: Pod
                      metadata: {name: web, namespace: prod, labels: {app: web}}
                      spec:
                        containers: [{name: web, image: nginx, ports: [{containerPort: 80, name: http}]}]
                """, with: T.indent(pods, 4))
        let resources = [
            Self.service("c", "type: NodePort, ports: [{port: 80, nodePort: 30080}]"),
            Self.service("l", "type: NodePort, externalTrafficPolicy: Local, ports: [{port: 80, nodePort: 30081}]"),
            Self.service("lb", "type: LoadBalancer, ports: [{port: 80}]"),
            Self.service(
                "in", "type: LoadBalancer, externalTrafficPolicy: Local, loadBalancerSourceRanges: [203.0.113.0/24], ports: [{port: 80}]"),
            Self.service(
                "out", "type: LoadBalancer, externalTrafficPolicy: Local, loadBalancerSourceRanges: [198.51.100.0/24], ports: [{port: 80}]"),
            Self.service(
                "v6", "type: LoadBalancer, externalTrafficPolicy: Local, loadBalancerSourceRanges: ['2001:db8::/32'], ports: [{port: 80}]"),
            // The annotation cloud load balancers read when the field is empty.
            "- {apiVersion: v1, kind: Service, metadata: {name: ann, namespace: prod, annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: 198.51.100.0/24}}, spec: {selector: {app: web}, type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 80}]}}",
            T.policy("podSelector: {matchLabels: {app: web}}\ningress:\n  - from: [{ipBlock: {cidr: 203.0.113.0/24}}]"),
        ].joined(separator: "\n")
        let t = try timeline(T.scenario(resources: resources, head: head))
        #expect(t.initial.podNodes[ObjectKey("prod", "web")] == 1)
        let engine = PolicyEngine(t.initial)
        let web = ObjectKey("prod", "web")
        func decision(_ service: String, _ entry: ServiceEntry, _ port: Int) -> Decision {
            engine.evaluate(
                from: .external("client"), to: .exposed(ObjectKey("prod", service), entry, backend: web), port: ProtocolPort(.tcp, port)
            ).decision
        }
        #expect(decision("c", .node(0), 30080) == .deny)  // source-NATed to node-0: not in the ipBlock
        #expect(decision("c", .node(1), 30080) == .allow)  // local endpoint: the client is seen
        #expect(decision("l", .node(1), 30081) == .allow)
        #expect(decision("l", .node(0), 30081) == .deny)  // no local endpoint
        #expect(decision("c", .node(0), 80) == .deny)  // not a node port
        #expect(decision("lb", .loadBalancer, 80) == .deny)  // Cluster: enters by node-0, source-NATed
        #expect(decision("c", .node(2), 30080) == .deny)  // no such node
        // loadBalancerSourceRanges guard the load-balancer address: the client inside passes, outside
        // is dropped (its node port stays open); IPv6 ranges alone guard nothing (kube-proxy keeps the
        // Service family's ranges and builds no firewall without one).
        #expect(decision("in", .loadBalancer, 80) == .allow)
        #expect(decision("out", .loadBalancer, 80) == .deny)
        #expect(decision("ann", .loadBalancer, 80) == .deny)
        #expect(decision("v6", .loadBalancer, 80) == .allow)
        let verdict = engine.evaluate(
            from: .external("client"), to: .exposed(ObjectKey("prod", "c"), .node(0), backend: web), port: ProtocolPort(.tcp, 30080))
        #expect(verdict.ingress.isolatingPolicies == [ObjectKey("prod", "p")])
        #expect(verdict.from == .external("client"))
        let lb = try #require(t.initial.services[ObjectKey("prod", "lb")])
        let lbPort = try #require(lb.ports.first)
        let backend = try #require(t.initial.backends(of: lb, port: lbPort).first)
        #expect(backend.pod == web)
        #expect(NodePortPath.loadBalancerEntry(t.initial, lb, lbPort, backend: backend) == 0, "Cluster: the node without the pod")
    }

    /// The message refusing a scenario of `head` and `resources` with step `probe`; nil when it loads.
    static func probeProblem(_ probe: String, resources: String, head: String) -> String? {
        do {
            _ = try Timeline(ScenarioLoader.parse(T.scenario(resources: resources, steps: probe, head: head), file: "bad.yaml"))
            return nil
        } catch { return error.message }
    }

    @Test func exposedProbesAreCheckedAgainstTheService() {
        let resources =
            Self.service("np", "type: NodePort, ports: [{port: 80, nodePort: 30080}]") + "\n" + Self.service("ci", "ports: [{port: 80}]")
        let head = T.head.replacingOccurrences(
            of: "spec:\n  resources:", with: "spec:\n  externals:\n    - {name: client, ip: 203.0.113.10}\n  resources:")
        func problem(_ probe: String) -> String? { Self.probeProblem(probe, resources: resources, head: head) }
        #expect(problem("- probe: {from: [external/client], to: [svc/prod/np@node-0], ports: [TCP/30080]}") == nil)
        #expect(problem("- probe: {from: [prod/api], to: [svc/prod/np@node-0], ports: [TCP/30080]}")?.contains("externals only") == true)
        #expect(
            problem("- probe: {from: [external/client], to: [svc/prod/np@node-0], ports: [TCP/80]}")?.contains("does not listen on TCP/80")
                == true)
        #expect(
            problem("- probe: {from: [external/client], to: [svc/prod/np@node-3], ports: [TCP/30080]}")?.contains("node-0 ... node-0")
                == true)
        #expect(problem("- probe: {from: [external/client], to: [svc/prod/np@lb], ports: [TCP/80]}")?.contains("not LoadBalancer") == true)
        #expect(
            problem("- probe: {from: [external/client], to: [svc/prod/ci@node-0], ports: [TCP/80]}")?.contains("without node ports") == true
        )
        // A LoadBalancer that allocates no node ports serves the ones it holds (NP-73).
        let lbResources =
            Self.service(
                "lb", "type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{port: 80, targetPort: 8080, nodePort: 30500}]")
            + "\n" + Self.service("bare", "type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{port: 81}]")
        let lbHead = head.replacingOccurrences(
            of: "spec:\n  externals:", with: "spec:\n  lab: {loadBalancerCIDR: 192.0.2.0/28}\n  externals:")
        func lbProblem(_ probe: String) -> String? { Self.probeProblem(probe, resources: lbResources, head: lbHead) }
        #expect(lbProblem("- probe: {from: [external/client], to: [svc/prod/lb@node-0], ports: [TCP/30500]}") == nil)
        #expect(lbProblem("- probe: {from: [external/client], to: [svc/prod/lb@lb], ports: [TCP/80]}") == nil)
        #expect(
            lbProblem("- probe: {from: [external/client], to: [svc/prod/bare@lb], ports: [TCP/81]}")?.contains(
                "has no node port (allocateLoadBalancerNodePorts: false and none pinned)") == true)
        // The same for the node port an update to allocateLoadBalancerNodePorts: false keeps.
        let kept = try? Self.nodePortsAfterUpdate(
            "type: LoadBalancer, ports: [{name: http, port: 80}]",
            "type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{name: http, port: 80}]")
        #expect(kept?.after?.ports.map(\.nodePort) == [30086] && kept?.after?.servesNodePorts == true)
        // Without ports, a node is probed on its node ports.
        #expect(problem("- probe: {from: [external/client], to: [svc/prod/np@node-0]}") == nil)
    }

    @Test func externalIPsMakeAClusterIPServiceExternallyAccessible() throws {
        let text = T.scenario(
            resources: Self.service("a", "externalIPs: [198.51.100.9], externalTrafficPolicy: Local, ports: [{port: 80}]"))
        let scenario = try ScenarioLoader.parse(text, file: "ok.yaml")
        #expect(scenario.warnings.contains { $0.message.contains("spec.externalIPs are not built") })
        let t = try Timeline(scenario)
        #expect(t.initial.services[ObjectKey("prod", "a")]?.externalTrafficPolicy == .local)
        #expect(t.initial.services[ObjectKey("prod", "a")]?.ports.map(\.nodePort) == [nil])
    }

    /// A cell through a node port names the address the backend's policies see when the node
    /// source-NATs it, in the report too.
    @Test func cellsCarryTheSourceNAT() throws {
        let t = try ScenarioLoader.timeline(RepositoryFiles.absolute("scenarios/external-traffic-policy.yaml"))
        let cells = t.cells(ofProbeStep: 1)
        #expect(
            cells.map(\.to.description) == ["svc/default/web-cluster@node-0>default/web", "svc/default/web-cluster@node-1>default/web"])
        #expect(cells.map(\.sourceNAT) == [IPv4("100.64.0.2"), nil])
        #expect(cells.map { $0.result().sourceNAT } == [IPv4("100.64.0.2"), nil])
    }

    /// A host-network pod shares its node's address, and kube-proxy DNATs a node port there to the
    /// Service before local delivery (nftables proxier, `service-nodeports` at prerouting and
    /// output): a probe of the pod on that port would be answered by the Service's backend, so it
    /// is refused at the step and names the node-port destination (NP-74). Other ports of the pod
    /// are probed as before.
    @Test func aHostNetworkPodIsNotProbedOnANodePortOfItsNode() throws {
        let resources = """
            - {apiVersion: v1, kind: Pod, metadata: {name: hn, namespace: prod}, spec: {nodeName: node-0, hostNetwork: true, containers: [{name: hn, image: x, ports: [{containerPort: 30100}, {containerPort: 9100}]}]}}
            \(Self.service("s", "type: NodePort, ports: [{port: 80, nodePort: 30100}]"))
            """
        let head = T.head.replacingOccurrences(
            of: "spec:\n  resources:", with: "spec:\n  lab: {nodes: 2}\n  externals:\n    - {name: client, ip: 203.0.113.10}\n  resources:")
        func problem(_ probe: String) -> String? { Self.probeProblem(probe, resources: resources, head: head) }
        let refused = problem("- probe: {from: [external/client], to: [prod/hn], ports: [TCP/30100]}")
        #expect(refused?.contains("TCP/30100 is Service prod/s's node port") == true)
        #expect(refused?.contains("probe svc/prod/s@node-0") == true)
        #expect(problem("- probe: {from: [prod/api], to: [prod/hn], ports: [TCP/30100]}") != nil)
        #expect(problem("- probe: {from: [external/client], to: [prod/hn], ports: [TCP/9100]}") == nil)
        #expect(problem("- probe: {from: [external/client], to: [prod/hn]}")?.contains("or name ports") == true)
    }
}
