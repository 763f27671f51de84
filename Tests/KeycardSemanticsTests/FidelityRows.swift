import KeycardModel
import KeycardValues

// The rows of docs/kubernetes-fidelity.md, one manifest each. Cells use the fidelity cluster of
// FidelityHarness.swift: shop/web serves TCP/80 (http), TCP/8080 and UDP/53 (dns).

private func policy(_ spec: String, name: String = "np", namespace: String = "shop") -> String {
    """
    - apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: {name: \(name), namespace: \(namespace)}
    \(spec)
    """
}

/// A policy on every pod of shop with one ingress rule (a flow mapping).
private func ingress(_ rule: String) -> String { policy("  spec: {podSelector: {}, ingress: [\(rule)]}") }

/// Every pod of shop isolated for ingress, nothing else changed.
private let shopIsolated: [FidelityCell] = [
    "other/client -> shop/web TCP/80 deny", "shop/client -> shop/web TCP/80 deny",
    "shop/web -> other/web TCP/80 allow", "other/client -> other/web TCP/80 allow",
]

let networkPolicyRows: [FidelityRow] = [
    FidelityRow("NP-01", policy(""), .accepts(shopIsolated)),
    FidelityRow(
        "NP-70", policy("  spec: {podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [client, null]}]}}"),
        .accepts([
            "other/client -> shop/web TCP/80 deny", "other/client -> shop/client TCP/80 allow",
        ])),
    FidelityRow("NP-02", policy("  spec: null"), .accepts(shopIsolated)),
    FidelityRow("NP-03", policy("  spec:\n    policyTypes: [Ingress]"), .accepts(shopIsolated)),
    FidelityRow("NP-04", policy("  spec: {podSelector: null}"), .accepts(shopIsolated)),
    FidelityRow("NP-05", policy("  spec: {podSelector: {}}"), .accepts(shopIsolated)),
    FidelityRow(
        "NP-06", policy("  spec: {podSelector: {matchLabels: {app: web}}}"),
        .accepts([
            "other/client -> shop/web TCP/80 deny", "other/client -> shop/client TCP/80 allow",
        ])),
    FidelityRow(
        "NP-07", policy("  spec: {podSelector: {matchLabels: {app: client}}, egress: [{to: [{podSelector: {matchLabels: {app: web}}}]}]}"),
        .accepts([
            "shop/client -> shop/web TCP/80 allow", "shop/client -> other/web TCP/80 deny", "other/client -> shop/client TCP/80 deny",
        ])),
    FidelityRow("NP-08", policy("  spec: {podSelector: {}, policyTypes: []}"), .accepts(shopIsolated)),
    FidelityRow("NP-09", policy("  spec: {podSelector: {}, policyTypes: [Ingress, Ingress]}"), .accepts(shopIsolated)),
    FidelityRow(
        "NP-10", policy("  spec: {podSelector: {}, policyTypes: [Ingress, Egress, Ingress]}"),
        .refuses(at: "[Ingress, Egress, Ingress]", "policyTypes may not list more than two types")),
    FidelityRow(
        "NP-11", policy("  spec: {podSelector: {}, policyTypes: [ingress]}"),
        .refuses(at: "ingress]", "policy type \"ingress\" is not one of Ingress, Egress")),
    FidelityRow(
        "NP-12", policy("  spec: {podSelector: {}, policyTypes: [Egress], ingress: [{}]}"),
        .warns(
            "has ingress rules but its policyTypes [Egress] omit Ingress",
            [
                "shop/web -> other/web TCP/80 deny", "other/client -> shop/web TCP/80 allow",
            ])),
    FidelityRow("NP-13", policy("  spec: {podSelector: {}, ingress: null}"), .accepts(shopIsolated)),
    FidelityRow("NP-14", policy("  spec: {podSelector: {}, ingress: []}"), .accepts(shopIsolated)),
    FidelityRow(
        "NP-15", ingress("{}"),
        .accepts([
            "other/client -> shop/web TCP/80 allow", "other/client -> shop/web UDP/53 allow", "shop/client -> shop/web TCP/8080 allow",
        ])),
    FidelityRow(
        "NP-16", ingress("{from: [], ports: [{port: 80}]}"),
        .accepts([
            "other/client -> shop/web TCP/80 allow", "other/client -> shop/web TCP/8080 deny",
        ])),
    FidelityRow(
        "NP-17", ingress("{from: null, ports: [{port: 80}]}"),
        .accepts([
            "other/client -> shop/web TCP/80 allow", "other/client -> shop/web TCP/8080 deny",
        ])),
    FidelityRow(
        "NP-18", ingress("{from: [{namespaceSelector: {matchLabels: {team: other}}}], ports: []}"),
        .accepts([
            "other/client -> shop/web TCP/8080 allow", "other/client -> shop/web UDP/53 allow", "shop/client -> shop/web TCP/80 deny",
        ])),
    FidelityRow("NP-19", ingress("{from: [{}]}"), .refuses(at: "{}]}", "a peer must specify podSelector, namespaceSelector or ipBlock")),
    FidelityRow(
        "NP-20", ingress("{from: [{podSelector: {}, ipBlock: {cidr: 10.0.0.0/8}}]}"),
        .refuses(at: "{cidr: 10.0.0.0/8}", "a peer with ipBlock may not also have podSelector or namespaceSelector")),
    FidelityRow(
        "NP-21", ingress("{from: [{namespaceSelector: {matchLabels: {team: other}}, podSelector: {matchLabels: {app: client}}}]}"),
        .accepts([
            "other/client -> shop/web TCP/80 allow", "other/web -> shop/web TCP/80 deny", "shop/client -> shop/web TCP/80 deny",
        ])),
    FidelityRow(
        "NP-22", ingress("{from: [{namespaceSelector: {}}]}"),
        .accepts([
            "other/client -> shop/web TCP/80 allow", "shop/client -> shop/web TCP/80 allow",
        ])),
    FidelityRow(
        "NP-23", ingress("{from: [{podSelector: {}}]}"),
        .accepts([
            "shop/client -> shop/web TCP/80 allow", "other/client -> shop/web TCP/80 deny",
        ])),
    FidelityRow(
        "NP-24", ingress("{ports: [{port: 53}]}"),
        .accepts([
            "other/client -> shop/web TCP/53 allow", "other/client -> shop/web UDP/53 deny",
        ])),
    FidelityRow(
        "NP-25", ingress("{ports: [{port: 53, protocol: udp}]}"), .refuses(at: "udp}", "protocol \"udp\" is not one of TCP, UDP, SCTP")),
    FidelityRow(
        "NP-26", ingress("{ports: [{protocol: UDP}]}"),
        .accepts([
            "other/client -> shop/web UDP/53 allow", "other/client -> shop/web UDP/5353 allow", "other/client -> shop/web TCP/80 deny",
        ])),
    FidelityRow("NP-27", ingress("{ports: [{port: 0}]}"), .refuses(at: "0}", "port must be an integer from 1 to 65535, found 0")),
    FidelityRow(
        "NP-28", ingress("{ports: [{port: 65536}]}"), .refuses(at: "65536", "port must be an integer from 1 to 65535, found 65536")),
    FidelityRow(
        "NP-29", ingress("{ports: [{port: \"80\"}]}"),
        .refuses(at: "\"80\"", "port \"80\" is neither a number from 1 to 65535 nor a valid port name: it must contain at least one letter")
    ),
    FidelityRow(
        "NP-30", ingress("{ports: [{port: http}]}"),
        .accepts([
            "other/client -> shop/web TCP/80 allow", "other/client -> shop/web TCP/8080 deny",
        ])),
    FidelityRow(
        "NP-31", ingress("{ports: [{port: HTTP}]}"),
        .refuses(at: "HTTP", "port \"HTTP\" is neither a number from 1 to 65535 nor a valid port name")),
    FidelityRow(
        "NP-32", ingress("{ports: [{port: 8000, endPort: 8100}]}"),
        .accepts([
            "other/client -> shop/web TCP/8080 allow", "other/client -> shop/web TCP/80 deny",
        ])),
    FidelityRow("NP-33", ingress("{ports: [{endPort: 8100}]}"), .refuses(at: "8100", "endPort needs a numeric port")),
    FidelityRow("NP-34", ingress("{ports: [{port: http, endPort: 8100}]}"), .refuses(at: "8100", "endPort needs a numeric port")),
    FidelityRow(
        "NP-35", ingress("{ports: [{port: 8100, endPort: 8000}]}"), .refuses(at: "8000", "endPort 8000 must not be less than port 8100")),
    FidelityRow(
        "NP-36", ingress("{ports: [{port: 8080, endPort: 8080}]}"),
        .accepts([
            "other/client -> shop/web TCP/8080 allow", "other/client -> shop/web TCP/8081 deny",
        ])),
    FidelityRow(
        "NP-37",
        policy(
            "  spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 192.0.2.77/24}}]}]}"),
        .warns(
            "CIDR value \"192.0.2.77/24\" is ambiguous (192.0.2.0/24 or 192.0.2.77/32?)",
            [
                "shop/web -> external/outside TCP/80 allow", "shop/web -> other/web TCP/80 deny",
            ])),
    FidelityRow(
        "NP-38",
        policy(
            "  spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: \"fd00::/8\"}}]}]}"),
        .warns(
            "ipBlock fd00::/8 is IPv6 and the lab is IPv4 only",
            [
                "shop/web -> external/outside TCP/80 deny", "shop/web -> other/web TCP/80 deny",
            ])),
    FidelityRow(
        "NP-39", ingress("{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}}]}"),
        .refuses(at: "10.0.0.0/16]", "except \"10.0.0.0/16\" must be a strict subset of cidr 10.0.0.0/16")),
    FidelityRow(
        "NP-40", ingress("{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [\"fd00::/64\"]}}]}"),
        .refuses(at: "\"fd00::/64\"", "must be a strict subset of cidr 10.0.0.0/8")),
    FidelityRow(
        "NP-41", ingress("{from: [{ipBlock: {except: [10.0.0.0/24]}}]}"), .refuses(at: "{except", "ipBlock needs the field \"cidr\"")),
    FidelityRow(
        "NP-42", ingress("{from: [{ipBlock: {cidr: 10.0.0.0}}]}"),
        .refuses(at: "10.0.0.0}", "ipBlock.cidr \"10.0.0.0\" is not a valid CIDR")),
    FidelityRow(
        "NP-43",
        policy(
            "  spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.8/29]}}]}]}"
        ),
        .accepts([
            "shop/web -> external/outside TCP/80 deny"
        ])),
    FidelityRow(
        "NP-44", policy("  spec: {podSelector: {matchExpressions: [{key: app, operator: In, values: []}]}}"),
        .refuses(at: "{key: app", "operator In needs a non-empty \"values\" list")),
    FidelityRow(
        "NP-45", policy("  spec: {podSelector: {matchExpressions: [{key: app, operator: Exists, values: [web]}]}}"),
        .refuses(at: "{key: app", "operator Exists takes no \"values\"")),
    FidelityRow(
        "NP-46", policy("  spec: {podSelector: {matchExpressions: [{key: app, operator: in, values: [web]}]}}"),
        .refuses(at: "in, values", "operator \"in\" is not one of In, NotIn, Exists, DoesNotExist")),
    FidelityRow(
        "NP-47",
        policy("  spec: {podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [client]}]}}") + "\n"
            + pod("bare", labels: "{}"),
        .accepts([
            "other/client -> shop/web TCP/80 deny", "other/client -> shop/client TCP/80 allow", "other/client -> shop/bare TCP/80 deny",
        ])),
    FidelityRow(
        "NP-48", policy("  spec: {podSelector: {matchLabels: {tier: null}}}") + "\n" + pod("blank", labels: "{tier: \"\"}"),
        .accepts([
            "other/client -> shop/blank TCP/80 deny", "other/client -> shop/web TCP/80 allow",
        ])),
    FidelityRow(
        "NP-49", policy("  spec: {podSelector: {}, ingres: []}"), .refuses(at: "ingres", "unknown field \"ingres\" in NetworkPolicy spec")),
    FidelityRow(
        "NP-50", policy("  spec: {}", name: "Deny_All"),
        .refuses(at: "Deny_All", "NetworkPolicy name \"Deny_All\" must consist of lower-case")),
    FidelityRow(
        "NP-51",
        """
        - apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata: {generateName: deny-, namespace: shop}
        """, .accepts(shopIsolated),
        state: { cluster in
            let names = cluster.policies.keys.map(\.name)
            let generated = names.allSatisfy {
                $0.hasPrefix("deny-") && $0.count == 10 && $0.dropFirst(5).allSatisfy("bcdfghjklmnpqrstvwxz2456789".contains)
            }
            return names.count == 1 && generated ? nil : "expected one policy named deny- and 5 characters, found \(names)"
        }),
    FidelityRow(
        "NP-52",
        """
        - apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata: {name: np}
          spec: {podSelector: {}}
        """ + "\n" + pod("d", namespace: "default"),
        .accepts([
            "other/client -> default/d TCP/80 deny", "other/client -> shop/web TCP/80 allow",
        ])),
    FidelityRow(
        "NP-53", policy("  spec: {podSelector: {}}", namespace: "\"\"") + "\n" + pod("d", namespace: "default"),
        .accepts([
            "other/client -> default/d TCP/80 deny", "other/client -> shop/web TCP/80 allow",
        ])),
    FidelityRow(
        "NP-54", policy("  spec: {podSelector: {}}\n  status: {conditions: []}"),
        .refuses(at: "status:", "unknown field \"status\" in NetworkPolicy")),
    FidelityRow("NP-55", policy("  spec: {podSelector: {matchLabels: {\"-app\": web}}}"), .refuses(at: "\"-app\"", "label key \"-app\"")),
    FidelityRow(
        "NP-56", policy("  spec: {}", namespace: "nowhere"),
        .refuses(at: "apiVersion: networking", "NetworkPolicy nowhere/np: namespace \"nowhere\" does not exist")),
    FidelityRow(
        "NP-57", ingress("{ports: [{port: 0x50}]}"),
        .accepts([
            "other/client -> shop/web TCP/80 allow", "other/client -> shop/web TCP/8080 deny",
        ])),
    FidelityRow(
        "NP-62",
        policy(
            "  spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 192.0.2.0/024}}]}]}"),
        .warns("non-standard CIDR value \"192.0.2.0/024\" is read as 192.0.2.0/24", ["shop/web -> external/outside TCP/80 allow"])),
    FidelityRow(
        "NP-63",
        policy(
            "  spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: \"::ffff:192.0.2.0/120\"}}]}]}"
        ),
        .warns(
            "non-standard CIDR value \"::ffff:192.0.2.0/120\" is read as 192.0.2.0/24",
            [
                "shop/web -> external/outside TCP/80 allow", "shop/web -> other/web TCP/80 deny",
            ])),
    FidelityRow(
        "NP-64", policy("  spec: {podSelector: {matchLabels: {app: y}}}") + "\n" + pod("yy", labels: "{app: \"y\"}"),
        .accepts([
            "other/client -> shop/yy TCP/80 deny", "other/client -> shop/web TCP/80 allow",
        ])),
    FidelityRow(
        "NP-58", policy("  spec: {podSelector: {matchLabels: {app: yes}}}"), .refuses(at: "yes", "must be a string, found a scalar \"yes\"")
    ),
    FidelityRow(
        "NP-59",
        policy(
            "  spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 192.000.2.0/024}}]}]}"),
        .warns(
            "non-standard CIDR value \"192.000.2.0/024\" is read as 192.0.2.0/24",
            [
                "shop/web -> external/outside TCP/80 allow", "shop/web -> other/web TCP/80 deny",
            ])),
    FidelityRow(
        "NP-60", ingress("{from: [{ipBlock: {cidr: \"2001:db8::/32\", except: [\"2001:db8:1::/48\"]}}]}"),
        .warns("ipBlock 2001:db8::/32 is IPv6", ["other/client -> shop/web TCP/80 deny"])),
    FidelityRow(
        "NP-61", ingress("{ports: [{}]}"),
        .accepts([
            "other/client -> shop/web TCP/8080 allow", "other/client -> shop/web UDP/53 deny",
        ])),
    FidelityRow(
        "NP-65", policy("  spec: {podSelector: {}, ingress: [null]}"),
        .accepts([
            "other/client -> shop/web TCP/80 allow", "other/client -> shop/web UDP/53 allow", "shop/client -> shop/web TCP/8080 allow",
        ])),
    FidelityRow(
        "NP-66", ingress("{ports: [null]}"),
        .accepts([
            "other/client -> shop/web TCP/8080 allow", "other/client -> shop/web UDP/53 deny",
        ])),
    FidelityRow(
        "NP-67", ingress("{from: [null]}"), .refuses(at: "null]}", "a peer must specify podSelector, namespaceSelector or ipBlock")),
]

/// A pod of `namespace` serving TCP/80 with the given labels (flow mappings); `extra` follows spec.
private func pod(_ name: String, namespace: String = "shop", labels: String = "{app: solo}", spec: String? = nil, extra: String = "")
    -> String
{
    let spec = spec ?? "{containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}"
    return "- {apiVersion: v1, kind: Pod, metadata: {name: \(name), namespace: \(namespace), labels: \(labels)}, spec: \(spec)\(extra)}"
}

/// A policy allowing ingress to `app` pods of shop on the given ports (a flow list).
private func allowPorts(_ ports: String, app: String) -> String {
    policy("  spec: {podSelector: {matchLabels: {app: \(app)}}, ingress: [{ports: \(ports)}]}", name: "allow-\(app)")
}

let podRows: [FidelityRow] = [
    FidelityRow(
        "POD-01", "- {apiVersion: v1, kind: Pod, metadata: {namespace: shop}, spec: {containers: [{name: c, image: i}]}}",
        .refuses(at: "{namespace: shop}", "Pod metadata needs \"name\" (or \"generateName\")")),
    FidelityRow(
        "POD-02", "- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: shop}, spec: {containers: []}}",
        .refuses(at: "[]}", "spec.containers must list at least one container")),
    FidelityRow(
        "POD-03", pod("p", spec: "{containers: [{name: c, image: i}, {name: c, image: j}]}"),
        .refuses(at: "c, image: j", "container name \"c\" is used twice in this pod")),
    FidelityRow(
        "POD-04", pod("p", spec: "{containers: [{name: Main, image: i}]}"),
        .refuses(at: "Main", "container name \"Main\" must consist of lower-case")),
    FidelityRow(
        "POD-05", pod("p", spec: "{containers: [{name: c, image: i, ports: [{name: web}]}]}"),
        .refuses(at: "{name: web}", "a container port needs \"containerPort\"")),
    FidelityRow(
        "POD-06", pod("p", spec: "{containers: [{name: c, image: i, ports: [{containerPort: 80, protocol: tcp}]}]}"),
        .refuses(at: "tcp}", "protocol \"tcp\" is not one of TCP, UDP, SCTP")),
    FidelityRow(
        "POD-07",
        pod("p", spec: "{containers: [{name: c, image: i, ports: [{containerPort: 80, name: web}, {containerPort: 81, name: web}]}]}"),
        .refuses(at: "{containerPort: 81", "port name \"web\" is declared twice in container \"c\"")),
    FidelityRow(
        "POD-08",
        pod(
            "multi", labels: "{app: multi}",
            spec:
                "{containers: [{name: a, image: i, ports: [{containerPort: 81, name: metrics}]}, {name: b, image: i, ports: [{containerPort: 82, name: metrics}]}]}"
        )
            + "\n" + allowPorts("[{port: metrics}]", app: "multi"),
        .warns(
            "port name \"metrics\" is declared by two containers for TCP; a policy naming it for TCP matches both",
            [
                "other/client -> shop/multi TCP/81 allow", "other/client -> shop/multi TCP/82 allow",
                "other/client -> shop/multi TCP/83 deny",
            ])),
    FidelityRow(
        "POD-09",
        pod(
            "twice", labels: "{app: twice}",
            spec: "{containers: [{name: a, image: i, ports: [{containerPort: 80}]}, {name: b, image: i, ports: [{containerPort: 80}]}]}"),
        .warns("TCP/80 is declared twice", ["other/client -> shop/twice TCP/80 allow"])),
    FidelityRow(
        "POD-10",
        pod("p", labels: "{app: p}", spec: "{serviceAccount: legacy, containers: [{name: c, image: i}]}")
            + "\n"
            + pod("q", labels: "{app: q}", spec: "{serviceAccount: legacy, serviceAccountName: current, containers: [{name: c, image: i}]}"),
        .accepts(["other/client -> shop/p TCP/80 allow"]),
        state: { cluster in
            let accounts = [
                cluster.pods[ObjectKey("shop", "p")]?.serviceAccountName, cluster.pods[ObjectKey("shop", "q")]?.serviceAccountName,
                cluster.pods[ObjectKey("shop", "web")]?.serviceAccountName,
            ]
            return accounts == ["legacy", "current", "default"] ? nil : "service accounts \(accounts)"
        }),
    FidelityRow(
        "POD-11",
        pod(
            "far", labels: "{app: far}",
            spec: "{nodeName: ip-10-0-1-23.ec2.internal, containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}"),
        .warns("spec.nodeName \"ip-10-0-1-23.ec2.internal\" is not a node of this lab", ["other/client -> shop/far TCP/80 allow"])),
    FidelityRow(
        "POD-12",
        pod("host", labels: "{app: host}", spec: "{hostNetwork: true, containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}")
            + "\n" + policy("  spec: {podSelector: {}}"),
        // podSelector {} selects every shop pod, yet the host-network pod stays open: NetworkPolicy
        // does not apply to it (it is its node).
        .accepts(shopIsolated + ["other/client -> shop/host TCP/80 allow", "shop/client -> shop/host TCP/80 allow"]),
        state: { cluster in
            guard let pod = cluster.pods[ObjectKey("shop", "host")], pod.hostNetwork else { return "no host-network pod" }
            let node = cluster.podNodes[pod.key].map(LabNetwork.nodeAddress)
            return cluster.addresses[pod.key] == node ? nil : "address \(String(describing: cluster.addresses[pod.key])), not its node's"
        }),
    FidelityRow(
        "POD-13", pod("v6", labels: "{app: v6}", extra: ", status: {podIP: \"fd00::5\"}"),
        .warns("status.podIP fd00::5 is IPv6", ["other/client -> shop/v6 TCP/80 allow"])),
    FidelityRow(
        "POD-14", pod("moved", labels: "{app: moved}", extra: ", status: {podIP: 10.9.0.7}"),
        .warns("status.podIP 10.9.0.7 is outside the lab's pod CIDR", ["other/client -> shop/moved TCP/80 allow"])),
    FidelityRow(
        "POD-35",
        pod("done", labels: "{app: done}", extra: ", status: {phase: Succeeded, podIP: 10.244.0.20}") + "\n"
            + pod("again", labels: "{app: again}", extra: ", status: {phase: Running, podIP: 10.244.0.20}"),
        .warns(
            "pod shop/done has status.phase Succeeded: its containers have ended, so it is no Service endpoint and has no DNS record",
            ["other/client -> shop/again TCP/80 allow"]),
        state: { cluster in
            let again = cluster.addresses[ObjectKey("shop", "again")]
            return cluster.pods[ObjectKey("shop", "done")] == nil && again == IPv4(0x0AF4_0014)
                ? nil
                : "done \(cluster.pods[ObjectKey("shop", "done")] == nil ? "left out" : "running"), again at \(String(describing: again))"
        }),
    FidelityRow(
        "POD-51",
        pod("one", labels: "{app: one}", extra: ", status: {phase: Running, podIP: 10.244.0.20}") + "\n"
            + pod("two", labels: "{app: two}", extra: ", status: {phase: Running, podIP: 10.244.0.20}"),
        .warns(
            "pod shop/two: status.podIP 10.244.0.20 is already pod shop/one's address; the pod gets another lab address",
            ["other/client -> shop/one TCP/80 allow", "other/client -> shop/two TCP/80 allow"]),
        state: { cluster in
            let (one, two) = (cluster.addresses[ObjectKey("shop", "one")], cluster.addresses[ObjectKey("shop", "two")])
            return one == IPv4(0x0AF4_0014) && two != nil && two != one
                ? nil : "addresses \(String(describing: one)), \(String(describing: two))"
        }),
    FidelityRow(
        "POD-15",
        pod(
            "side", labels: "{app: side}",
            spec:
                "{initContainers: [{name: setup, image: i, ports: [{containerPort: 81, name: setup}]}, {name: proxy, image: i, restartPolicy: Always, ports: [{containerPort: 15001, name: proxy}]}], containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}"
        )
            + "\n" + allowPorts("[{port: proxy}, {port: setup}]", app: "side"),
        .accepts([
            "other/client -> shop/side TCP/15001 allow", "other/client -> shop/side TCP/81 deny", "other/client -> shop/side TCP/80 deny",
        ])),
    FidelityRow(
        "POD-16", pod("blank", labels: "{tier: null}") + "\n" + policy("  spec: {podSelector: {matchLabels: {tier: \"\"}}}"),
        .accepts([
            "other/client -> shop/blank TCP/80 deny", "other/client -> shop/web TCP/80 allow",
        ])),
    FidelityRow("POD-17", pod("p", labels: "{app: \"web!\"}"), .refuses(at: "\"web!\"", "label value \"web!\"")),
    FidelityRow("POD-18", pod("Web"), .refuses(at: "Web", "Pod name \"Web\" must consist of lower-case")),
    FidelityRow(
        "POD-19",
        pod("p", labels: "{app: p}", spec: "{hostNetwork: false, containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}")
            + "\n" + policy("  spec: {podSelector: {matchLabels: {app: p}}}"),
        .accepts(["other/client -> shop/p TCP/80 deny"])),
    FidelityRow(
        "POD-27",
        pod("p", labels: "{app: p}", spec: "{hostNetwork: N, containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}")
            + "\n" + policy("  spec: {podSelector: {matchLabels: {app: p}}}"),
        .accepts(["other/client -> shop/p TCP/80 deny"])),
    FidelityRow(
        "POD-21",
        pod("p", spec: "{initContainers: [{name: setup, image: i, ports: [{containerPort: 0}]}], containers: [{name: c, image: i}]}"),
        .refuses(at: "0}", "containerPort must be an integer from 1 to 65535, found 0")),
    FidelityRow(
        "POD-22",
        pod("p", spec: "{initContainers: [{name: setup, image: i, restartPolicy: OnFailure}], containers: [{name: c, image: i}]}"),
        .refuses(at: "OnFailure", "an init container's restartPolicy must be Always")),
    FidelityRow(
        "POD-23",
        pod("p", spec: "{containers: [{name: c, image: i, ports: [{containerPort: 80, protocol: '', name: ''}]}]}") + "\n"
            + policy("  spec: {podSelector: {matchLabels: {app: solo}}}"),
        .accepts(["other/client -> shop/p TCP/80 deny"])),
    FidelityRow(
        "POD-24", pod("p", spec: "{containers: [{name: c, image: i}, {name: side, image: i, restartPolicy: Always}]}"),
        .refuses(at: "Always}", "may not be set for non-init containers")),
    FidelityRow(
        "POD-25", pod("p", spec: "{containers: [{name: c, image: i}], ephemeralContainers: [{name: debug, image: i}]}"),
        .refuses(at: "[{name: debug", "spec.ephemeralContainers: Forbidden: cannot be set on create")),
    FidelityRow(
        "POD-26",
        pod("p", spec: "{schedulingGates: [{name: example.com/wait}], containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}"),
        .warns("has schedulingGates: it is never scheduled", ["other/client -> shop/web TCP/80 allow"])),
    FidelityRow(
        "POD-28",
        pod("p", spec: "{schedulingGates: [{name: example.com/wait}, {name: example.com/wait}], containers: [{name: c, image: i}]}"),
        .refuses(at: "example.com/wait}]", "Duplicate value: \"example.com/wait\"")),
    FidelityRow(
        "POD-29",
        pod("p", labels: "{app: p}", spec: "{nodeName: '', containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}")
            + "\n" + policy("  spec: {podSelector: {matchLabels: {app: p}}}"),
        .accepts(["other/client -> shop/p TCP/80 deny"])),
    FidelityRow(
        "POD-20", pod("p", spec: "{nodeName: Node_1, containers: [{name: c, image: i}]}"),
        .refuses(at: "Node_1", "spec.nodeName \"Node_1\" must consist of lower-case")),
]

let namespaceRows: [FidelityRow] = [
    FidelityRow(
        "NS-01", "- {apiVersion: v1, kind: Namespace, metadata: {name: team.a}}",
        .refuses(at: "team.a", "Namespace name \"team.a\" must consist of lower-case")),
    FidelityRow(
        "NS-02",
        "- {apiVersion: v1, kind: Namespace, metadata: {name: third, labels: {kubernetes.io/metadata.name: fake}}}\n"
            + pod("x", namespace: "third", labels: "{app: x}") + "\n"
            + ingress("{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: third}}}]}"),
        .accepts([
            "third/x -> shop/web TCP/80 allow", "other/client -> shop/web TCP/80 deny",
        ])),
    FidelityRow(
        "NS-03",
        pod("early", namespace: "later", labels: "{app: early}") + "\n- {apiVersion: v1, kind: Namespace, metadata: {name: later}}",
        .accepts(["other/client -> later/early TCP/80 allow"])),
    FidelityRow(
        "NS-04",
        "- {apiVersion: v1, kind: Namespace, metadata: {name: fourth, namespace: shop}}\n"
            + pod("y", namespace: "fourth", labels: "{app: y}"),
        .accepts(["fourth/y -> shop/web TCP/80 allow"])),
    FidelityRow(
        "NS-05",
        pod("kube", namespace: "kube-system", labels: "{k8s-app: kube-dns}") + "\n"
            + policy(
                "  spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]}]}"
            ),
        .accepts([
            "shop/client -> kube-system/kube TCP/80 allow", "shop/client -> other/web TCP/80 deny",
        ])),
    refusedNamespaceSpec("NS-08", "{finalizers: ['bad name!']}", at: "'bad name!'", "spec.finalizers[0]: Invalid value: \"bad name!\""),
    refusedNamespaceSpec("NS-09", "{finalizer: []}", at: "finalizer:", "unknown field \"finalizer\" in Namespace spec"),
]

/// Row `id`: a Namespace whose `spec` (a flow mapping) the API server refuses (`ValidateNamespace`),
/// refused at `at` with `message`.
private func refusedNamespaceSpec(_ id: String, _ spec: String, at: String, _ message: String) -> FidelityRow {
    FidelityRow(id, "- {apiVersion: v1, kind: Namespace, metadata: {name: fifth}, spec: \(spec)}", .refuses(at: at, message))
}

/// Row `id`: a ConfigMap (a kind keycard skips) with `metadata` (flow-mapping entries) the API
/// server refuses (`ValidateObjectMeta`), refused at `at` with `message`.
private func refusedConfigMap(_ id: String, _ metadata: String, at: String, _ message: String) -> FidelityRow {
    FidelityRow(id, "- {apiVersion: v1, kind: ConfigMap, \(metadata)data: {a: \"1\"}}", .refuses(at: at, message))
}

/// Row `id`: an object whose `apiVersion` and `kind` (as written) kubectl refuses before
/// sending it, refused at `at` with `message`.
private func refusedHeader(_ id: String, _ apiVersion: String, _ kind: String, at: String, _ message: String) -> FidelityRow {
    FidelityRow(id, "- {apiVersion: \(apiVersion), kind: \(kind), metadata: {name: w}}", .refuses(at: at, message))
}

let objectRows: [FidelityRow] = [
    refusedConfigMap("OBJ-82", "", at: "{apiVersion: v1, kind: ConfigMap", "ConfigMap metadata needs \"name\""),
    refusedConfigMap("OBJ-83", "metadata: {name: Bad_Name}, ", at: "Bad_Name", "ConfigMap name \"Bad_Name\" must consist of lower-case"),
    refusedHeader("OBJ-86", "example.com/v1", "\"\"", at: "\"\", metadata", "kind must not be empty: Object 'Kind' is missing"),
    refusedHeader("OBJ-87", "a/b/c", "Widget", at: "a/b/c", "apiVersion \"a/b/c\" is not group/version: unexpected GroupVersion string"),
    refusedHeader(
        "OBJ-88", "\"\"", "Widget", at: "Widget, metadata",
        "no matches for kind \"Widget\" in version \"\": the API server does not serve an empty apiVersion"),
    FidelityRow(
        "OBJ-84", "- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: \"system:aggregate-to-edit\"}}",
        .warns(
            "kind ClusterRole (rbac.authorization.k8s.io/v1) is not understood by keycard; ignored",
            ["other/client -> shop/web TCP/80 allow"])),
    FidelityRow(
        "OBJ-01",
        """
        - apiVersion: v1
          kind: List
          items:
          - apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: listed, namespace: shop, creationTimestamp: null}
            spec: {podSelector: {}, ingress: null}
        """, .accepts(shopIsolated)),
    FidelityRow(
        "OBJ-52",
        "- {apiVersion: v1, kind: Namespace, metadata: {name: extra, uid: 12}}",
        .refuses(at: "12}", "metadata.uid must be a string")),
    FidelityRow(
        "OBJ-51", "- apiVersion: v1\n  kind: List\n  items:\n  - null\n  - {apiVersion: v1, kind: Namespace, metadata: {name: extra}}",
        .refuses(at: "null", "Object 'Kind' is missing")),
    FidelityRow(
        "OBJ-02", "- {apiVersion: extensions/v1beta1, kind: NetworkPolicy, metadata: {name: old, namespace: shop}, spec: {}}",
        .refuses(at: "extensions/v1beta1, kind", "NetworkPolicy must have apiVersion networking.k8s.io/v1, found extensions/v1beta1")),
    FidelityRow(
        "OBJ-03", "- {apiVersion: v1, kind: Pod, metadata: {name: p, name: q, namespace: shop}, spec: {containers: [{name: c, image: i}]}}",
        .refuses(at: "name: p,", "duplicate key")),
    FidelityRow(
        "OBJ-04", "- {apiVersion: v1, kind: ConfigMap, metadata: {name: d, namespace: shop}, data: {a: b}}\n" + policy("  spec: {}"),
        .warns("kind ConfigMap (v1) is not understood by keycard; ignored", shopIsolated)),
    FidelityRow(
        "OBJ-08", "- {apiVersion: networking.k8s.io/v1, kind: Networkpolicy, metadata: {name: np, namespace: shop}, spec: {}}",
        .refuses(at: "Networkpolicy", "no matches for kind \"Networkpolicy\" in version \"networking.k8s.io/v1\"")),
    FidelityRow(
        "OBJ-70", "- {apiVersion: policy.networking.k8s.io/v1alpha2, kind: ClusterNetworkPolicies, metadata: {name: guard}, spec: {}}",
        .refuses(
            at: "ClusterNetworkPolicies", "no matches for kind \"ClusterNetworkPolicies\" in version \"policy.networking.k8s.io/v1alpha2\"")
    ),
    FidelityRow(
        "OBJ-71", "- {apiVersion: policy.networking.k8s.io/v1alpha1, kind: AdminNetworkpolicy, metadata: {name: guard}, spec: {}}",
        .refuses(at: "AdminNetworkpolicy", "(kinds are case-sensitive: AdminNetworkPolicy)")),
    FidelityRow(
        "OBJ-28", "- {apiVersion: policy/v1beta1, kind: PodDisruptionBudget, metadata: {name: pdb, namespace: shop}, spec: {}}",
        .refuses(at: "PodDisruptionBudget", "the API server does not serve policy/v1beta1 (PodDisruptionBudget is served in policy/v1)")),
    FidelityRow(
        "OBJ-46", "- {apiVersion: storage.k8s.io/v1beta1, kind: StorageClass, metadata: {name: fast}, provisioner: x}",
        .refuses(at: "StorageClass", "(StorageClass is served in storage.k8s.io/v1)")),
    FidelityRow(
        "OBJ-47",
        "- {apiVersion: serving.knative.dev/v1, kind: Service, metadata: {name: hello, namespace: shop}, spec: {template: {}}}\n"
            + "- {apiVersion: apps.kruise.io/v1beta1, kind: StatefulSet, metadata: {name: s, namespace: shop}, spec: {}}\n"
            + "- {apiVersion: policy.linkerd.io/v1alpha1, kind: AuthorizationPolicy, metadata: {name: a, namespace: shop}, spec: {}}\n"
            + policy("  spec: {}"),
        .warns("kind Service (serving.knative.dev/v1) is not understood by keycard; ignored", shopIsolated)),
    FidelityRow(
        "OBJ-45", "- {apiVersion: autoscaling/v2beta2, kind: HorizontalPodAutoscaler, metadata: {name: hpa, namespace: shop}, spec: {}}",
        .refuses(at: "HorizontalPodAutoscaler", "(HorizontalPodAutoscaler is served in autoscaling/v2)")),
    FidelityRow(
        "OBJ-29", "- {apiVersion: kustomize.config.k8s.io/v1beta1, kind: Kustomization, resources: [web.yaml]}",
        .refuses(at: "Kustomization", "a kustomization is not an API object")),
    FidelityRow(
        "OBJ-09", "- {apiVersion: v1, kind: Deployment, metadata: {name: d, namespace: shop}, spec: {}}\n" + policy("  spec: {}"),
        .refuses(at: "v1, kind: Deployment", "must have apiVersion apps/v1")),
    FidelityRow(
        "OBJ-10", "- {apiVersion: v1, kind: pod, metadata: {name: p, namespace: shop}, spec: {containers: [{name: c, image: i}]}}",
        .refuses(at: "pod,", "kinds are case-sensitive: Pod")),
    FidelityRow(
        "OBJ-11",
        "- {apiVersion: v1, kind: ConfigMapList, items: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: shop}}]}\n"
            + policy("  spec: {}"),
        .warns("kind ConfigMap (v1) is not understood by keycard; ignored", shopIsolated)),
    FidelityRow(
        "OBJ-05",
        policy("  spec: {podSelector: {}}")
            + "\n- {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: np, namespace: shop}, spec: {podSelector: {}}}",
        .refuses(at: "{apiVersion: networking", "NetworkPolicy shop/np appears twice")),
    FidelityRow(
        "OBJ-06",
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d, namespace: shop}\n  spec:\n    template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: i}]}}",
        .refuses(at: "template: {metadata", "needs spec.selector (apps/v1 requires one)")),
    FidelityRow(
        "OBJ-07",
        """
        - apiVersion: apps/v1
          kind: StatefulSet
          metadata: {name: db, namespace: shop}
          spec:
            replicas: 2
            selector: {matchLabels: {app: db}}
            template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}}
        """ + "\n" + policy("  spec: {podSelector: {matchLabels: {statefulset.kubernetes.io/pod-name: db-0}}}"),
        .accepts([
            "shop/client -> shop/db-0 TCP/80 deny", "shop/client -> shop/db-1 TCP/80 allow", "shop/client -> shop/web TCP/80 allow",
        ])),
]

/// A Service of shop in front of shop/web, with `spec` fields added (flow mapping entries).
private func service(_ fields: String, metadata: String = "{name: svc, namespace: shop}") -> String {
    "- {apiVersion: v1, kind: Service, metadata: \(metadata), spec: {selector: {app: web}, ports: [{port: 80}], \(fields)}}"
}

/// An ExternalName Service of shop with `spec` fields added.
private func externalName(_ fields: String) -> String {
    "- {apiVersion: v1, kind: Service, metadata: {name: ext, namespace: shop}, spec: {type: ExternalName, externalName: db.example.com, \(fields)}}"
}

/// A ClusterNetworkPolicy (or, `v1alpha1`, an AdminNetworkPolicy) denying egress to `networks`.
private func denyNetworks(_ networks: String, v1alpha1: Bool = false) -> String {
    v1alpha1
        ? "- {apiVersion: policy.networking.k8s.io/v1alpha1, kind: AdminNetworkPolicy, metadata: {name: deny}, spec: {priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: \(networks)}]}]}}"
        : "- {apiVersion: policy.networking.k8s.io/v1alpha2, kind: ClusterNetworkPolicy, metadata: {name: deny}, spec: {tier: Admin, priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: \(networks)}]}]}}"
}

/// Rows OBJ-12 to OBJ-20: Service fields and ClusterNetworkPolicy networks found by review.
let serviceAndNetworkRows: [FidelityRow] = [
    FidelityRow(
        "OBJ-12", externalName("ipFamilyPolicy: SingleStack"),
        .refuses(at: "SingleStack", "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services")),
    FidelityRow(
        "OBJ-13", externalName("ipFamilies: [IPv4]"),
        .refuses(at: "[IPv4]", "spec.ipFamilies: Forbidden: may not be set for ExternalName services")),
    FidelityRow(
        "OBJ-14", service("", metadata: "{generateName: \(String(repeating: "s", count: 71))-, namespace: shop}"),
        .refuses(at: "sssss", "Service generateName \"\(String(repeating: "s", count: 71))-\" must be at most 63 characters")),
    FidelityRow(
        "OBJ-15", denyNetworks("[\"::ffff:10.244.0.0/112\"]"),
        .refuses(at: "\"::ffff", "an IPv4-mapped IPv6 address is not allowed")),
    FidelityRow(
        "OBJ-16", denyNetworks("[\"::ffff:192.0.2.0/120\"]", v1alpha1: true),
        .refuses(at: "\"::ffff", "an IPv4-mapped IPv6 address is not allowed")),
    FidelityRow(
        "OBJ-17", service("publishNotReadyAddresses: \"yes\""),
        .refuses(at: "\"yes\"", "spec.publishNotReadyAddresses must be true or false")),
    FidelityRow(
        "OBJ-18", service("clusterIP: 10.96.0.050"),
        .warns(
            "spec.clusterIPs[0]: non-standard IP address \"10.96.0.050\" is read as 10.96.0.50", ["shop/client -> shop/web TCP/80 allow"]),
        state: { cluster in
            cluster.services[ObjectKey("shop", "svc")]?.address == .ip(IPv4(0x0A60_0032))
                ? nil : "the Service's address is \(String(describing: cluster.services[ObjectKey("shop", "svc")]?.address))"
        }),
    FidelityRow(
        "OBJ-19", service("externalIPs: [192.0.2.010]"),
        .warns(
            "spec.externalIPs[0]: non-standard IP address \"192.0.2.010\" is read as 192.0.2.10", ["shop/client -> shop/web TCP/80 allow"])),
    FidelityRow(
        "OBJ-20", service("type: LoadBalancer, loadBalancerSourceRanges: [192.000.2.0/24]"),
        .warns("non-standard CIDR value \"192.000.2.0/24\" is read as 192.0.2.0/24", ["shop/client -> shop/web TCP/80 allow"]),
        state: { cluster in
            cluster.services[ObjectKey("shop", "svc")]?.loadBalancerSourceRanges.map(\.text) == ["192.0.2.0/24"]
                ? nil : "the ranges are \(String(describing: cluster.services[ObjectKey("shop", "svc")]?.loadBalancerSourceRanges))"
        }),
    FidelityRow(
        "OBJ-76",
        service(
            "type: ClusterIP",
            metadata: "{name: svc, namespace: shop, annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: not-a-cidr}}"),
        .refuses(
            at: "not-a-cidr}",
            "metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]: Forbidden: may only be used when `type` is 'LoadBalancer'"
        )),
    FidelityRow(
        "OBJ-77",
        service(
            "type: LoadBalancer",
            metadata:
                "{name: svc, namespace: shop, annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: '198.51.100.0/24, 192.0.2.0/24'}}"
        ), .accepts(["shop/client -> shop/web TCP/80 allow"]),
        state: { cluster in
            cluster.services[ObjectKey("shop", "svc")]?.loadBalancerSourceRanges.map(\.text) == ["198.51.100.0/24", "192.0.2.0/24"]
                ? nil : "the ranges are \(String(describing: cluster.services[ObjectKey("shop", "svc")]?.loadBalancerSourceRanges))"
        }),
]

let fidelityRows =
    networkPolicyRows + podRows + namespaceRows + objectRows + serviceAndNetworkRows + cronJobRows + workloadRows + containerRows

/// Rows proven by tests elsewhere (they need files on disk), by id.
let fidelityRowsProvenElsewhere: [String: String] = [
    "OBJ-72": "KeycardScenarioTests/NodePortServiceTests.anUpdateKeepsNodePortsByPortName",
    "OBJ-85":
        "KeycardScenarioTests/ManifestReapplyTests.aReappliedPolicyKeepsItsDefaultedPolicyTypes, .aReappliedHeadlessServiceStaysHeadless, .aReappliedJobKeepsItsStoredCompletions, .aReappliedNodePortServiceKeepsNodePortsByPortName",
    "OBJ-73": "KeycardScenarioTests/NodePortServiceTests.anUpdateKeepsTheHealthCheckNodePort",
    "OBJ-74": "KeycardScenarioTests/NodePortServiceTests.loadBalancerUpdateRules",
    "OBJ-75": "KeycardScenarioTests/NodePortServiceTests.loadBalancerUpdateRules",
    "NP-74": "KeycardScenarioTests/NodePortServiceTests.aHostNetworkPodIsNotProbedOnANodePortOfItsNode",
    "NP-75": "KeycardScenarioTests/PolicyGeneratorTests.policyNamesAreDNSSubdomains",
    "NP-78": "KeycardProbeTests/GenerateTests.flowLinesGenerateWouldMisreadAreRefused, .flowLineCheckReadsEveryField",
    "WL-68": "KeycardScenarioTests/WorkloadTests.tenThousandReplicasAreTenThousandPods, .aGeneratedNameABarePodHoldsIsSkipped",
    "NP-76": "KeycardScenarioTests/PolicyGeneratorTests.aPortIsNamedOnlyWhenEveryPodOfTheGroupNamesItSo",
    "NP-77":
        "KeycardProbeTests/GeneratePeerTests.externalsAndNodesAreIPBlocks, KeycardProbeTests/GeneratePeerKernelTests.externalsAndNodesAreProven (root)",
    "NP-73":
        "KeycardCompilerTests/NodePortCompilerTests.aLoadBalancerAllocatingNoNodePortsServesTheOnesItHolds, KeycardScenarioTests/NodePortServiceTests.exposedProbesAreCheckedAgainstTheService",
    "SIZE-01": "KeycardScenarioTests/InputSizeTests.tenThousandPolicyDumpLoadsChecksAndModels",
    "SIZE-02": "KeycardScenarioTests/InputSizeTests.ordinaryAnchorsAndMergeKeysLoad",
    "SIZE-05": "KeycardScenarioTests/InputSizeTests.mergeKeysFollowGoYAMLv2Order",
    "SIZE-07": "KeycardScenarioTests/RequestSizeLimitTests",
    "SIZE-08":
        "KeycardProbeTests/ProgramEnvironmentExpansionTests.chainedReferencesStopGrowingPastTheKernelLimit, KeycardKernelTests/ProcessSpawnerLimitTests.anOverlongStringIsRefusedByName",
    "OBJ-89": "KeycardScenarioTests/ManifestHeaderTests.anEmptyFileBesideManifestsIsNoObject",
    "SIZE-06": "KeycardScenarioTests/WorkloadTests.invalidWorkloads (more replicas than a lab holds)",
    "POD-30": "KeycardScenarioTests/NodeSelectionTests.aHostnameSelectorPlacesABarePod",
    "POD-50": "KeycardScenarioTests/TerminalPodTests.aFinishedPodIsNoEndpointAndHasNoRecord",
    "POD-52": "KeycardScenarioTests/TerminalPodTests.aNotReadyPodIsNoEndpointUnlessPublished",
    "POD-53": "KeycardScenarioTests/TerminalPodTests.aTerminatingPodIsAnEndpointOnlyWhenNoneIsReady",
    "POD-64": "KeycardScenarioTests/TerminalPodTests.aDumpedUnscheduledPodStaysPending",
    "POD-54":
        "KeycardScenarioTests/ServiceBackendColumnTests.aPodWithoutTheNamedTargetPortIsNoBackendOnThatPort, .theSecondHostNetworkPodAtOneAddressIsNoBackend",
    "OBJ-80": "KeycardScenarioTests/HandWrittenEndpointsTests.anUnmanagedSliceBesideASelectorLeavesTheServiceUnjudged",
    "POD-55": "KeycardProbeTests/ClusterDNSStartupTests.hostNetworkProgramsGetTheResolvConfOfTheirPolicy (root)",
    "POD-56": "KeycardScenarioTests/AppsReviewTests.dnsStepFromTheDNSPodIsRefusedAsDefault",
    "POD-57":
        "KeycardTopologyTests/PodResolvConfTests.clusterFirstAppendsTheNodesSearchDomains, KeycardScenarioTests/DNSStepTests.theNodesSearchDomainsFollowTheClusters",
    "POD-42": "KeycardScenarioTests/NodeSelectionTests.anOSNoLabNodeHasKeepsThePodPending",
    "OBJ-53": "KeycardLabTests/CliLiveManifestsTests.applyAndDeleteTakeANamespace",
    "POD-31": "KeycardScenarioTests/ServiceDNSRecordsTests.podHostnamesUnderTheirSubdomain",
    "POD-36":
        "KeycardScenarioTests/ServiceDNSRecordsTests.endpointNamesUnderAClusterIPService; KeycardModelTests/DNSRecordsTests.endpointNamesUnderAClusterIP",
    "OBJ-30":
        "KeycardScenarioTests/HandWrittenEndpointsTests.anEndpointSliceLeavesTheServiceUnjudged, .anEndpointsObjectLeavesTheServiceUnjudged, .withoutOneTheServiceHasNoEndpoints, .theAPIServersServiceFromADumpIsUnjudged, .dnsNamesFromHandWrittenEndpointsAreNotJudged",
    "SIZE-03": "KeycardScenarioTests/InputSizeTests.aliasBombInALargeFileIsRefused, .aliasBombPaddedWithCommentsIsRefused",
    "SIZE-04":
        "KeycardScenarioTests/HostileCorpusTests (yaml-deep-*, yaml-billion-laughs-*), YAMLFidelityTests.deepButValidNestingAndBracketsInTextLoad",
    "OBJ-34": "KeycardLabTests/CliLiveManifestsTests.repeatedAndCommaSeparatedFilesAreOneChange",
    "OBJ-31":
        "KeycardScenarioTests/TextEncodingTests.invalidSequencesBecomeReplacementCharacters; HostileCorpusTests (yaml-invalid-utf8.yaml, enc-*.yaml)",
    "OBJ-32": "KeycardScenarioTests/ManifestModeTests.folderFilesGoInByteOrderOfTheirNames",
    "OBJ-33": "KeycardScenarioTests/YAMLFidelityTests.signedZeroAndDotFloatsAreGoYAMLNumbers",
    "OBJ-35":
        "KeycardScenarioTests/KubectlFramingTests.loneCarriageReturnFileIsOnePieceAndItsFirstDocumentIsRead, .mixedCRLFAndLFLineEnds",
    "OBJ-36":
        "KeycardScenarioTests/KubectlFramingTests.separatorLineWithContentIsRefused, .separatorWithCommentSeparates, .separatorWithoutBlankFirstIsText, .documentEndMarkerHidesTheRest, .directiveAtFileStartIsRefused, .directiveAfterSeparatorEndsAnEmptyDocument",
    "OBJ-37":
        "KeycardScenarioTests/KubectlFramingTests.jsonThenYAML, .jsonStringKeepsLineSeparator; ManifestNotAnObjectTests.scalarOrListFirstDocument",
    "OBJ-38":
        "KeycardScenarioTests/KubectlFramingTests.yamlOnlyLineBreaksDoNotShiftErrorLines, .controlCharacterIsReportedWhereItIs, .byteOrderMarkTakesNoColumn; HostileCorpusTests (yaml-nul-*.yaml, yaml-control-char.yaml)",
    "OBJ-39":
        "KeycardScenarioTests/ManifestLinkTests.linksInAFolderAreFilesAndNoneIsFollowedIntoAFolder, .aLinkToAFolderGivenItselfIsAFile",
    "OBJ-40":
        "KeycardCommandsTests/StandardInputTests.checkAndModelReadManifestsFromStandardInput, .errorsNameStandardInputWithTheirLine, .aScenarioFromStandardInput",
    "APP-01": "KeycardScenarioTests/RealManifestsTests.everyDocumentDecodes (when ../shared is beside the checkout)",
    "POD-32": "KeycardScenarioTests/APIUpdateRulesTests.aPodUpdateThatChangesItsPortsIsRefused, .aPodUpdateOfLabelsAndImageIsAccepted",
    "POD-33": "KeycardScenarioTests/APIUpdateRulesTests.aNamedTargetPortPrefersTheAppContainerToASidecar",
    "POD-34": "KeycardScenarioTests/APIUpdateRulesTests.emptyStringsTakeTheAPIServersDefaults",
    "NS-06": "KeycardScenarioTests/APIUpdateRulesTests.immortalNamespacesAreNotDeleted",
    "NP-71": "KeycardScenarioTests/RetainedPolicyTypesTests",
    "NP-72":
        "KeycardCommandsTests/RulesHostNetworkTests; KeycardLabTests/CliUpHostNetworkTiersTests.upProgramsANodeRunningTwoHostNetworkPods",
    "OBJ-54": "KeycardScenarioTests/AppliedLabelsTests",
    "NS-07": "KeycardScenarioTests/HostileCorpusTests (ns-legacy-isolation-annotation.yaml)",
    "NP-68": "KeycardScenarioTests/YAMLKeysAndTagsTests.plainKeysAreTheStringsKubectlMakes, .keysThatBecomeOneOrNullAreRefused",
    "NP-69": "KeycardScenarioTests/YAMLKeysAndTagsTests.taggedValuesAreWhatGoYAMLMakesOfThem, .explicitTagsAreHonoured",
    "WL-14": "KeycardScenarioTests/APIUpdateRulesTests.aManualSelectorJobsPodsCarryNoGeneratedLabels",
    "WL-15": "KeycardScenarioTests/APIUpdateRulesTests.emptyStringsTakeTheAPIServersDefaults",
    "WL-22": "KeycardScenarioTests/WorkloadAdoptionTests.orphanCountsAsAReplica, .newestAdoptedPodIsTheOneTooMany",
    "WL-23": "KeycardScenarioTests/WorkloadTests.indexedCronJob",
    "WL-24": "KeycardScenarioTests/HostileCorpusTests.loaderRefusesAtTheRightSpot (wl-job-*.yaml)",
    "WL-25": "KeycardScenarioTests/HostileCorpusTests.loaderRefusesAtTheRightSpot (wl-*-active-deadline.yaml)",
    "WL-27": "KeycardScenarioTests/WorkloadTests.statefulSetPartitionKeepsLowerOrdinals",
    "WL-57":
        "KeycardScenarioTests/ControllerSelectorUpdateTests.aChangedSelectorReleasesThePodsItMisses, .aReleasedPodIsAdoptedByAnotherController, .aReplicaSetSelectorChangeIsRefusedAtTheSelector",
    "WL-58": "KeycardScenarioTests/ControllerSelectorUpdateTests.aDefaultedSelectorIsKept",
    "WL-59": "KeycardScenarioTests/WorkloadTimelineTests.everyTemplateFieldRollsOut",
    "WL-60": "KeycardScenarioTests/WorkloadAdoptionTests.finishedOrTerminatingPodsAreNotAdopted",
    "WL-61": "KeycardScenarioTests/WorkloadTests.longIndexedJobNameKeepsTheIndex",
    "WL-62": "KeycardScenarioTests/WorkloadTests.manualSelectorJobAdoptsBarePods",
    "WL-65": "KeycardScenarioTests/JobUpdateTests.anImmutableFieldChangeIsRefusedAtTheStep, .anIndexedJobScalesCompletionsWithParallelism",
    "WL-66":
        "KeycardScenarioTests/JobUpdateTests.aNeverStartedJobMayChangeItsTemplateLabelsWhenResumed, .otherTemplateChangesStayRefused, .aJobSuspendedAfterRunningKeepsItsTemplate",
    "WL-67":
        "KeycardScenarioTests/CronJobEditTests.editsAndSuspendKeepTheStartedJobsPods, .aSuspendedCronJobStartsItsJobFromTheTemplateWhenResumed",
    "OBJ-64":
        "KeycardScenarioTests/ControllerSelectorUpdateTests.aRemovedSelectorLeavesTheSlicesAsTheyWere, .aDeletedPodLeavesTheRetainedEndpoints",
    "CTR-22":
        "KeycardScenarioTests/HostileCorpusTests.loaderRefusesAtTheRightSpot (pod-tgps-string.yaml, pod-automount-string.yaml, pod-emptydir-sizelimit-GiB.yaml, ok-pod-spec-field-types.yaml)",
    "CTR-21":
        "KeycardScenarioTests/HostileCorpusTests.loaderRefusesAtTheRightSpot (ctr-probe-*.yaml, ctr-lifecycle-*.yaml, ok-ctr-probe-sidecar.yaml)",
    "OBJ-50": "KeycardScenarioTests/HandWrittenEndpointsTests.anInvalidOneIsRefused",
    "OBJ-49": "KeycardModelTests/PreferSameNodeTests.aNodesClientsReachItsOwnEndpointsOrAllWhenItHasNone",
    "OBJ-48": "KeycardModelTests/UnproxiedServiceTests.aServiceAnotherProxyServesHasNoEndpoints",
    "OBJ-21": "KeycardScenarioTests/AppsReviewTests.repeatedObjectIsAnUpdate, .allowedUpdateStillConfigures",
    "OBJ-22": "KeycardScenarioTests/AppsReviewTests.serviceCIDRFitsTheDump",
    "OBJ-23": "KeycardScenarioTests/AppsReviewTests.dnsPolicyDefaultAndNoneAskNoClusterDNS, .dnsStepFromAPodThatAsksElsewhere",
    "OBJ-24": "KeycardScenarioTests/AppsReviewTests.dnsPolicyValidation, .dnsPolicyIsImmutable",
    "OBJ-25": "KeycardScenarioTests/AppsReviewTests.foreignNetworkPolicies",
    "OBJ-27": "KeycardScenarioTests/HostileCorpusTests.loaderRefusesAtTheRightSpot (svc-session-affinity-config-with-none.yaml: ok)",
    "OBJ-67":
        "KeycardScenarioTests/DNSStepTests.aTruncatedAnswerIsJudgedOnTCPToo; KeycardScenarioTests/LintDNSOverTCPTests; KeycardModelTests/DNSRecordsTests.answerSizeAsOnTheWire; KeycardProbeTests/ClusterDNSKernelTests.truncatedAnswersAskAgainOverTCP",
    "OBJ-68":
        "KeycardModelTests/DNSRecordsTests.podNamesUnderPodsInsecure, .podRecords; KeycardProbeTests/ClusterDNSKernelTests.answersRefreshesAndLeavesNothing",
    "OBJ-69":
        "KeycardScenarioTests/DNSStepTests.theDNSPodAndServiceDeclareMetrics; KeycardProbeTests/ClusterDNSKernelTests.truncatedAnswersAskAgainOverTCP",
    "OBJ-60":
        "KeycardScenarioTests/DNSStepTests.useVCIsJudgedOnTCP; KeycardProbeTests/ClusterDNSKernelTests.useVCAsksOverTCP; KeycardValuesTests/ResolvConfTests.resolverOptions",
    "OBJ-26":
        "KeycardProbeTests/ClusterDNSKernelTests.resolvConfByDNSPolicy; KeycardScenarioTests/AppsReviewTests.dnsPolicyValidation, .dnsConfigAccepted; KeycardTopologyTests/PodResolvConfTests.defaultAppendsDNSConfigToTheNodesFile; KeycardValuesTests/ResolvConfTests.nodeFileAsTheKubeletParsesIt",
]
