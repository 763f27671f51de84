import KeycardModel
import KeycardValues

/// The pod annotations Istio's sidecar injector checks before it renders the sidecar (istio/istio
/// `pkg/kube/inject/validate.go` `AnnotationValidation`, run by `validateAnnotations` from
/// `RunTemplate`): when one does not parse, injection fails and the admission webhook denies the
/// pod's creation. Only a pod the injector injects meets these checks (`ClusterChange` runs them
/// when it gives a new pod a sidecar); pods outside the mesh, ambient pods and pods injected
/// before (a dump with `sidecar.istio.io/status`) do not.
///
/// Checked as Go checks them:
/// - `sidecar.istio.io/interceptionMode`: exactly `REDIRECT`, `TPROXY` or `NONE`.
/// - `status.sidecar.istio.io/port`: one port (`parsePort`: `strconv.ParseUint` of the trimmed
///   value, base 10, 16 bits: 0–65535, digits only).
/// - `readiness.status.sidecar.istio.io/initialDelaySeconds`, `periodSeconds`, `failureThreshold`:
///   `strconv.ParseUint(value, 10, 32)` (untrimmed).
/// - `traffic.sidecar.istio.io/includeOutboundIPRanges` (`*` or a list) and
///   `excludeOutboundIPRanges` (a list): empty, or comma-separated `netip.ParsePrefix` blocks,
///   untrimmed, IPv4 or IPv6 (`CIDR.parse`; a bare address, an empty entry or a space fails).
/// - `traffic.sidecar.istio.io/includeInboundPorts` (`*` or a list), `excludeInboundPorts`,
///   `excludeOutboundPorts`: the trimmed value empty, or comma-separated `parsePort` entries.
/// - `traffic.sidecar.istio.io/excludeInterfaces`, `kubevirtInterfaces`,
///   `istio.io/reroute-virtual-interfaces`: empty, or comma-separated trimmed names of 1–15
///   characters matching `^[a-zA-Z][a-zA-Z0-9_.\-]*$` (`pkg/util/net` `ValidateInterfaceNames`).
/// - `prometheus.istio.io/merge-metrics`: `strconv.ParseBool`.
/// - `sidecar.istio.io/proxyCPU`, `proxyMemory`, `proxyCPULimit`, `proxyMemoryLimit`: no control
///   character, and a resource quantity (`resource.ParseQuantity`, untrimmed).
/// - `proxy.istio.io/config` (a ProxyConfig in YAML, then `ValidateMeshConfigProxyConfig`) is the
///   one check keycard does not make: `unchecked` names it, and the caller warns.
enum SidecarInjectorAnnotations {
    /// The annotation whose check keycard does not make.
    static let unchecked = "proxy.istio.io/config"

    /// Each checked annotation and its check: nil when the value passes, else Go's reason.
    static let checks: [String: @Sendable (String) -> String?] = [
        SidecarCapture.Annotation.interceptionMode: { value in
            ["REDIRECT", "TPROXY", "NONE"].contains(value) ? nil : "interceptionMode invalid, use REDIRECT,TPROXY,NONE: \(value)"
        },
        "status.sidecar.istio.io/port": { value in
            SidecarCapture.port(value) == nil ? "excludeInboundPorts invalid: \(portFailure(value))" : nil
        },
        "readiness.status.sidecar.istio.io/initialDelaySeconds": { unsigned32($0) },
        "readiness.status.sidecar.istio.io/periodSeconds": { unsigned32($0) },
        "readiness.status.sidecar.istio.io/failureThreshold": { unsigned32($0) },
        SidecarCapture.Annotation.includeOutboundIPRanges: { value in
            value == "*" ? nil : blockList(value).map { "includeIPRanges invalid: \($0)" }
        },
        SidecarCapture.Annotation.excludeOutboundIPRanges: { value in blockList(value).map { "excludeIPRanges invalid: \($0)" } },
        SidecarCapture.Annotation.includeInboundPorts: { value in value == "*" ? nil : portList("includeInboundPorts", value) },
        SidecarCapture.Annotation.excludeInboundPorts: { portList("excludeInboundPorts", $0) },
        SidecarCapture.Annotation.excludeOutboundPorts: { portList("excludeOutboundPorts", $0) },
        "traffic.sidecar.istio.io/excludeInterfaces": { interfaceNames($0) },
        "traffic.sidecar.istio.io/kubevirtInterfaces": { interfaceNames($0) },
        "istio.io/reroute-virtual-interfaces": { interfaceNames($0) },
        "prometheus.istio.io/merge-metrics": { value in
            IstioDryRun.parseBool(value) == nil ? "strconv.ParseBool: parsing \"\(value)\": invalid syntax" : nil
        },
        "sidecar.istio.io/proxyCPU": { quantity($0) },
        "sidecar.istio.io/proxyMemory": { quantity($0) },
        "sidecar.istio.io/proxyCPULimit": { quantity($0) },
        "sidecar.istio.io/proxyMemoryLimit": { quantity($0) },
    ]

    /// The annotations of `annotations` the injector refuses, by name, each with its message
    /// (`invalid value '<value>' for annotation '<name>': <reason>`, as the injector says it).
    static func refusals(_ annotations: [String: String]) -> [(name: String, message: String)] {
        annotations.keys.sorted().compactMap { name in
            guard let check = checks[name], let value = annotations[name], let reason = check(value) else { return nil }
            return (name, "invalid value '\(value)' for annotation '\(name)': \(reason)")
        }
    }

    private static func portFailure(_ entry: String) -> String {
        let trimmed = SidecarCapture.goTrimmed(entry)
        let digits = !trimmed.isEmpty && trimmed.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return
            "failed parsing port '\(entry)': strconv.ParseUint: parsing \"\(trimmed)\": \(digits ? "value out of range" : "invalid syntax")"
    }

    /// `validatePortList`: nil when every entry is a port.
    private static func portList(_ parameter: String, _ value: String) -> String? {
        guard let bad = SidecarCapture.portEntries(value).first(where: { SidecarCapture.port($0) == nil }) else { return nil }
        return "\(parameter) invalid: \(portFailure(bad))"
    }

    /// `validateCIDRList`: nil when the value is empty or every entry is a prefix.
    private static func blockList(_ value: String) -> String? {
        guard !value.isEmpty else { return nil }
        let entries = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let bad = entries.first(where: { CIDR.parse($0) == nil }) else { return nil }
        return "failed parsing cidr '\(bad)'"
    }

    private static func unsigned32(_ value: String) -> String? {
        if SidecarCapture.goUnsigned(value, bits: 32) != nil { return nil }
        let digits = !value.isEmpty && value.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return "strconv.ParseUint: parsing \"\(value)\": \(digits ? "value out of range" : "invalid syntax")"
    }

    private static func interfaceNames(_ value: String) -> String? {
        guard !value.isEmpty else { return nil }
        for entry in value.split(separator: ",", omittingEmptySubsequences: false) {
            let name = SidecarCapture.goTrimmed(String(entry))
            if name.isEmpty { return "empty interface name" }
            if name.utf8.count > 15 { return "interface name \"\(name)\" too long (max 15 chars)" }
            let bytes = Array(name.utf8)
            let letter: (UInt8) -> Bool = { (65...90).contains($0) || (97...122).contains($0) }
            let rest: (UInt8) -> Bool = { letter($0) || (48...57).contains($0) || $0 == 95 || $0 == 46 || $0 == 45 }
            if !letter(bytes[0]) || !bytes.dropFirst().allSatisfy(rest) { return "interface name \"\(name)\" contains invalid characters" }
        }
        return nil
    }

    private static func quantity(_ value: String) -> String? {
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "value contains control characters"
        }
        // ParseQuantity does not trim; `Quantity` reads the trimmed text, so a space is refused here.
        if value.first?.isWhitespace == true || value.last?.isWhitespace == true || Quantity.isNegative(value) == nil {
            return "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        }
        return nil
    }
}
